"""`pip install generated/python` into a fresh virtual environment works, and
the installed package imports (from the installed copy, not the tree)."""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pip_install_into_a_fresh_venv(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            str(ROOT / "generated" / "python"),
        ],
        check=True,
        timeout=600,
    )
    script = "import mattermost_plugin, sys; print(mattermost_plugin.__file__); print(mattermost_plugin.Plugin.__name__)"
    result = subprocess.run(
        [str(python), "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    location, name = result.stdout.split()
    assert Path(location).is_relative_to(env_dir), location
    assert name == "Plugin"

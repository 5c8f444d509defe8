"""The guide shipped with the package (`generated/python/README.md`): its
Python example passes `mypy --strict` against the SDK and runs as a plugin
module, and its manifest example names the entry script where the launcher
looks for it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "generated" / "python"
README = PACKAGE / "README.md"


def blocks(language: str) -> list[str]:
    """The fenced code blocks of the README in `language`."""
    text = README.read_text()
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def test_the_python_example_type_checks_and_imports(tmp_path: Path) -> None:
    examples = blocks("python")
    assert examples, "the README has a Python example"
    files = []
    for i, source in enumerate(examples):
        path = tmp_path / f"example_{i}.py"
        path.write_text(source)
        files.append(str(path))
    env = dict(os.environ, MYPYPATH=str(PACKAGE), PYTHONPATH=str(PACKAGE))
    cache = str(ROOT / ".venv" / "mypy-cache")
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", cache, *files],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # Importing a plugin module does nothing but define the plugin.
    for name in files:
        imported = subprocess.run(
            [sys.executable, "-c", f"import runpy; runpy.run_path({name!r}, run_name='example')"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert imported.returncode == 0, imported.stderr


def test_the_manifest_example_names_the_entry_script() -> None:
    (manifest,) = [json.loads(b) for b in blocks("json")]
    assert manifest["props"]["python"]["main"] == "plugin.py"
    for key in ("id", "name", "version"):
        assert manifest[key]

"""The synthetic proto set of the regeneration benchmark (bench/synth.py) is a
tree mm-bindgen generates from: the benchmark breaks the day a target starts
refusing it, and this test says so first, without running the benchmark."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_spec = importlib.util.spec_from_file_location("synth", ROOT / "bench" / "synth.py")
assert _spec is not None and _spec.loader is not None
synth = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synth)


def test_the_synthetic_set_generates(tmp_path: Path) -> None:
    tree = tmp_path / "proto"
    written = synth.synthesize(ROOT / "proto", tree, factor=3)
    real = synth.proto_files(ROOT / "proto")
    # The real set as it is, plus two renamed copies of all but the options.
    assert len(written) == len(real) + 2 * (len(real) - len(synth.SHARED))
    for rel in real:
        assert (tree / rel).read_bytes() == (ROOT / "proto" / rel).read_bytes(), rel

    binary = Path(os.environ.get("MM_BINDGEN", ROOT / "target" / "release" / "mm-bindgen"))
    out = tmp_path / "out"
    result = subprocess.run(
        [str(binary), "--proto", str(tree), "--out", str(out), "--skip-plugins", "generate"],
        cwd=tmp_path,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    # Each copy's converters and docs are there, the bridge once.
    assert (out / "go" / "bridge" / "convert_model_post.go").is_file()
    assert (out / "go" / "bridge" / "convert_c03_model_post.go").is_file()
    assert len(list((out / "go" / "bridge").glob("api_client*.go"))) == 1

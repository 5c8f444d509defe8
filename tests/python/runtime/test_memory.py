"""Resident memory of 16 MiB bodies (each way) through each streaming path,
in a fresh process (children/memory.py): what gRPC's own buffers hold
counts too, which tracemalloc does not see. Client and server share the
process, so both sides count."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import subprocess_env

LIMIT_KIB = 4 * 1024  # a quarter of one body


@pytest.mark.parametrize("path", ["serve_http", "upload", "plugin_http"])
def test_peak_rss_grows_far_less_than_the_body(path: str) -> None:
    child = subprocess.run(
        [sys.executable, str(Path(__file__).parent / "children" / "memory.py"), path],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["growth_kib"] < LIMIT_KIB, result

"""No module of the runtime does anything at import besides definitions."""

from __future__ import annotations

import subprocess
import sys

from conftest import RUNTIME, subprocess_env

RUNTIME_MODULES = sorted(p.stem for p in RUNTIME.glob("*.py"))


def test_imports_have_no_side_effects() -> None:
    modules = ", ".join(f"mattermost_plugin.{m}" for m in RUNTIME_MODULES)
    script = f"""
import logging, sys, threading
before = set(threading.enumerate())
import {modules}
assert set(threading.enumerate()) == before, "threads started"
assert logging.getLogger().handlers == [], "logging configured"
assert sys.stdout is sys.__stdout__
print("clean")
"""
    child = subprocess.run(
        [sys.executable, "-c", script],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert child.stdout.strip() == "clean", child.stderr

"""The package under test: in generated/python, its runtime modules are the
sources of runtime/python (with mm-bindgen's header); and no module of the
runtime does anything at import besides definitions."""

from __future__ import annotations

import subprocess
import sys

import pkgbuild
import pytest
from conftest import PACKAGE_ROOT, subprocess_env

RUNTIME_MODULES = sorted(p.stem for p in pkgbuild.RUNTIME.glob("*.py"))


def _without_header(text: str) -> str:
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines) and lines[i].startswith("#"):
        i += 1
    if i < len(lines) and lines[i].strip() == "":
        i += 1
    return "".join(lines[i:])


@pytest.mark.skipif(not pkgbuild.use_generated(), reason="testing the scratch build of runtime/")
@pytest.mark.parametrize("name", RUNTIME_MODULES)
def test_generated_runtime_is_the_source(name: str) -> None:
    copy = PACKAGE_ROOT / "mattermost_plugin" / f"{name}.py"
    source = pkgbuild.RUNTIME / f"{name}.py"
    assert copy.exists(), f"{copy} is missing: run mm-bindgen"
    assert _without_header(copy.read_text()) == source.read_text(), (
        f"{copy} is stale: run mm-bindgen (or MM_PYRT_SCRATCH=1 to test the sources)"
    )


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

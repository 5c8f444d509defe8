"""Test setup of the runtime: puts the generated `mattermost_plugin` package
(whose runtime modules are the sources of runtime/python; `mm-bindgen check`
keeps them equal) first on sys.path, and runs `async def` tests in one event
loop (no plugin needed)."""

from __future__ import annotations

import asyncio
import inspect
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGE_ROOT = ROOT / "generated" / "python"
RUNTIME = ROOT / "runtime" / "python" / "mattermost_plugin"

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(PACKAGE_ROOT))

ASYNC_TEST_TIMEOUT = 60.0


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment of a child Python that imports the package under
    test (and nothing of the plugin launcher's variables unless given)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MM_PLUGIN_", "PLUGIN_")) and k != "MATTERMOST_PLUGIN"
    }
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_ROOT), str(Path(__file__).parent)])
    env.update(extra)
    return env


_loop: asyncio.AbstractEventLoop | None = None


def _test_loop() -> asyncio.AbstractEventLoop:
    # One loop for every async test, as a plugin process has one: grpc.aio
    # keeps per-loop state that outlives a loop closed under it.
    global _loop
    if _loop is None:
        _loop = asyncio.new_event_loop()
    return _loop


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Runs a coroutine test function to completion in the test loop."""
    function = pyfuncitem.obj
    if not inspect.iscoroutinefunction(function):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    loop = _test_loop()
    task = loop.create_task(function(**kwargs))
    loop.run_until_complete(asyncio.wait_for(task, ASYNC_TEST_TIMEOUT))
    return True


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Closes the test loop."""
    if _loop is not None and not _loop.is_closed():
        _loop.run_until_complete(_loop.shutdown_asyncgens())
        _loop.close()


@pytest.fixture
def package_root() -> Iterator[Path]:
    """The directory that holds the package under test."""
    yield PACKAGE_ROOT

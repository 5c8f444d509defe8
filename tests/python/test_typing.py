"""mypy --strict checks plugins against the generated SDK: a correct plugin
passes, and a wrong hook signature, a wrong hook result and a client call
with a wrong argument type are rejected."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "generated" / "python"

GOOD = """
from mattermost_plugin import Plugin, Reject, run
from mattermost_plugin.model import Post, PluginContext


class Good(Plugin):
    def message_will_be_posted(self, c: PluginContext, post: Post) -> Post | Reject | None:
        if "forbidden" in post.message:
            return Reject("no forbidden words")
        user = self.api.get_user(post.user_id)
        self.api.log_info("posted", "user", user.username)
        return None

    async def on_activate(self) -> None:
        await self.async_api.kv_set("activated", b"yes")


if __name__ == "__main__":
    run(Good)
"""

BAD_HOOK = """
from mattermost_plugin import Plugin
from mattermost_plugin.model import Post


class BadHook(Plugin):
    def message_will_be_posted(self, post: Post) -> None:
        return None
"""

BAD_RESULT = """
from mattermost_plugin import Plugin
from mattermost_plugin.model import PluginContext, Post


class BadResult(Plugin):
    def message_will_be_posted(self, c: PluginContext, post: Post) -> str:
        return "rejected"
"""

BAD_CALL = """
from mattermost_plugin import PluginAPI


def use(api: PluginAPI) -> None:
    api.get_user(42)
"""


def test_mypy_accepts_a_plugin_and_rejects_wrong_ones(tmp_path: Path) -> None:
    cases = {"good": GOOD, "bad_hook": BAD_HOOK, "bad_result": BAD_RESULT, "bad_call": BAD_CALL}
    for name, source in cases.items():
        (tmp_path / f"{name}.py").write_text(source)
    env = dict(os.environ, MYPYPATH=str(PACKAGE))
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--strict",
        "--cache-dir",
        str(ROOT / ".venv" / "mypy-cache"),
    ]
    files = [str(tmp_path / f"{name}.py") for name in cases]
    result = subprocess.run(
        [*command, *files], env=env, capture_output=True, text=True, check=False
    )
    errors: dict[str, list[str]] = {name: [] for name in cases}
    for line in result.stdout.splitlines():
        match = re.match(r".*/(\w+)\.py:\d+: error: (.*)", line)
        if match:
            errors[match.group(1)].append(match.group(2))
    assert errors["good"] == [], result.stdout
    assert any("[override]" in e and "message_will_be_posted" in e for e in errors["bad_hook"]), (
        result.stdout
    )
    assert any("[override]" in e for e in errors["bad_result"]), result.stdout
    assert any("[arg-type]" in e and "get_user" in e for e in errors["bad_call"]), result.stdout


def test_hook_annotations_resolve_at_run_time() -> None:
    # Frameworks and documentation tools read annotations with
    # typing.get_type_hints; every hook's must resolve.
    import inspect
    import typing

    from mattermost_plugin import HookName, Plugin

    names = {n for n, _ in inspect.getmembers(Plugin, inspect.isfunction) if not n.startswith("_")}
    hooks = [n for n in names if any(n == h.name.lower() or _snake(h.name) == n for h in HookName)]
    assert len(hooks) == len(HookName), sorted(names)
    for name in hooks:
        hints = typing.get_type_hints(getattr(Plugin, name))
        assert "return" in hints, name


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])|(?<=[A-Z])([A-Z])(?=[a-z])", r"_\1\2", name).lower()

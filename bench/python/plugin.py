"""The Python plugin of the hook and start benchmarks (scripts/bench).

MessageWillBePosted returns the post with its message in capitals, as
bridgebench.Hooks does in Go. BENCH_HANDLER=async serves it from an
`async def` handler, anything else from a `def` one.
"""

from __future__ import annotations

import os

from mattermost_plugin import Plugin, run
from mattermost_plugin.model import PluginContext, Post


class SyncPlugin(Plugin):
    def message_will_be_posted(self, c: PluginContext, post: Post) -> Post:
        post.message = post.message.upper()
        return post


class AsyncPlugin(Plugin):
    async def message_will_be_posted(self, c: PluginContext, post: Post) -> Post:
        post.message = post.message.upper()
        return post


if __name__ == "__main__":
    run(AsyncPlugin if os.environ.get("BENCH_HANDLER") == "async" else SyncPlugin)

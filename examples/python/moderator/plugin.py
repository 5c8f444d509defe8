"""An example Python plugin: a post gate, a slash command and an HTTP endpoint.

Bundle it for a stock server with `python -m mattermost_plugin bundle examples/python/moderator
--shim-package tests/conformance/go/stockserver/shim` (see the README).
"""

from __future__ import annotations

import hashlib
import time

from mattermost_plugin import (
    HTTPRequest,
    PluginAPIError,
    Reject,
    ResponseWriter,
    run,
)
from mattermost_plugin import Plugin as _Plugin
from mattermost_plugin.model import CommandArgs, CommandResponse, PluginContext, Post

CHUNK = 64 * 1024


class Moderator(_Plugin):
    def on_configuration_change(self) -> None:
        self.api.kv_set("configured", b"yes")

    def on_activate(self) -> None:
        self.api.log_info("moderator activated", "plugin", self.plugin_id)

    def message_will_be_posted(self, c: PluginContext, post: Post) -> Post | Reject | None:
        if "spam" in post.message:
            return Reject("no spam here")
        if "darn" in post.message:
            post.message = post.message.replace("darn", "d**n")
            return post
        return None

    def execute_command(self, c: PluginContext, args: CommandArgs) -> CommandResponse:
        words = args.command.split()
        if words[1:2] == ["count"]:
            raw = self.api.kv_get("count")
            count = int(raw or b"0") + 1
            self.api.kv_set("count", str(count).encode())
            created = self.api.create_post(
                Post(channel_id=args.channel_id, user_id=args.user_id, message=f"count {count}")
            )
            return CommandResponse(text=f"{count} {created.id}")
        if words[1:2] == ["whois"]:
            try:
                user = self.api.get_user(words[2] if len(words) > 2 else "")
            except PluginAPIError as e:
                return CommandResponse(text=f"error {e.status_code} {e.id}")
            return CommandResponse(text=user.username)
        if words[1:2] == ["bench"]:
            times = []
            for _ in range(int(words[2])):
                start = time.perf_counter_ns()
                self.api.kv_get("count")
                times.append((time.perf_counter_ns() - start) // 1000)
            times.sort()
            return CommandResponse(text=f"{times[len(times) // 2]} {times[len(times) * 99 // 100]}")
        return CommandResponse(text=f"unknown: {args.command}")

    def serve_http(self, c: PluginContext, w: ResponseWriter, r: HTTPRequest) -> None:
        if r.url.startswith("/echo"):
            digest = hashlib.sha256()
            size = 0
            for chunk in r:
                digest.update(chunk)
                size += len(chunk)
            w.headers["X-Size"] = str(size)
            w.write_header(200)
            w.write(digest.hexdigest().encode())
            return
        if r.url.startswith("/big"):
            w.headers["Content-Type"] = "application/octet-stream"
            block = bytes(range(256)) * (CHUNK // 256)
            for _ in range(256):  # 16 MiB
                w.write(block)
            return
        w.write_header(404)


if __name__ == "__main__":
    run(Moderator)

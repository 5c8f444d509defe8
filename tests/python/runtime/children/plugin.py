"""A trivial plugin run by `run`, with the generated hooks and servicer:
what a plugin author writes."""

from __future__ import annotations

import time

STARTED = time.monotonic()

from mattermost_plugin._dispatch import FileReplacement, Reject, UploadStream
from mattermost_plugin._http import HTTPRequest, ResponseWriter
from mattermost_plugin._process import run
from mattermost_plugin.hooks import Plugin
from mattermost_plugin.pb.mattermost.plugin.v1.common_pb2 import PluginContext
from mattermost_plugin.pb.mattermost.plugin.v1.model_file_pb2 import FileInfo
from mattermost_plugin.pb.mattermost.plugin.v1.model_post_pb2 import Post

IMPORTED = time.monotonic()


class Censor(Plugin):
    def __init__(self) -> None:
        # api, async_api, plugin_id and logger are there already.
        self.logger.info(
            "constructed",
            extra={"plugin": self.plugin_id, "import_ms": (IMPORTED - STARTED) * 1000},
        )
        self.ready = type(self.api).__name__ + "/" + type(self.async_api).__name__

    def on_activate(self) -> None:
        print("activated")  # goes to the log, not to stdout

    def message_will_be_posted(self, c: PluginContext, post: Post) -> Post | Reject:
        if "spam" in post.message:
            return Reject("no spam")
        return Post(message=post.message + " [" + self.ready + "]")

    async def serve_http(self, c: PluginContext, w: ResponseWriter, r: HTTPRequest) -> None:
        w.headers.add("X-Path", r.path)
        w.headers.add("X-Path", c.request_id)
        w.write_header(202)
        async for chunk in r:
            await w.awrite(chunk.upper())

    def file_will_be_uploaded(
        self, c: PluginContext, info: FileInfo, file: UploadStream
    ) -> FileReplacement:
        return FileReplacement(
            info=FileInfo(name=info.name + ".upper"), content=(b.upper() for b in file)
        )


if __name__ == "__main__":
    run(Censor)

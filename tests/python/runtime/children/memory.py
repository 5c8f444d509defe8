"""Peak RSS of 16 MiB bodies through each streaming path, in a fresh
process: a small warm-up exchange first (so that imports, threads and
gRPC's buffers are in place), then the 16 MiB one; prints the growth of the
peak RSS (ru_maxrss) across it, in KiB, as JSON."""

from __future__ import annotations

import asyncio
import json
import resource
import sys
from typing import Any

from helpers import Digest, MiB, Pattern
from mattermost_plugin._http import HTTPRequest
from mattermost_plugin._transport import AsyncCalls, aconnect
from mattermost_plugin.pb.mattermost.plugin.v1 import plugin_api_pb2


def peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def serve_http(size: int) -> None:
    import test_serve_http as t

    hook = t.Hook()
    hook.handler = t.echo_sync
    async for stub in t.connect(hook):
        pattern = Pattern(size)
        result = await t.exchange(stub(), t.head_frame(), pattern.chunks(), keep=False)
        assert result.body.hexdigest() == pattern.expected()


async def upload(size: int) -> None:
    import test_upload as t

    from mattermost_plugin._dispatch import FileReplacement

    hook = t.Hook(timeout=60)

    def handler(c: Any, info: Any, file: Any) -> Any:
        return FileReplacement(content=t.upper(file))

    hook.handler = handler
    answer = await t.upload(hook, Pattern(size).chunks(), keep=False)
    assert answer.output.size == size


async def plugin_http(size: int) -> None:
    import test_transport as t

    from helpers import aio_server

    async with aio_server(t.handlers()) as address:
        channel = aconnect(address)
        pattern = Pattern(size)
        response = await AsyncCalls(timeout=60).http(
            t.Stubs(channel).PluginHTTP,
            HTTPRequest("POST", "/echo", body=pattern.chunks()),
            plugin_api_pb2.PluginHTTPRequest,
            "request",
            "response",
            None,
            "PluginHTTP",
        )
        digest = Digest()
        async for chunk in response:
            digest.update(chunk)
        assert digest.hexdigest() == pattern.expected()
        await channel.close(None)


async def main(path: str) -> None:
    run = {"serve_http": serve_http, "upload": upload, "plugin_http": plugin_http}[path]
    await run(1 * MiB)
    before = peak_kib()
    await run(16 * MiB)
    print(json.dumps({"path": path, "before_kib": before, "growth_kib": peak_kib() - before}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))

"""`file_will_be_uploaded` behind a real grpc.aio server, driven the way the
Go `exchangeChunks` drives it: the upload sent in chunks (then a
half-close) while the answer is read: output frames, then the last frame
with the results."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import grpc.aio
import pytest

from helpers import (
    Digest,
    MiB,
    Pattern,
    aio_server,
    method_handler,
    multicallable,
    service,
    traced_peak,
)
from mattermost_plugin._dispatch import (
    Dispatcher,
    FileReplacement,
    Reject,
    UploadStream,
    file_will_be_uploaded,
)
from mattermost_plugin._transport import CHUNK_SIZE, aconnect
from mattermost_plugin.pb.mattermost.plugin.v1 import common_pb2, plugin_hooks_pb2
from mattermost_plugin.pb.mattermost.plugin.v1.model_file_pb2 import FileInfo

hooks = plugin_hooks_pb2
PluginContext = common_pb2.PluginContext


class Hook:
    def __init__(self, timeout: float | None = 5.0) -> None:
        self.dispatcher = Dispatcher(timeout)
        self.handler: Callable[..., Any] = lambda c, info, upload: None

    async def serve(
        self,
        requests: AsyncIterator[hooks.FileWillBeUploadedRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[hooks.FileWillBeUploadedResponse]:
        frames = file_will_be_uploaded(
            self.dispatcher,
            "FileWillBeUploaded",
            self.handler,
            requests,
            context,
            context_field="context",
            info_field="info",
            file_field="file",
            response_type=hooks.FileWillBeUploadedResponse,
            output_field="output",
            info_result_field="replacement_info",
            reject_field="rejection_reason",
        )
        async for frame in frames:
            yield frame

    def handlers(self) -> list[grpc.GenericRpcHandler[Any, Any]]:
        return [
            service(
                "test.Hooks",
                {
                    "FileWillBeUploaded": method_handler(
                        "stream_stream",
                        self.serve,
                        hooks.FileWillBeUploadedRequest,
                        hooks.FileWillBeUploadedResponse,
                    )
                },
            )
        ]


@dataclass
class Answer:
    output: Digest = field(default_factory=Digest)
    data: bytearray = field(default_factory=bytearray)
    last: hooks.FileWillBeUploadedResponse | None = None
    frames: int = 0
    error: grpc.aio.AioRpcError | None = None


async def upload(
    hook: Hook, content: Iterable[bytes], info: FileInfo | None = None, keep: bool = True
) -> Answer:
    """Sends the upload as exchangeChunks does (first chunk with the context
    and info, half-close after the last) while reading the answer."""
    answer = Answer()
    async with aio_server(hook.handlers()) as address:
        channel = aconnect(address)  # windows as the Go side sets them
        stub = multicallable(
            channel,
            "stream_stream",
            "/test.Hooks/FileWillBeUploaded",
            hooks.FileWillBeUploadedRequest,
            hooks.FileWillBeUploadedResponse,
        )
        call = stub()

        async def send() -> None:
            try:
                chunks = iter(content)
                first = hooks.FileWillBeUploadedRequest(
                    context=PluginContext(session_id="s1"),
                    info=info or FileInfo(name="a.txt", size=3),
                    file=next(chunks, b""),
                )
                await call.write(first)
                for chunk in chunks:
                    await call.write(hooks.FileWillBeUploadedRequest(file=chunk))
                await call.done_writing()
            except (asyncio.InvalidStateError, grpc.RpcError):
                pass

        sender = asyncio.ensure_future(send())
        try:
            async for message in call:
                answer.frames += 1
                if answer.last is not None:
                    # Only the last frame carries results: the previous one
                    # must have been a pure output frame.
                    assert not answer.last.HasField("replacement_info")
                    assert not answer.last.rejection_reason
                    assert answer.last.output
                answer.last = message
                assert len(message.output) <= CHUNK_SIZE
                answer.output.update(message.output)
                if keep:
                    answer.data += message.output
        except grpc.aio.AioRpcError as err:
            answer.error = err
        await sender
        await channel.close(None)
    if answer.error is None:
        assert answer.last is not None and not answer.last.output
    return answer


def upper(chunks: Iterable[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk.upper()


async def test_keep_reject_and_replace_metadata() -> None:
    hook = Hook()
    seen: dict[str, Any] = {}

    def keep(c: PluginContext, info: FileInfo, file: UploadStream) -> None:
        seen.update(session=c.session_id, name=info.name, body=file.read())

    hook.handler = keep
    answer = await upload(hook, [b"abc", b"def"])
    assert seen == {"session": "s1", "name": "a.txt", "body": b"abcdef"}
    assert answer.frames == 1 and answer.last is not None
    assert answer.last == hooks.FileWillBeUploadedResponse()

    hook.handler = lambda c, info, file: Reject("virus found")
    answer = await upload(hook, [b"abc"])
    assert answer.last is not None and answer.last.rejection_reason == "virus found"
    assert answer.frames == 1

    async def rename(c: PluginContext, info: FileInfo, file: UploadStream) -> FileInfo:
        return FileInfo(name="renamed-" + info.name, size=info.size)

    hook.handler = rename
    answer = await upload(hook, [b"abc"])
    assert answer.last is not None and answer.last.replacement_info.name == "renamed-a.txt"
    assert answer.frames == 1


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_16_mib_in_and_a_16_mib_replacement_out(kind: str) -> None:
    hook = Hook(timeout=30)
    incoming = Digest()

    def sync(c: PluginContext, info: FileInfo, file: UploadStream) -> FileReplacement:
        for chunk in file:
            incoming.update(chunk)
        return FileReplacement(
            info=FileInfo(name="out.bin"), content=Pattern(16 * MiB, seed=3).chunks()
        )

    async def asynchronous(c: PluginContext, info: FileInfo, file: UploadStream) -> Any:
        async for chunk in file:
            incoming.update(chunk)
        return FileReplacement(
            info=FileInfo(name="out.bin"), content=Pattern(16 * MiB, seed=3).achunks()
        )

    hook.handler = sync if kind == "sync" else asynchronous
    pattern = Pattern(16 * MiB)
    with traced_peak() as peak:
        answer = await upload(hook, pattern.chunks(), keep=False)
    assert answer.error is None
    assert incoming.hexdigest() == pattern.expected() and incoming.size == 16 * MiB
    assert answer.output.size == 16 * MiB
    assert answer.output.hexdigest() == Pattern(16 * MiB, seed=3).expected()
    assert answer.output.largest == CHUNK_SIZE
    assert answer.frames == 256 + 1
    assert answer.last is not None and answer.last.replacement_info.name == "out.bin"
    assert peak[0] < 4 * MiB, peak


async def test_replacement_streamed_from_the_upload_itself() -> None:
    hook = Hook(timeout=30)

    def transform(c: PluginContext, info: FileInfo, file: UploadStream) -> FileReplacement:
        # Read after the handler returned: the upload stays readable.
        return FileReplacement(content=upper(file))

    hook.handler = transform
    pattern = Pattern(8 * MiB, chunk=100_000)
    with traced_peak() as peak:
        answer = await upload(hook, (c.lower() for c in pattern.chunks()), keep=False)
    assert answer.error is None
    assert answer.output.size == 8 * MiB
    assert answer.last is not None and not answer.last.HasField("replacement_info")
    assert peak[0] < 4 * MiB, peak

    async def atransform(c: PluginContext, info: FileInfo, file: UploadStream) -> Any:
        return FileReplacement(content=file)

    hook.handler = atransform
    answer = await upload(hook, [b"a" * (CHUNK_SIZE + 1), b"b"])
    assert bytes(answer.data) == b"a" * (CHUNK_SIZE + 1) + b"b"


@pytest.mark.parametrize(
    "content",
    [
        b"x" * (CHUNK_SIZE * 2 + 1),
        io.BytesIO(b"x" * (CHUNK_SIZE * 2 + 1)),
        [b"x"] * (CHUNK_SIZE * 2 + 1),
    ],
    ids=["bytes", "file", "list"],
)
async def test_replacement_content_sources(content: Any) -> None:
    hook = Hook()
    hook.handler = lambda c, info, file: FileReplacement(content=content)
    answer = await upload(hook, [b"abc"])
    assert bytes(answer.data) == b"x" * (CHUNK_SIZE * 2 + 1)


async def test_empty_replacement_keeps_the_content() -> None:
    hook = Hook()
    hook.handler = lambda c, info, file: FileReplacement(info=FileInfo(name="n"), content=b"")
    answer = await upload(hook, [b"abc"])
    assert answer.frames == 1
    assert answer.last is not None and answer.last.replacement_info.name == "n"


async def test_failures_end_with_internal() -> None:
    hook = Hook()

    def fails(c: PluginContext, info: FileInfo, file: UploadStream) -> None:
        raise RuntimeError("scanner down")

    def broken_content() -> Iterator[bytes]:
        yield b"x" * CHUNK_SIZE
        raise OSError("disk gone")

    for handler, details in [
        (fails, "FileWillBeUploaded: scanner down"),
        (
            lambda c, i, f: ("info", "reason"),
            "FileWillBeUploaded: FileWillBeUploaded returned tuple",
        ),
        (
            lambda c, i, f: FileReplacement(content=broken_content()),
            "FileWillBeUploaded: disk gone",
        ),
        (lambda c, i, f: FileReplacement(info="a name"), "FileWillBeUploaded: "),  # type: ignore[arg-type]
    ]:
        hook.handler = handler
        answer = await upload(hook, [b"abc"])
        assert answer.error is not None
        assert answer.error.code() is grpc.StatusCode.INTERNAL
        assert (answer.error.details() or "").startswith(details)


@pytest.mark.parametrize("where", ["handler", "content"])
async def test_the_whole_exchange_is_bounded_by_the_timeout(where: str) -> None:
    hook = Hook(timeout=0.4)

    def slow_content() -> Iterator[bytes]:
        while True:
            time.sleep(0.05)
            yield b"x" * 100

    def handler(c: PluginContext, info: FileInfo, file: UploadStream) -> Any:
        if where == "handler":
            time.sleep(1)
            return None
        return FileReplacement(content=slow_content())

    hook.handler = handler
    started = time.monotonic()
    answer = await upload(hook, [b"abc"])
    assert answer.error is not None
    assert answer.error.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 1.5


async def test_upload_stream_reads() -> None:
    hook = Hook()
    seen: list[Any] = []

    async def handler(c: PluginContext, info: FileInfo, file: UploadStream) -> None:
        seen.append(await file.aread(4))
        seen.append(await file.aread(100))
        seen.append(await file.aread())

    hook.handler = handler
    await upload(hook, [b"ab", b"cdef", b"", b"gh"])
    assert seen == [b"abcd", b"efgh", b""]
    await upload(hook, [])
    assert seen[-3:] == [b"", b"", b""]

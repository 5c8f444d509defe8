"""Headers (Go's canonical names, every value kept), byte sources and
bodies read incrementally."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from helpers import Pattern, PatternFile
from mattermost_plugin._http import (
    Headers,
    HTTPRequest,
    HTTPResponse,
    canonical_header_key,
    request_frames,
)
from mattermost_plugin._transport import CHUNK_SIZE, aiter_chunks, iter_chunks
from mattermost_plugin.pb.mattermost.plugin.v1 import common_pb2


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("content-type", "Content-Type"),
        ("CONTENT-TYPE", "Content-Type"),
        ("x-mm-bridge-token", "X-Mm-Bridge-Token"),
        ("mattermost-user-id", "Mattermost-User-Id"),
        ("etag", "Etag"),
        ("www-authenticate", "Www-Authenticate"),
        ("a--b", "A--B"),
        ("-x", "-X"),
        ("x_y", "X_y"),
        ("1-abc", "1-Abc"),
        ("bad name", "bad name"),
        ("bad:name", "bad:name"),
        ("x.y-z", "X.y-Z"),
        ("\u00fcn\u00ef", "\u00fcn\u00ef"),
        ("", ""),
    ],
)
def test_canonical_header_key_is_gos(name: str, canonical: str) -> None:
    assert canonical_header_key(name) == canonical


def test_headers_are_case_insensitive_and_multi_valued() -> None:
    h = Headers({"content-type": "text/plain", "Set-Cookie": ["a=1", "b=2"]})
    h.add("set-cookie", "c=3")
    assert h["CONTENT-TYPE"] == "text/plain"
    assert h.get("set-cookie") == "a=1"
    assert h.get_all("SET-COOKIE") == ["a=1", "b=2", "c=3"]
    assert h.get("missing") is None
    assert h.get("missing", "d") == "d"
    assert h.get_all("missing") == []
    assert "set-cookie" in h
    assert "nope" not in h
    assert 3 not in h
    assert list(h) == ["Content-Type", "Set-Cookie"]
    assert len(h) == 2
    assert h.items() == [
        ("Content-Type", "text/plain"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("Set-Cookie", "c=3"),
    ]
    h.set("set-cookie", "z=9")
    assert h.get_all("Set-Cookie") == ["z=9"]
    h.set("X-List", ["1", "2"])
    assert h.get_all("x-list") == ["1", "2"]
    h["x-one"] = "1"
    assert h.get_all("X-One") == ["1"]
    h.delete("x-list")
    del h["x-one"]
    assert "X-List" not in h and "X-One" not in h
    with pytest.raises(KeyError):
        del h["x-one"]
    with pytest.raises(KeyError):
        h["x-one"]
    h.delete("not-there")


def test_headers_from_pairs_and_copies() -> None:
    h = Headers([("a", "1"), ("A", "2"), ("b", "3")])
    assert h.get_all("A") == ["1", "2"]
    c = h.copy()
    c.add("a", "3")
    assert h.get_all("a") == ["1", "2"]
    assert Headers(h) == h
    assert c != h
    assert repr(Headers({"a": "1"})) == "Headers([('A', '1')])"


def test_headers_proto_round_trip_keeps_every_value() -> None:
    h = Headers([("x-multi", "a"), ("X-Multi", "b"), ("accept", "*/*")])
    protos = h.to_proto()
    assert [(p.name, list(p.values)) for p in protos] == [
        ("X-Multi", ["a", "b"]),
        ("Accept", ["*/*"]),
    ]
    back = Headers.from_proto(
        [
            common_pb2.HTTPHeader(name="x-multi", values=["a"]),
            common_pb2.HTTPHeader(name="X-MULTI", values=["b", "c"]),
            common_pb2.HTTPHeader(name="empty", values=[]),
        ]
    )
    assert back.items() == [("X-Multi", "a"), ("X-Multi", "b"), ("X-Multi", "c")]


def test_iter_chunks_of_bytes_files_and_iterables() -> None:
    data = bytes(range(256)) * 1000
    assert b"".join(iter_chunks(data)) == data
    assert max(len(c) for c in iter_chunks(data)) == CHUNK_SIZE
    assert b"".join(iter_chunks(io.BytesIO(data))) == data
    assert list(iter_chunks(b"")) == []
    pieces: list[Any] = [
        b"",
        b"ab",
        bytearray(b"cd"),
        memoryview(b"e"),
        b"x" * (CHUNK_SIZE * 2 + 1),
    ]
    out = list(iter_chunks(pieces))
    assert [len(c) for c in out] == [2, 2, 1, CHUNK_SIZE, CHUNK_SIZE, 1]
    assert all(type(c) is bytes for c in out)


def test_iter_chunks_coalesces_small_pieces_when_asked() -> None:
    pieces = [b"a"] * (CHUNK_SIZE + 3) + [b"b" * (CHUNK_SIZE - 1), b"c" * 5]
    out = list(iter_chunks(iter(pieces), coalesce=True))
    assert [len(c) for c in out] == [CHUNK_SIZE, CHUNK_SIZE, 7]
    assert b"".join(out) == b"".join(pieces)
    assert list(iter_chunks([b"x" * CHUNK_SIZE], coalesce=True)) == [b"x" * CHUNK_SIZE]


async def test_aiter_chunks_coalesces_small_pieces_when_asked() -> None:
    async def agen() -> AsyncIterator[bytes]:
        for _ in range(CHUNK_SIZE + 3):
            yield b"a"

    out = [c async for c in aiter_chunks(agen(), coalesce=True)]
    assert [len(c) for c in out] == [CHUNK_SIZE, 3]
    out = [c async for c in aiter_chunks([b"a"] * 10, coalesce=True)]
    assert out == [b"a" * 10]


def test_iter_chunks_reads_a_file_a_chunk_at_a_time() -> None:
    pattern = Pattern(3 * CHUNK_SIZE + 5)
    source = PatternFile(pattern)
    chunks = iter_chunks(source)  # type: ignore[arg-type]
    first = next(chunks)
    assert len(first) == CHUNK_SIZE
    assert source.read_sizes == [CHUNK_SIZE]
    rest = list(chunks)
    assert [len(c) for c in rest] == [CHUNK_SIZE, CHUNK_SIZE, 5]
    assert set(source.read_sizes) == {CHUNK_SIZE}


def test_iter_chunks_refuses_what_is_not_bytes() -> None:
    with pytest.raises(TypeError, match="not str"):
        iter_chunks("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="int"):
        iter_chunks(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="binary mode"):
        list(iter_chunks(io.StringIO("text")))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be bytes, not str"):
        list(iter_chunks(["a"]))  # type: ignore[list-item]


async def test_aiter_chunks_of_every_source() -> None:
    data = b"0123456789" * 20000

    async def agen() -> AsyncIterator[bytes]:
        yield data[:5]
        yield data[5:]

    for source in (data, io.BytesIO(data), [data[:7], data[7:]], agen()):
        out = [c async for c in aiter_chunks(source)]
        assert b"".join(out) == data
        assert max(len(c) for c in out) <= CHUNK_SIZE


def test_body_reads() -> None:
    def gen() -> Iterator[bytes]:
        yield b"abc"
        yield b""
        yield b"defgh"
        yield b"ij"

    r = HTTPRequest("post", "/x", body=gen())
    assert r.method == "POST"
    assert r.content_length == -1
    assert r.read(2) == b"ab"
    assert r.read(4) == b"cdef"
    assert list(r) == [b"gh", b"ij"]
    assert r.read() == b""
    assert r.read(5) == b""
    r.close()
    with pytest.raises(ValueError, match="closed"):
        r.read()


async def test_body_async_reads() -> None:
    async def agen() -> AsyncIterator[bytes]:
        yield b"abc"
        yield b"defgh"

    response = HTTPResponse(201, {"a": "b"}, agen())
    async with response:
        assert await response.aread(4) == b"abcd"
        assert [c async for c in response] == [b"efgh"]
    assert response.closed


def test_request_of_a_full_url_and_defaults() -> None:
    r = HTTPRequest(url="https://example.com:8065/plugins/p/x?y=1", headers={"A": "1"})
    assert r.host == "example.com:8065"
    assert r.url == "/plugins/p/x?y=1"
    assert r.path == "/plugins/p/x"
    assert r.query == "y=1"
    assert r.request_uri == r.url
    assert r.content_length == 0
    assert r.proto == "HTTP/1.1"
    assert HTTPRequest(body=b"abc").content_length == 3


def test_request_frames_small_body_fits_the_head() -> None:
    frames = list(request_frames(HTTPRequest("PUT", "/a", [("x", "1"), ("x", "2")], b"body")))
    assert len(frames) == 1
    head = frames[0]
    assert (head.method, head.url, head.body, head.body_end) == ("PUT", "/a", b"body", True)
    assert head.content_length == 4
    assert [(h.name, list(h.values)) for h in head.headers] == [("X", ["1", "2"])]


def test_request_frames_streamed_body() -> None:
    pattern = Pattern(2 * CHUNK_SIZE + 3)
    frames = list(request_frames(HTTPRequest("POST", "/u", body=pattern.chunks())))
    assert frames[0].method == "POST" and not frames[0].body and not frames[0].body_end
    assert frames[0].content_length == -1
    assert [len(f.body) for f in frames[1:]] == [CHUNK_SIZE, CHUNK_SIZE, 3, 0]
    assert [f.body_end for f in frames[1:]] == [False, False, False, True]
    big = list(request_frames(HTTPRequest("POST", "/u", body=b"x" * (CHUNK_SIZE + 1))))
    assert [len(f.body) for f in big] == [0, CHUNK_SIZE, 1, 0]
    assert big[-1].body_end

"""No refusal of the HTTP/1.1 codec (http/codec.py) quotes a byte of what it refused.

An answer's head and body may carry a value, and a request's head carries the token: an error
that quoted the bytes it choked on could print them. Each hostile answer below holds MARK in
the very place the codec refuses; the error that reaches the caller, its cause and context,
and their reprs must not hold it. The same for requests the codec will not write.
"""

from __future__ import annotations

import asyncio
import traceback

import httpx
import pytest

from secretsync.http import codec
from tests.http.helpers import Reply, Server, client

MARK = b"s3cr3t-MARK-7f2a"
TEXT = MARK.decode()

HOSTILE_ANSWERS = {
    "bad status line": b"HTTP/1.1 2" + MARK + b" OK\r\nContent-Length: 0\r\n\r\n",
    "field without a colon": b"HTTP/1.1 200 OK\r\n" + MARK + b"\r\nContent-Length: 0\r\n\r\n",
    "space in a field name": b"HTTP/1.1 200 OK\r\nX " + MARK + b": v\r\n\r\n",
    "space before the colon": b"HTTP/1.1 200 OK\r\n" + MARK + b" : v\r\n\r\n",
    "bad content length": b"HTTP/1.1 200 OK\r\nContent-Length: " + MARK + b"\r\n\r\n",
    "bad chunk size": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + MARK + b"\r\n"),
    "bad chunk end": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd" + MARK + b"\r\n"
    ),
    "bad trailer": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + MARK + b"\r\n\r\n"
    ),
    "oversized head": b"HTTP/1.1 200 OK\r\nX-A: " + MARK * 2000,
    "too many fields": b"HTTP/1.1 200 OK\r\n"
    + b"".join(b"X-" + str(i).encode() + b": " + MARK + b"\r\n" for i in range(101))
    + b"Content-Length: 0\r\n\r\n",
    "cut short": b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n" + MARK,
    "unasked upgrade": b"HTTP/1.1 101 " + MARK + b"\r\nUpgrade: x\r\n\r\n",
}


def _everything_said(exc: BaseException) -> str:
    said = "".join(traceback.format_exception(exc))
    chained = [exc.__cause__, exc.__context__]
    return said + "".join(repr(e) + str(e) for e in (exc, *chained) if e is not None)


@pytest.mark.parametrize("name", sorted(HOSTILE_ANSWERS))
def test_a_refused_answer_is_never_quoted(name: str) -> None:
    async def hostile(seen: object) -> Reply:
        return Reply(HOSTILE_ANSWERS[name], hang_up=True)

    async def main() -> None:
        async with Server(hostile) as server, client() as http:
            await http.get(server.url)

    with pytest.raises(httpx.HTTPError) as caught:
        asyncio.run(main())
    assert TEXT not in _everything_said(caught.value)


@pytest.mark.parametrize("name", sorted(HOSTILE_ANSWERS))
def test_the_parser_alone_raises_with_nothing_quoted(name: str) -> None:
    answer = codec.Answer(b"GET", 1 << 20, None)
    with pytest.raises((codec.Invalid, codec.TooLarge)) as caught:
        if not answer.feed(HOSTILE_ANSWERS[name]):
            answer.eof()
    assert TEXT not in _everything_said(caught.value)
    assert caught.value.args == ()


@pytest.mark.parametrize(
    ("method", "target", "headers"),
    [
        (b"GET", b"/", [(b"Host", b"h"), (b"Authorization", b"Bearer " + MARK + b"\r\nX: y")]),
        (b"GET", b"/", [(b"Host", b"h"), (b"Authorization", b"Bearer " + MARK + b"\x00")]),
        (b"GET", b"/", [(b"Host", b"h"), (MARK + b" bad", b"v")]),
        (b"GET", b"/" + MARK + b" HTTP/1.1\r\n", [(b"Host", b"h")]),
        (b"G" + MARK + b"\n", b"/", [(b"Host", b"h")]),
    ],
)
def test_a_request_the_codec_will_not_write_is_never_quoted(
    method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    with pytest.raises(codec.Unwritable) as caught:
        codec.encode_request(method, target, headers, b"")
    assert TEXT not in _everything_said(caught.value)

"""One HTTP/1.1 keep-alive connection: h11's state over asyncio streams, and one request and
its whole answer on it. transport.py pools these; it is the same fenced fast path, and its
opening says what that replaces, gains, which tests pin it and when to delete it.

Nothing here logs or quotes a header or a body: Authorization carries the token, bodies carry
values. h11's error messages can quote the bytes it choked on, so they are not passed on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import httpx

from secretsync.http import codec
from secretsync.http.limits import AnswerRefused, refuse_head

_T = TypeVar("_T")
READ_SIZE = 64 * 1024


async def within(awaitable: Awaitable[_T], seconds: float | None) -> _T:
    """`awaitable`, or TimeoutError after `seconds` (None: no limit)."""
    # asyncio.timeout arms a timer; wait_for would also start a task for every read.
    if seconds is None:
        return await awaitable
    async with asyncio.timeout(seconds):
        return await awaitable


# The codec in use: codec.py's own, or h11's through h11codec.py (benchmarks/fast_paths.py
# switches to it to measure what codec.py gains). Both raise codec.py's errors, which quote
# nothing.
encode_request = codec.encode_request
Answer = codec.Answer


class NoAnswer(Exception):
    """The connection failed before one byte of the answer: `error` is what to report."""

    def __init__(self, error: httpx.TransportError) -> None:
        super().__init__(type(error).__name__)
        self.error = error


class Connection:
    """A connection; reusable once an exchange has ended cleanly (`reusable`)."""

    __slots__ = ("idle_since", "reader", "reusable", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0
        self.reusable = False

    def open(self) -> bool:
        # at_eof: the server's FIN was read while we idled; is_closing: the socket failed.
        return not (self.reader.at_eof() or self.writer.is_closing())

    def abort(self) -> None:
        # Never half-used back into the pool, and no graceful close for a connection in an
        # unknown state: drop it at once.
        self.writer.transport.abort()

    async def roundtrip(
        self,
        request: httpx.Request,
        method: bytes,
        wire: tuple[bytes, bool],
        timeouts: dict[str, float | None],
        max_response_bytes: int,
    ) -> httpx.Response:
        """Send one request (`wire`: its bytes, and whether the connection may be reused after
        it) and read its whole answer; raises NoAnswer when the connection failed before one
        byte of the answer arrived (a stale keep-alive connection). `reusable` says afterwards
        whether the connection may carry another request."""
        self.reusable = False
        try:
            self.writer.write(wire[0])
            if self.writer.transport.get_write_buffer_size():
                # Only when the socket did not take it all at once (the common case for a
                # small request): arming a timeout costs more than the write.
                await within(self.writer.drain(), timeouts.get("write"))
        except TimeoutError:
            raise httpx.WriteTimeout("sending the request timed out", request=request) from None
        except OSError as exc:
            raise NoAnswer(httpx.WriteError(str(exc), request=request)) from exc

        def check_head(headers: list[tuple[bytes, bytes]]) -> None:
            refuse_head(headers, max_response_bytes, request)

        answer = Answer(method, max_response_bytes, check_head)
        read_timeout = timeouts.get("read")
        answered = False
        failure: type[Exception] | None = None
        while True:
            try:
                data = await within(self.reader.read(READ_SIZE), read_timeout)
            except TimeoutError:
                raise httpx.ReadTimeout(
                    "timed out waiting for the server's answer", request=request
                ) from None
            except OSError as exc:
                error = httpx.ReadError(str(exc) or type(exc).__name__, request=request)
                if answered:
                    raise error from exc
                raise NoAnswer(error) from exc
            if not data and not answered:
                raise NoAnswer(
                    httpx.RemoteProtocolError(
                        "the server closed the connection without answering", request=request
                    )
                )
            answered = True
            try:
                if answer.feed(data) if data else answer.eof():
                    break
            except (codec.Invalid, codec.TooLarge) as exc:
                failure = type(exc)
                break
        # Raised here, outside the handler, so that no codec error rides along as context.
        if failure is codec.TooLarge:
            raise AnswerRefused(
                f"the answer is larger than {max_response_bytes} bytes", request=request
            )
        if failure is not None:
            raise httpx.RemoteProtocolError(
                "the server's answer is not valid HTTP/1.1", request=request
            )
        self.reusable = wire[1] and answer.reusable
        return httpx.Response(
            answer.status,
            headers=answer.headers,
            # stream=, not content=: httpx adds no framing headers the server never sent,
            # and the client still decodes any Content-Encoding when it reads the body.
            stream=httpx.ByteStream(answer.body),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": answer.reason},
        )

"""One HTTP/1.1 keep-alive connection: h11's state over asyncio streams, and one request and
its whole answer on it. transport.py pools these; it is the same fenced fast path, and its
opening says what that replaces, gains, which tests pin it and when to delete it.

Nothing here logs or quotes a header or a body: Authorization carries the token, bodies carry
values. h11's error messages can quote the bytes it choked on, so they are not passed on.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable
from typing import TypeVar

import h11
import httpx

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


# h11's error messages quote the bytes they reject, which may be the token or a value: these
# helpers turn its errors into None so that the caller raises with no h11 error attached.
def request_head(
    method: str, target: bytes, headers: list[tuple[bytes, bytes]]
) -> h11.Request | None:
    try:
        return h11.Request(method=method, target=target, headers=headers)
    except h11.LocalProtocolError:
        return None


def _serialize(state: h11.Connection, head: h11.Request, body: bytes) -> bytes | None:
    try:
        parts = [state.send(head)]
        if body:
            parts.append(state.send(h11.Data(data=body)))
        parts.append(state.send(h11.EndOfMessage()))
    except h11.LocalProtocolError:
        return None
    return b"".join(part for part in parts if part)


def _next_event(state: h11.Connection) -> h11.Event | type[h11.PAUSED] | type[h11.NEED_DATA] | None:
    try:
        return state.next_event()
    except h11.RemoteProtocolError:
        return None


class NoAnswer(Exception):
    """The connection failed before one byte of the answer: `error` is what to report."""

    def __init__(self, error: httpx.TransportError) -> None:
        super().__init__(type(error).__name__)
        self.error = error


class Connection:
    """A connection and its h11 state; reusable once an exchange has ended cleanly."""

    __slots__ = ("h11", "idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT)
        self.idle_since = 0.0

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
        head: h11.Request,
        body: bytes,
        timeouts: dict[str, float | None],
        max_response_bytes: int,
    ) -> httpx.Response:
        """Send one request and read its whole answer; raises NoAnswer when the connection
        failed before one byte of the answer arrived (a stale keep-alive connection)."""
        state = self.h11
        wire = _serialize(state, head, body)
        if wire is None:
            raise httpx.LocalProtocolError(
                "the request body does not match its framing headers", request=request
            )
        try:
            self.writer.write(wire)
            if self.writer.transport.get_write_buffer_size():
                # Only when the socket did not take it all at once (the common case for a
                # small request): arming a timeout costs more than the write.
                await within(self.writer.drain(), timeouts.get("write"))
        except TimeoutError:
            raise httpx.WriteTimeout("sending the request timed out", request=request) from None
        except OSError as exc:
            raise NoAnswer(httpx.WriteError(str(exc), request=request)) from exc

        read_timeout = timeouts.get("read")
        answered = False
        head_event: h11.Response | None = None
        # BytesIO, not a list joined at the end: getvalue() hands over its buffer without a
        # copy, so an answer of N bytes costs about N, never 2N, at its peak.
        body_buffer = io.BytesIO()
        size = 0
        while True:
            event = _next_event(state)
            if event is None:
                raise httpx.RemoteProtocolError(
                    "the server's answer is not valid HTTP/1.1", request=request
                )
            if event is h11.NEED_DATA:
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
                state.receive_data(data)
            elif isinstance(event, h11.Response):
                refuse_head(event.headers, max_response_bytes, request)
                head_event = event
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > max_response_bytes:
                    raise AnswerRefused(
                        f"the answer is larger than {max_response_bytes} bytes", request=request
                    )
                body_buffer.write(event.data)
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.InformationalResponse):
                continue  # 1xx before the real answer
            else:  # PAUSED (a protocol switch) or ConnectionClosed before the answer ended
                raise httpx.RemoteProtocolError(
                    "the server's answer ended unexpectedly", request=request
                )
        assert head_event is not None  # h11 yields the head before EndOfMessage
        return httpx.Response(
            head_event.status_code,
            headers=head_event.headers.raw_items(),
            # stream=, not content=: httpx adds no framing headers the server never sent,
            # and the client still decodes any Content-Encoding when it reads the body.
            stream=httpx.ByteStream(body_buffer.getvalue()),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": head_event.reason},
        )

"""One HTTP/1.1 keep-alive connection as an asyncio protocol, and one request and its whole
answer on it (the bytes themselves are codec.py's). transport.py pools these; it is the same
fenced fast path, and its opening says what that replaces, gains, which tests pin it and when
to delete it.

A protocol, not a StreamReader and StreamWriter: each arriving piece of the answer goes
straight to the parser (no buffer, no future per read), the exchange waits on one future,
and one timer per exchange keeps the read timeout (it fires, and re-arms itself if bytes came
meanwhile) where a timeout per read armed and cancelled one per read. That cut 3% of the
client's instructions per group listing (943k -> 913k, callgrind over 200 listings against
bench.py's emulator); CPU time could not tell it from noise. Its answer is handed over as
read (`roundtrip`'s end: ~20 us per answer). tests/http/test_lean_answers.py pins what the
protocol does with stray bytes, slow bytes, large requests and deaf servers.

Nothing here logs or quotes a header or a body: Authorization carries the token, bodies carry
values. codec.py's errors quote nothing, and are raised here with none attached.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import httpx

from secretsync.http import codec
from secretsync.http.limits import AnswerRefused, refuse_head

_T = TypeVar("_T")


async def within(awaitable: Awaitable[_T], seconds: float | None) -> _T:
    """`awaitable`, or TimeoutError after `seconds` (None: no limit)."""
    # asyncio.timeout arms a timer; wait_for would also start a task.
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


# How an exchange ended, when not with a complete answer (the waiter's result).
_CLOSED = "closed"  # the server closed the connection (or it failed: see `_lost`)
_TIMED_OUT = "timed out"
_COMPLETE = "complete"


class Connection(asyncio.Protocol):
    """A connection; reusable once an exchange has ended cleanly (`reusable`)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.idle_since = 0.0
        self.reusable = False
        self._answer: codec.Answer | None = None
        self._waiter: asyncio.Future[object] | None = None
        self._received = False  # a byte of the current answer has arrived
        self._last_read = 0.0
        self._ended = False  # the server's FIN, or the connection is gone
        self._lost: BaseException | None = None  # why the connection failed, if it did
        self._stray = False  # bytes came that no request asked for
        self._drained: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()
        self._gone: asyncio.Future[None] = self._loop.create_future()

    # -- asyncio.Protocol ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        answer = self._answer
        if answer is None:
            # An idle connection's server speaks out of turn: whatever it says would be taken
            # for the next request's answer, so the connection is not used again.
            self._stray = True
            return
        self._received = True
        self._last_read = self._loop.time()
        try:
            if answer.feed(data):
                self._settle(None)
        except Exception as exc:  # the parser's refusals, or the head check's AnswerRefused
            self._settle(exc)

    def eof_received(self) -> bool:
        self._ended = True
        self._end()
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended = True
        self._lost = exc
        self._end()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        if not self._gone.done():
            self._gone.set_result(None)

    def pause_writing(self) -> None:
        self._drained = self._loop.create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    # -- the pool's view -------------------------------------------------------------------
    def open(self) -> bool:
        transport = self.transport
        return not (self._ended or self._stray or transport is None or transport.is_closing())

    def abort(self) -> None:
        # Never half-used back into the pool, and no graceful close for a connection in an
        # unknown state: drop it at once.
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    async def wait_closed(self) -> None:
        await self._gone

    # -- one exchange ------------------------------------------------------------------------
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
        transport = self.transport
        if transport is None or self._ended or transport.is_closing():
            raise NoAnswer(
                httpx.RemoteProtocolError(
                    "the server closed the connection without answering", request=request
                )
            )

        def check_head(headers: list[tuple[bytes, bytes]]) -> None:
            refuse_head(headers, max_response_bytes, request)

        loop = self._loop
        answer = self._answer = Answer(method, max_response_bytes, check_head)
        self._received = False
        waiter = self._waiter = loop.create_future()
        try:
            transport.write(wire[0])
            if self._drained is not None:
                # Only when the socket would not take it all (past the transport's high-water
                # mark): the common small request never waits here.
                try:
                    await within(self._drained, timeouts.get("write"))
                except TimeoutError:
                    raise httpx.WriteTimeout(
                        "sending the request timed out", request=request
                    ) from None
            read_timeout = timeouts.get("read")
            if read_timeout is not None and not waiter.done():
                self._last_read = loop.time()
                self._timer = loop.call_at(
                    self._last_read + read_timeout, self._check_read, read_timeout
                )
            outcome = await waiter
        finally:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._answer = None
            self._waiter = None
        self._raise_for(outcome, request, max_response_bytes)
        self.reusable = wire[1] and answer.reusable
        body = answer.body
        response = httpx.Response(
            answer.status,
            headers=answer.headers,
            # stream=, not content=: httpx adds no framing headers the server never sent.
            stream=httpx.ByteStream(body),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": answer.reason},
        )
        # Handed over as read, in the state `aread()` leaves a response in: the body is whole
        # already and in no encoding to undo (the head check refused any but identity), so
        # iterating it through httpx's decoders (~20 us) would only copy it.
        # tests/http/test_lean_answers.py holds this to what httpx's own transport gives.
        response._content = body
        response.is_stream_consumed = True
        response.is_closed = True
        return response

    def _raise_for(self, outcome: object, request: httpx.Request, max_response_bytes: int) -> None:
        """The error the outcome stands for, if the answer is not complete (raised here, where
        no other exception is being handled, so none rides along as context)."""
        if outcome is _COMPLETE:
            return
        if outcome is _TIMED_OUT:
            raise httpx.ReadTimeout("timed out waiting for the server's answer", request=request)
        if outcome is _CLOSED:
            lost = self._lost
            if lost is not None:  # reset, broken pipe, a TLS failure
                error: httpx.TransportError = httpx.ReadError(
                    str(lost) or type(lost).__name__, request=request
                )
            else:
                error = httpx.RemoteProtocolError(
                    "the server closed the connection without answering", request=request
                )
            if not self._received:
                raise NoAnswer(error) from lost
            if lost is not None:
                raise error from lost
            outcome = codec.Invalid()  # the answer was cut short
        if isinstance(outcome, codec.TooLarge):
            raise AnswerRefused(
                f"the answer is larger than {max_response_bytes} bytes", request=request
            )
        if isinstance(outcome, codec.Invalid):
            raise httpx.RemoteProtocolError(
                "the server's answer is not valid HTTP/1.1", request=request
            )
        assert isinstance(outcome, BaseException)
        raise outcome  # AnswerRefused from the head check

    def _settle(self, outcome: object | None) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(_COMPLETE if outcome is None else outcome)

    def _end(self) -> None:
        """The connection ended: that completes an answer delimited by it, else it ends the
        exchange without one."""
        answer = self._answer
        if answer is None or self._waiter is None or self._waiter.done():
            return
        if self._lost is None and self._received:
            try:
                answer.eof()
            except codec.Invalid as exc:
                self._settle(exc)
            else:
                self._settle(None)
            return
        self._settle(_CLOSED)

    def _check_read(self, read_timeout: float) -> None:
        # httpx's read timeout bounds each wait for bytes: re-arm while they keep coming.
        due = self._last_read + read_timeout
        if self._loop.time() < due:
            self._timer = self._loop.call_at(due, self._check_read, read_timeout)
        else:
            self._timer = None
            self._settle(_TIMED_OUT)

"""A lean HTTP/1.1 keep-alive transport for httpx: h11 over asyncio streams.

httpx's default async transport (httpcore on anyio) spent ~1.4 ms of CPU per request here,
mostly rescanning its whole pool on every request and answer, which made secretsync CPU-bound
near 800 requests/s. This transport does only what secretsync needs:

- HTTP/1.1 with keep-alive; whole bodies in memory (requests are read first, answers are
  collected up to `max_response_bytes`). No HTTP/2, no upgrades, no streaming.
- Idle connections wait per origin in a deque; checkout pops the newest (LIFO) in O(1) and
  drops it when it idled past `keepalive_expiry_s` or the server has closed it.
- At most `max_connections` requests hold a connection at once (a semaphore), and idle
  connections are evicted so that open ones stay within that bound too.
- A server may close an idle keep-alive connection at any moment, and that close can cross
  our next request on the wire. So when a *reused* connection fails before one byte of the
  answer arrives, the request is sent once more on a fresh connection. That is safe because
  every request secretsync sends (GET, PUT of a whole value, DELETE) is idempotent. A fresh
  connection that fails is reported at once; retries with backoff belong to retry.py.
- TLS always verifies the certificate and the host name (certifi's CA bundle when present).
- Proxies are not supported: `proxy_configured()` lets the caller use httpx's own transport
  when a proxy variable is set.

Nothing here logs or quotes a header or a body: Authorization carries the token, bodies carry
values. h11's error messages can quote the bytes it choked on, so they are not passed on.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import sys
import time
import urllib.request
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TypeVar

import h11
import httpx

__all__ = ["LeanAsyncTransport", "default_ssl_context", "proxy_configured"]

_T = TypeVar("_T")
_Origin = tuple[bytes, str, int]  # scheme, host, port
DEFAULT_PORTS = {b"http": 80, b"https": 443}
READ_SIZE = 64 * 1024


def default_ssl_context() -> ssl.SSLContext:
    """A verifying client context: certifi's CA bundle when importable, else the system's."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - httpx depends on certifi
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def proxy_configured() -> bool:
    """Whether HTTP_PROXY, HTTPS_PROXY or ALL_PROXY (either case) is set, as httpx reads them."""
    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))


if sys.version_info >= (3, 11):

    async def _within(awaitable: Awaitable[_T], seconds: float | None) -> _T:
        # asyncio.timeout arms a timer; wait_for would also start a task for every read.
        if seconds is None:
            return await awaitable
        async with asyncio.timeout(seconds):
            return await awaitable

else:  # pragma: no cover - the venv runs 3.11

    async def _within(awaitable: Awaitable[_T], seconds: float | None) -> _T:
        return await asyncio.wait_for(awaitable, seconds)


# h11's error messages quote the bytes they reject, which may be the token or a value: these
# helpers turn its errors into None so that the caller raises with no h11 error attached.
def _request_head(
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


class _NoAnswer(Exception):
    """The connection failed before one byte of the answer: `error` is what to report."""

    def __init__(self, error: httpx.TransportError) -> None:
        super().__init__(type(error).__name__)
        self.error = error


class _Connection:
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


class LeanAsyncTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 keep-alive for `httpx.AsyncClient(transport=...)`; see the module docstring."""

    def __init__(
        self,
        *,
        max_connections: int,
        ssl_context: ssl.SSLContext | None = None,
        keepalive_expiry_s: float = 30.0,
        connect_timeout_s: float = 10.0,
        max_response_bytes: int = 64 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, not {max_connections}")
        self._max_connections = max_connections
        self._ssl_context = ssl_context
        self._keepalive_expiry_s = keepalive_expiry_s
        self._connect_timeout_s = connect_timeout_s
        self._max_response_bytes = max_response_bytes
        self._clock = clock
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: dict[_Origin, deque[_Connection]] = {}
        self._idle_count = 0
        self._active = 0  # requests holding a slot

    @property
    def ssl_context(self) -> ssl.SSLContext:
        # Built on first use: loading the CA bundle costs ~20 ms that plain http never needs.
        if self._ssl_context is None:
            self._ssl_context = default_ssl_context()
        return self._ssl_context

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.raw_scheme
        default_port = DEFAULT_PORTS.get(scheme)
        if default_port is None:
            raise httpx.UnsupportedProtocol(
                f"only http and https URLs are supported, not {url.scheme!r}", request=request
            )
        origin = (scheme, url.host, url.port or default_port)
        headers = request.headers.raw
        if not any(name.lower() == b"host" for name, _ in headers):
            headers = [(b"Host", url.netloc), *headers]
        head = _request_head(request.method, url.raw_path, headers)
        if head is None:
            raise httpx.LocalProtocolError(
                "the request cannot be written as HTTP/1.1 (invalid method, target or header)",
                request=request,
            )
        body = await request.aread()
        timeouts = request.extensions.get("timeout") or {}
        if self._slots.locked():
            try:
                await _within(self._slots.acquire(), timeouts.get("pool"))
            except asyncio.TimeoutError:
                raise httpx.PoolTimeout("no connection slot came free", request=request) from None
        else:
            await self._slots.acquire()
        self._active += 1
        try:
            conn = self._checkout(origin)
            if conn is not None:
                try:
                    return await self._exchange(conn, origin, request, head, body, timeouts)
                except _NoAnswer:
                    # Stale keep-alive connection: send once more on a fresh one (see the
                    # module docstring). Older idle ones to this origin are likelier stale.
                    self._drop_idle(origin)
            conn = await self._connect(origin, request, timeouts.get("connect"))
            try:
                return await self._exchange(conn, origin, request, head, body, timeouts)
            except _NoAnswer as exc:
                raise exc.error from exc.__cause__
        finally:
            self._active -= 1
            self._slots.release()

    async def aclose(self) -> None:
        idle = [conn for conns in self._idle.values() for conn in conns]
        self._idle.clear()
        self._idle_count = 0
        for conn in idle:
            conn.writer.close()
        for conn in idle:
            with contextlib.suppress(Exception):
                await conn.writer.wait_closed()

    # -- the pool ---------------------------------------------------------------------------
    def _checkout(self, origin: _Origin) -> _Connection | None:
        conns = self._idle.get(origin)
        if not conns:
            return None
        now = self._clock()
        while conns:
            conn = conns.pop()
            self._idle_count -= 1
            if now - conn.idle_since > self._keepalive_expiry_s:
                # The newest has expired, so every older one has too.
                conn.abort()
                self._drop_idle(origin)
                return None
            if conn.open():
                return conn
            conn.abort()
        return None

    def _checkin(self, origin: _Origin, conn: _Connection) -> None:
        conn.idle_since = self._clock()
        self._idle.setdefault(origin, deque()).append(conn)
        self._idle_count += 1

    def _drop_idle(self, origin: _Origin) -> None:
        conns = self._idle.pop(origin, None)
        if conns:
            self._idle_count -= len(conns)
            for conn in conns:
                conn.abort()

    def _make_room(self) -> None:
        # Idle connections to other origins count against the bound: close the oldest ones.
        excess = self._idle_count + self._active - self._max_connections
        for origin in list(self._idle):
            if excess <= 0:
                return
            conns = self._idle[origin]
            while excess > 0 and conns:
                conns.popleft().abort()
                self._idle_count -= 1
                excess -= 1
            if not conns:
                del self._idle[origin]

    async def _connect(
        self, origin: _Origin, request: httpx.Request, timeout_s: float | None
    ) -> _Connection:
        self._make_room()
        scheme, host, port = origin
        tls = self.ssl_context if scheme == b"https" else None
        try:
            reader, writer = await _within(
                asyncio.open_connection(
                    host, port, ssl=tls, server_hostname=host if tls is not None else None
                ),
                timeout_s if timeout_s is not None else self._connect_timeout_s,
            )
        except asyncio.TimeoutError:
            raise httpx.ConnectTimeout(
                f"connecting to {host}:{port} timed out", request=request
            ) from None
        except OSError as exc:  # refused, reset, DNS (gaierror), TLS verification (SSLError)
            raise httpx.ConnectError(f"{host}:{port}: {exc}", request=request) from exc
        sock = writer.get_extra_info("socket")
        if sock is not None:
            # Small writes on a keep-alive connection otherwise wait ~40 ms for a delayed ACK
            # (selector loops already set this; a proactor or uvloop may not).
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Connection(reader, writer)

    # -- one request ------------------------------------------------------------------------
    async def _exchange(
        self,
        conn: _Connection,
        origin: _Origin,
        request: httpx.Request,
        head: h11.Request,
        body: bytes,
        timeouts: dict[str, float | None],
    ) -> httpx.Response:
        try:
            response = await self._roundtrip(conn, request, head, body, timeouts)
        except BaseException:  # errors, timeouts and cancellation alike
            conn.abort()
            raise
        state = conn.h11
        if state.our_state is h11.DONE and state.their_state is h11.DONE:
            state.start_next_cycle()
            self._checkin(origin, conn)
        else:  # Connection: close, or an answer delimited by closing the connection
            conn.abort()
        return response

    async def _roundtrip(
        self,
        conn: _Connection,
        request: httpx.Request,
        head: h11.Request,
        body: bytes,
        timeouts: dict[str, float | None],
    ) -> httpx.Response:
        state = conn.h11
        wire = _serialize(state, head, body)
        if wire is None:
            raise httpx.LocalProtocolError(
                "the request body does not match its framing headers", request=request
            )
        try:
            conn.writer.write(wire)
            if conn.writer.transport.get_write_buffer_size():
                # Only when the socket did not take it all at once (the common case for a
                # small request): arming a timeout costs more than the write.
                await _within(conn.writer.drain(), timeouts.get("write"))
        except asyncio.TimeoutError:
            raise httpx.WriteTimeout("sending the request timed out", request=request) from None
        except OSError as exc:
            raise _NoAnswer(httpx.WriteError(str(exc), request=request)) from exc

        read_timeout = timeouts.get("read")
        answered = False
        head_event: h11.Response | None = None
        chunks: list[bytes] = []
        size = 0
        while True:
            event = _next_event(state)
            if event is None:
                raise httpx.RemoteProtocolError(
                    "the server's answer is not valid HTTP/1.1", request=request
                )
            if event is h11.NEED_DATA:
                try:
                    data = await _within(conn.reader.read(READ_SIZE), read_timeout)
                except asyncio.TimeoutError:
                    raise httpx.ReadTimeout(
                        "timed out waiting for the server's answer", request=request
                    ) from None
                except OSError as exc:
                    error = httpx.ReadError(str(exc) or type(exc).__name__, request=request)
                    if answered:
                        raise error from exc
                    raise _NoAnswer(error) from exc
                if not data and not answered:
                    raise _NoAnswer(
                        httpx.RemoteProtocolError(
                            "the server closed the connection without answering", request=request
                        )
                    )
                answered = True
                state.receive_data(data)
            elif isinstance(event, h11.Response):
                head_event = event
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > self._max_response_bytes:
                    raise httpx.RemoteProtocolError(
                        f"the answer is larger than {self._max_response_bytes} bytes",
                        request=request,
                    )
                chunks.append(event.data)
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
            stream=httpx.ByteStream(b"".join(chunks)),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": head_event.reason},
        )

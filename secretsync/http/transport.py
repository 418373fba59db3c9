"""A lean HTTP/1.1 keep-alive transport for httpx: its own HTTP/1.1 codec (codec.py) over an
asyncio protocol (connection.py). A fenced fast path:

- Replaces httpx's default async transport (httpcore's pool on anyio, with h11), which
  secretsync still uses behind a proxy (client.py).
- Gains 6.1x less CPU per request: 450 us instead of 2,749 us for a group listing, 16 in
  flight (2-core shared machine, medians of 5 runs of 1,000 listings, the variants taking
  turns). httpcore rescans its whole pool on every request and answer. Reproduce:
  `.venv/bin/python benchmarks/fast_paths.py --only http`, the row "lean transport off".
  codec.py is a fast path of its own inside this one, with its own row ("codec off (h11)").
- Pinned to httpx's behaviour by the tests that run the same attacks and exchanges through
  both transports (tests/http/test_hostile_server.py: size, encoding, deadlines;
  tests/http/test_tls.py: trust and certificate failures; tests/sourcecraft/test_paths.py:
  request lines as a server receives them; tests/http/test_lean_answers.py: the answer
  objects), and by tests/http/test_transport_*.py against servers that misbehave in every
  way the module below handles.
- Delete it when httpx's own transport comes within ~20% of it per request (re-run the
  benchmark after an httpx or httpcore upgrade), or when secretsync needs what it leaves out.

It does only what secretsync needs:

- HTTP/1.1 with keep-alive; whole bodies in memory (requests are read first, answers are
  collected up to `max_response_bytes`, limits.py: an answer in an encoding other than
  identity or announcing more is refused on its head, one growing past it as it arrives;
  `AnswerRefused`, and the connection is dropped). No HTTP/2, no upgrades, no streaming.
- Idle connections wait per origin in a deque; checkout pops the newest (LIFO) in O(1) and
  drops it when it idled past `keepalive_expiry_s`, the server has closed it, or the server
  sent bytes while it idled (connection.py).
- At most `max_connections` requests hold a connection at once (a semaphore), and idle
  connections are evicted so that open ones stay within that bound too.
- A server may close an idle keep-alive connection at any moment, and that close can cross
  our next request on the wire. So when a *reused* connection fails before one byte of the
  answer arrives, the request is sent once more on a fresh connection. That is safe because
  every request secretsync sends (GET, PUT of a whole value, DELETE) is idempotent. A fresh
  connection that fails is reported at once; retries with backoff belong to retry.py.
- TLS always verifies the certificate and the host name, trusting what httpx's own transport
  trusts (tls.py: SSL_CERT_FILE, SSL_CERT_DIR, else certifi's bundle).
- Proxies are not supported: `proxy_configured()` lets the caller use httpx's own transport
  when a proxy variable is set.

The connections themselves, and one exchange on one, are in connection.py. Nothing here logs
or quotes a header or a body: Authorization carries the token, bodies carry values.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
import urllib.request
from collections import deque
from collections.abc import Callable

import httpx

from secretsync.http import codec, connection
from secretsync.http.connection import Connection, NoAnswer, within
from secretsync.http.limits import MAX_ANSWER_BYTES
from secretsync.http.tls import trust_context

__all__ = ["LeanAsyncTransport", "proxy_configured"]

_Origin = tuple[bytes, str, int]  # scheme, host, port
DEFAULT_PORTS = {b"http": 80, b"https": 443}


def proxy_configured() -> bool:
    """Whether HTTP_PROXY, HTTPS_PROXY or ALL_PROXY (either case) is set, as httpx reads them."""
    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))


class LeanAsyncTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 keep-alive for `httpx.AsyncClient(transport=...)`; see the module docstring."""

    def __init__(
        self,
        *,
        max_connections: int,
        ssl_context: ssl.SSLContext | None = None,
        keepalive_expiry_s: float = 30.0,
        connect_timeout_s: float = 10.0,
        max_response_bytes: int = MAX_ANSWER_BYTES,
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
        self._idle: dict[_Origin, deque[Connection]] = {}
        self._idle_count = 0
        self._active = 0  # requests holding a slot

    @property
    def ssl_context(self) -> ssl.SSLContext:
        # Built on first use: loading the CA bundle costs ~20 ms that plain http never needs.
        if self._ssl_context is None:
            self._ssl_context = trust_context()
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
        method = request.method.encode("ascii", "replace")
        body = await request.aread()
        unwritable: str | None = None
        try:
            wire = connection.encode_request(method, url.raw_path, headers, body)
        except codec.Unwritable as exc:
            unwritable = "framing" if exc.framing else "head"
        if unwritable is not None:  # raised here, so that no codec error rides along
            raise httpx.LocalProtocolError(
                "the request body does not match its framing headers"
                if unwritable == "framing"
                else "the request cannot be written as HTTP/1.1 (invalid method, target or header)",
                request=request,
            )
        timeouts = request.extensions.get("timeout") or {}
        if self._slots.locked():
            try:
                await within(self._slots.acquire(), timeouts.get("pool"))
            except TimeoutError:
                raise httpx.PoolTimeout("no connection slot came free", request=request) from None
        else:
            await self._slots.acquire()
        self._active += 1
        try:
            conn = self._checkout(origin)
            if conn is not None:
                try:
                    return await self._exchange(conn, origin, request, method, wire, timeouts)
                except NoAnswer:
                    # Stale keep-alive connection: send once more on a fresh one (see the
                    # module docstring). Older idle ones to this origin are likelier stale.
                    self._drop_idle(origin)
            conn = await self._connect(origin, request, timeouts.get("connect"))
            try:
                return await self._exchange(conn, origin, request, method, wire, timeouts)
            except NoAnswer as exc:
                raise exc.error from exc.__cause__
        finally:
            self._active -= 1
            self._slots.release()

    async def aclose(self) -> None:
        idle = [conn for conns in self._idle.values() for conn in conns]
        self._idle.clear()
        self._idle_count = 0
        for conn in idle:
            conn.close()
        for conn in idle:
            with contextlib.suppress(Exception):
                await conn.wait_closed()

    # -- the pool ---------------------------------------------------------------------------
    def _checkout(self, origin: _Origin) -> Connection | None:
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

    def _checkin(self, origin: _Origin, conn: Connection) -> None:
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
    ) -> Connection:
        self._make_room()
        scheme, host, port = origin
        tls = self.ssl_context if scheme == b"https" else None
        try:
            _, conn = await within(
                asyncio.get_running_loop().create_connection(
                    Connection,
                    host,
                    port,
                    ssl=tls,
                    server_hostname=host if tls is not None else None,
                ),
                timeout_s if timeout_s is not None else self._connect_timeout_s,
            )
        except TimeoutError:
            raise httpx.ConnectTimeout(
                f"connecting to {host}:{port} timed out", request=request
            ) from None
        except OSError as exc:  # refused, reset, DNS (gaierror), TLS verification (SSLError)
            raise httpx.ConnectError(f"{host}:{port}: {exc}", request=request) from exc
        sock = conn.transport.get_extra_info("socket") if conn.transport is not None else None
        if sock is not None:
            # Small writes on a keep-alive connection otherwise wait ~40 ms for a delayed ACK
            # (selector loops already set this; a proactor or uvloop may not).
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    # -- one request ------------------------------------------------------------------------
    async def _exchange(
        self,
        conn: Connection,
        origin: _Origin,
        request: httpx.Request,
        method: bytes,
        wire: tuple[bytes, bool],
        timeouts: dict[str, float | None],
    ) -> httpx.Response:
        try:
            response = await conn.roundtrip(
                request, method, wire, timeouts, self._max_response_bytes
            )
        except BaseException:  # errors, timeouts and cancellation alike
            conn.abort()
            raise
        if conn.reusable:
            self._checkin(origin, conn)
        else:  # Connection: close, or an answer delimited by closing the connection
            conn.abort()
        return response

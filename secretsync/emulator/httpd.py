"""HTTP/1.1 plumbing: a threading server with keep-alive, TCP_NODELAY, and one-write answers.

It knows nothing of the API: every request goes to the `app` callable given to `Server`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from secretsync.emulator.protocol import Reply

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "secretsync-emulator"
    timeout = 60  # an idle keep-alive connection frees its thread after this
    server: Server
    received = 0.0  # the server clock's reading when the request line arrived

    def setup(self) -> None:
        super().setup()
        # Without this, the small writes of a keep-alive exchange wait ~40 ms on delayed ACKs.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def parse_request(self) -> bool:
        # Called once the request line is in: the moment the request arrived, before the
        # (slow) header parsing, so latency is measured the way a client sees it.
        self.received = self.server.clock()
        return super().parse_request()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the emulator keeps its own log, without values

    def _any(self) -> None:
        self.server.app(self)

    do_GET = do_PUT = do_DELETE = do_POST = do_PATCH = _any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(
        self,
        address: tuple[str, int],
        app: Callable[[Handler], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.clock = clock
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)

    def track(self, conn: socket.socket, *, add: bool) -> None:
        with self._open_lock:
            if add:
                self._open.add(conn)
            else:
                self._open.discard(conn)

    def close_connections(self) -> None:
        with self._open_lock:
            conns = list(self._open)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer is normal under fault tests; anything else is a bug.
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


def read_body(h: Handler) -> bytes | None:
    """The request body, or None when it cannot be read (the connection is then closed)."""
    if "Transfer-Encoding" in h.headers:
        h.close_connection = True  # chunked bodies are not supported; the stream is out of sync
        return None
    try:
        length = int(h.headers.get("Content-Length") or 0)
    except ValueError:
        length = -1
    if not 0 <= length <= MAX_BODY_BYTES:
        h.close_connection = True
        return None
    return h.rfile.read(length) if length else b""


def send(h: Handler, reply: Reply, request_id: str) -> None:
    body = json.dumps(reply.body, separators=(",", ":")).encode()
    lines = [
        f"HTTP/1.1 {reply.status} {HTTPStatus(reply.status).phrase}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        f"Server: {h.server_version}",
    ]
    if request_id:
        lines.append(f"X-Request-Id: {request_id}")
    lines.extend(f"{name}: {value}" for name, value in reply.headers)
    if h.close_connection:
        lines.append("Connection: close")
    # One write for head and body: no partial packets for Nagle or delayed ACKs to hold.
    h.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

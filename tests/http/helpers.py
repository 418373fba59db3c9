"""Shared helpers of the HTTP tests: small HTTP/1.1 servers on 127.0.0.1, in the
test's own event loop.

`Server` parses requests by hand and writes whatever bytes its handler returns, so each test
can answer exactly as a misbehaving server would: chunked, `Connection: close`, hanging up
without an answer, never answering. It counts accepted connections and notices when the
client hangs up, which is how keep-alive reuse and "a broken connection is never reused" are
observed from outside.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from secretsync.http.transport import LeanAsyncTransport

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    conn: int  # which accepted connection (1-based) carried it


@dataclass
class Reply:
    data: bytes | None  # None: hang up without answering
    hang_up: bool = False  # close the connection after the answer


def ok(body: bytes = b"{}", *extra: str, status: str = "200 OK") -> Reply:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *extra]
    return Reply(("\r\n".join(head) + "\r\n\r\n").encode() + body)


Handler = Callable[[Seen], Awaitable[Reply]]


@dataclass
class Server:
    handler: Handler
    tls: ssl.SSLContext | None = None
    accepted: int = 0
    seen: list[Seen] = field(default_factory=list)
    client_closed: set[int] = field(default_factory=set)  # connections the client hung up
    ended: set[int] = field(default_factory=set)  # connections the server has closed
    in_flight: int = 0
    peak: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._server.close()
        for writer in self._writers:
            writer.close()
        with contextlib.suppress(TimeoutError):  # let each connection's task end, not be cancelled
            await self.wait_for(lambda: len(self.ended) == self.accepted)
        await self._server.wait_closed()

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        while not condition():
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 5)

    def _notify(self) -> None:
        self.changed.set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        number = self.accepted
        self._writers.append(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    self.client_closed.add(number)
                    return
                request_line, *lines = head.decode().rstrip("\r\n").split("\r\n")
                method, target, _ = request_line.split(" ")
                headers = {}
                for line in lines:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                seen = Seen(method, target, headers, body, number)
                self.seen.append(seen)
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
                self._notify()
                try:
                    reply = await self.handler(seen)
                finally:
                    self.in_flight -= 1
                if reply.data is None:
                    return
                writer.write(reply.data)
                with contextlib.suppress(ConnectionError):
                    await writer.drain()
                if reply.hang_up:
                    return
        finally:
            writer.close()
            self.ended.add(number)
            self._notify()


def client(max_connections=4, **options):
    transport = LeanAsyncTransport(max_connections=max_connections, **options)
    return httpx.AsyncClient(transport=transport, timeout=5)


async def answer_ok(seen: Seen) -> Reply:
    return ok(json.dumps({"path": seen.target}).encode(), "Content-Type: application/json")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

"""LeanAsyncTransport against small HTTP/1.1 servers on 127.0.0.1, in the test's own event loop.

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
import shutil
import socket
import ssl
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from secretsync.http.client import LeanAsyncClient
from secretsync.http.transport import LeanAsyncTransport
from secretsync.sourcecraft.client import build_http_client

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


# ---------------------------------------------------------------------------- requests


def test_get_and_put_round_trip_with_headers_query_and_json_body():
    async def echo(seen: Seen) -> Reply:
        body = json.dumps({"method": seen.method, "got": json.loads(seen.body or b"null")})
        return ok(body.encode(), "Content-Type: application/json", "X-Request-Id: r-1")

    async def main():
        async with Server(echo) as server, client() as http:
            got = await http.get(f"{server.url}/repos/a?page_token=x%2Fy&n=2")
            put = await http.put(
                f"{server.url}/secrets/K", json={"value": "djE="}, headers={"Authorization": "B t"}
            )
            return server, got, put

    server, got, put = asyncio.run(main())
    assert got.status_code == 200
    assert got.json() == {"method": "GET", "got": None}
    assert got.reason_phrase == "OK"
    assert got.http_version == "HTTP/1.1"
    assert put.json() == {"method": "PUT", "got": {"value": "djE="}}
    assert put.headers["x-request-id"] == "r-1"
    first, second = server.seen
    assert first.target == "/repos/a?page_token=x%2Fy&n=2"
    assert first.headers["host"] == f"127.0.0.1:{server.port}"
    assert second.method == "PUT"
    assert second.headers["content-type"] == "application/json"
    assert second.headers["content-length"] == str(len(second.body))
    assert second.headers["authorization"] == "B t"


def test_keep_alive_reuses_one_connection():
    async def main():
        async with Server(answer_ok) as server, client() as http:
            for n in range(10):
                response = await http.get(f"{server.url}/n/{n}")
                assert response.json() == {"path": f"/n/{n}"}
            return server

    server = asyncio.run(main())
    assert server.accepted == 1
    assert len(server.seen) == 10


def test_concurrency_is_bounded_by_max_connections():
    async def slow(seen: Seen) -> Reply:
        await asyncio.sleep(0.01)  # lets every request that could be in flight arrive
        return await answer_ok(seen)

    async def main():
        async with Server(slow) as server, client(max_connections=2) as http:
            answers = await asyncio.gather(*(http.get(f"{server.url}/{n}") for n in range(8)))
            return server, answers

    server, answers = asyncio.run(main())
    assert [a.json()["path"] for a in answers] == [f"/{n}" for n in range(8)]
    assert server.peak == 2
    assert server.accepted == 2


def test_chunked_204_and_head_answers_keep_the_connection():
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
        b'5\r\n{"a":\r\n3\r\n 1}\r\n0\r\n\r\n'
    )

    async def answers(seen: Seen) -> Reply:
        if seen.target == "/chunked":
            return Reply(chunked)
        if seen.method == "HEAD":  # announces a body it omits, as HEAD answers do
            return Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
        return Reply(b"HTTP/1.1 204 No Content\r\n\r\n")

    async def main():
        async with Server(answers) as server, client() as http:
            got = await http.get(f"{server.url}/chunked")
            empty = await http.delete(f"{server.url}/x")
            head = await http.head(f"{server.url}/h")
            after = await http.get(f"{server.url}/chunked")
            return server, got, empty, head, after

    server, got, empty, head, after = asyncio.run(main())
    assert got.json() == {"a": 1}
    assert "content-length" not in got.headers  # nothing added that the server never sent
    assert (empty.status_code, empty.content) == (204, b"")
    assert (head.status_code, head.content) == (200, b"")
    assert after.json() == {"a": 1}
    assert server.accepted == 1


def test_connection_close_answers_are_not_reused():
    async def closing(seen: Seen) -> Reply:
        if seen.target == "/eof":  # no length: the body ends when the connection does
            return Reply(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil-eof", hang_up=True)
        reply = ok(b"bye", "Connection: close")
        return Reply(reply.data, hang_up=True)

    async def main():
        async with Server(closing) as server, client() as http:
            first = await http.get(f"{server.url}/a")
            second = await http.get(f"{server.url}/eof")
            third = await http.get(f"{server.url}/b")
            return server, [first.text, second.text, third.text]

    server, texts = asyncio.run(main())
    assert texts == ["bye", "until-eof", "bye"]
    assert server.accepted == 3
    assert [s.conn for s in server.seen] == [1, 2, 3]


def test_idle_connections_past_the_keepalive_expiry_are_closed_not_reused():
    now = [0.0]

    async def main():
        async with (
            Server(answer_ok) as server,
            client(keepalive_expiry_s=30.0, clock=lambda: now[0]) as http,
        ):
            await http.get(f"{server.url}/1")
            now[0] = 29.0
            await http.get(f"{server.url}/2")  # idle 29 s: reused
            now[0] = 60.0
            await http.get(f"{server.url}/3")  # idle 31 s: a new connection
            await server.wait_for(lambda: 1 in server.client_closed)
            return server

    server = asyncio.run(main())
    assert [s.conn for s in server.seen] == [1, 1, 2]


def test_idle_connections_to_another_origin_count_against_max_connections():
    async def main():
        async with (
            Server(answer_ok) as first,
            Server(answer_ok) as second,
            client(max_connections=1) as http,
        ):
            await http.get(f"{first.url}/a")
            await http.get(f"{second.url}/b")  # one connection at most: first's idle one goes
            await first.wait_for(lambda: 1 in first.client_closed)
            await http.get(f"{first.url}/c")
            return first, second

    first, second = asyncio.run(main())
    assert [s.conn for s in first.seen] == [1, 2]
    assert second.accepted == 1


# ---------------------------------------------------------------------------- failures


def test_server_closing_an_idle_connection_is_survived():
    async def answer_then_hang_up(seen: Seen) -> Reply:
        reply = await answer_ok(seen)
        return Reply(reply.data, hang_up=True)  # no Connection: close header

    async def main():
        async with Server(answer_then_hang_up) as server, client() as http:
            await http.get(f"{server.url}/1")
            await server.wait_for(lambda: 1 in server.ended)
            second = await http.get(f"{server.url}/2")
            return server, second

    server, second = asyncio.run(main())
    assert second.json() == {"path": "/2"}
    assert [s.conn for s in server.seen] == [1, 2]


def test_a_stale_keep_alive_connection_is_retried_once_on_a_fresh_one():
    # The race the retry exists for: the server closes the kept-alive connection just as our
    # next request arrives on it, so the request is lost without an answer.
    count = 0

    async def drop_second_request(seen: Seen) -> Reply:
        nonlocal count
        count += 1
        return Reply(None) if count == 2 else await answer_ok(seen)

    async def main():
        async with Server(drop_second_request) as server, client() as http:
            first = await http.get(f"{server.url}/1")
            second = await http.get(f"{server.url}/2")
            return server, first, second

    server, first, second = asyncio.run(main())
    assert (first.json(), second.json()) == ({"path": "/1"}, {"path": "/2"})
    assert [(s.target, s.conn) for s in server.seen] == [("/1", 1), ("/2", 1), ("/2", 2)]


def test_a_server_that_never_answers_fails_after_at_most_one_retry():
    async def drop_after_first(seen: Seen) -> Reply:
        return await answer_ok(seen) if seen.target == "/ok" else Reply(None)

    async def main():
        async with Server(drop_after_first) as server, client() as http:
            with pytest.raises(httpx.RemoteProtocolError) as fresh:
                await http.get(f"{server.url}/fresh")  # a fresh connection: no retry
            assert server.accepted == 1
            await http.get(f"{server.url}/ok")
            with pytest.raises(httpx.RemoteProtocolError) as reused:
                await http.get(f"{server.url}/reused")  # kept alive: one retry, fresh
            return server, fresh.value, reused.value

    server, fresh, reused = asyncio.run(main())
    assert "closed the connection without answering" in str(fresh)
    assert isinstance(reused.request, httpx.Request)
    assert [(s.target, s.conn) for s in server.seen] == [
        ("/fresh", 1),
        ("/ok", 2),
        ("/reused", 2),
        ("/reused", 3),
    ]


def test_read_timeout_closes_the_connection():
    release = asyncio.Event()

    async def late(seen: Seen) -> Reply:
        await release.wait()
        return ok(b"too late")

    async def main():
        async with Server(late) as server, client() as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.get(server.url, timeout=httpx.Timeout(5, read=0.05))
            release.set()  # the server answers, then finds the client gone
            await server.wait_for(lambda: 1 in server.client_closed)

    asyncio.run(main())


def test_connection_refused_is_a_connect_error():
    async def main():
        async with client() as http:
            await http.get(f"http://127.0.0.1:{free_port()}/")

    with pytest.raises(httpx.ConnectError):
        asyncio.run(main())


def test_an_answer_over_max_response_bytes_is_refused_and_the_connection_dropped():
    async def big(seen: Seen) -> Reply:
        return ok(b"x" * 1000) if seen.target == "/big" else ok(b"small")

    async def main():
        async with Server(big) as server, client(max_response_bytes=100) as http:
            with pytest.raises(httpx.RemoteProtocolError, match="larger than 100 bytes"):
                await http.get(f"{server.url}/big")
            after = await http.get(f"{server.url}/small")
            return server, after

    server, after = asyncio.run(main())
    assert after.text == "small"
    assert [s.conn for s in server.seen] == [1, 2]


def test_an_invalid_answer_is_a_remote_protocol_error():
    async def garbage(seen: Seen) -> Reply:
        return Reply(b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n")

    async def main():
        async with Server(garbage) as server, client() as http:
            await http.get(server.url)

    with pytest.raises(httpx.RemoteProtocolError, match=r"not valid HTTP/1\.1") as caught:
        asyncio.run(main())
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


def test_cancellation_mid_request_never_returns_the_connection_to_the_pool():
    arrived = asyncio.Event()
    release = asyncio.Event()

    async def slow_first(seen: Seen) -> Reply:
        if seen.target == "/slow":
            arrived.set()
            await release.wait()
            return ok(b"first")  # a pooled half-used connection would hand this to /next
        return ok(b"second")

    async def main():
        async with Server(slow_first) as server, client(max_connections=1) as http:
            task = asyncio.create_task(http.get(f"{server.url}/slow"))
            await arrived.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            release.set()
            following = await http.get(f"{server.url}/next")
            await server.wait_for(lambda: 1 in server.client_closed)
            return server, following

    server, following = asyncio.run(main())
    assert following.text == "second"
    assert [(s.target, s.conn) for s in server.seen] == [("/slow", 1), ("/next", 2)]


def test_a_header_h11_rejects_is_not_quoted_in_the_error():
    async def main():
        async with Server(answer_ok) as server, client() as http:
            await http.get(server.url, headers={"Authorization": "Bearer tok-SECRET\r\nX: y"})

    with pytest.raises(httpx.LocalProtocolError) as caught:
        asyncio.run(main())
    assert "SECRET" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


# ---------------------------------------------------------------------------- TLS


def test_https_uses_a_verifying_context():
    context = LeanAsyncTransport(max_connections=1).ssl_context
    assert context.check_hostname is True
    assert context.verify_mode == ssl.CERT_REQUIRED


def self_signed(tmp_path):
    """A server context with a fresh self-signed certificate for `localhost`, and its PEM."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return server, cert.read_text()


def test_tls_round_trip_and_verification_failures(tmp_path):
    server_context, ca_pem = self_signed(tmp_path)
    trusting = ssl.create_default_context(cadata=ca_pem)

    async def main():
        async with Server(answer_ok, tls=server_context) as server:
            async with client(ssl_context=trusting) as http:
                good = await http.get(f"https://localhost:{server.port}/tls")
                assert good.json() == {"path": "/tls"}
                with pytest.raises(httpx.ConnectError):  # the name does not match
                    await http.get(f"https://127.0.0.1:{server.port}/tls")
            async with client() as http:  # certifi's CAs do not know this certificate
                with pytest.raises(httpx.ConnectError):
                    await http.get(f"https://localhost:{server.port}/tls")
            return server

    server = asyncio.run(main())
    assert [s.target for s in server.seen] == ["/tls"]


# ---------------------------------------------------------------------------- build_http_client


def test_build_http_client_uses_the_lean_transport_without_a_proxy(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)

    async def main():
        async with Server(answer_ok) as server:
            async with build_http_client(parallelism=3, timeout_s=7) as http:
                assert isinstance(http._transport, LeanAsyncTransport)
                response = await http.get(f"{server.url}/v1/user")
            return server, response

    server, response = asyncio.run(main())
    assert response.json() == {"path": "/v1/user"}
    assert server.seen[0].headers["user-agent"].startswith("secretsync/")


def test_build_http_client_goes_through_a_proxy_from_the_environment(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)

    async def main():
        async with Server(answer_ok) as proxy:
            monkeypatch.setenv("HTTP_PROXY", proxy.url)
            async with build_http_client(parallelism=3) as http:
                response = await http.get("http://api.example.test/v1/user")
            return proxy, response

    proxy, response = asyncio.run(main())
    assert response.status_code == 200
    assert proxy.seen[0].target == "http://api.example.test/v1/user"  # absolute form: proxied


def test_build_http_client_keeps_no_cookies(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)

    async def planting(seen: Seen) -> Reply:
        return ok(b"{}", "Set-Cookie: planted=1; Path=/")

    async def main():
        async with Server(planting) as server:
            async with build_http_client(parallelism=2) as http:
                await http.get(f"{server.url}/first")
                await http.get(f"{server.url}/second")
                return server, len(http.cookies.jar)

    server, kept = asyncio.run(main())
    assert kept == 0
    assert "cookie" not in server.seen[1].headers


# ---------------------------------------------------------------------------- LeanAsyncClient


def _lean_client(**kwargs: Any) -> LeanAsyncClient:
    return LeanAsyncClient(transport=LeanAsyncTransport(max_connections=2), **kwargs)


def test_lean_client_sends_a_plain_request_straight_to_its_transport(monkeypatch):
    async def no_httpx_path(*args: object, **kwargs: object) -> None:
        raise AssertionError("httpx's auth/redirect path ran for a plain send")

    monkeypatch.setattr(httpx.AsyncClient, "_send_handling_auth", no_httpx_path)

    async def main():
        async with Server(answer_ok) as server:
            async with _lean_client(headers={"User-Agent": "t/1"}, timeout=4) as http:
                built = await http.get(f"{server.url}/built", params={"a": "1"})
                bare = httpx.Request("PUT", f"{server.url}/bare", json={"k": "v"})
                sent = await http.send(bare)
            return server, built, sent, bare

    server, built, sent, bare = asyncio.run(main())
    assert (built.status_code, built.json()) == (200, {"path": "/built?a=1"})
    assert built.request.url.path == "/built"
    assert sent.json() == {"path": "/bare"}
    assert [(s.method, s.target, s.body) for s in server.seen] == [
        ("GET", "/built?a=1", b""),
        ("PUT", "/bare", b'{"k":"v"}'),
    ]
    assert server.seen[0].headers["user-agent"] == "t/1"
    # A request built by hand gets the client's timeouts, as httpx's send would give it.
    assert bare.extensions["timeout"] == httpx.Timeout(4).as_dict()


def test_lean_client_keeps_httpx_semantics_where_they_matter():
    calls: list[str] = []

    async def on_request(request: httpx.Request) -> None:
        calls.append(f"request {request.url.path}")

    async def on_response(response: httpx.Response) -> None:
        calls.append(f"response {response.status_code}")

    async def main():
        async with Server(answer_ok) as server:
            hooked = _lean_client(event_hooks={"request": [on_request], "response": [on_response]})
            async with hooked:
                await hooked.get(f"{server.url}/hooked")
            async with _lean_client() as http:
                async with http.stream("GET", f"{server.url}/streamed") as streamed:
                    body = await streamed.aread()
                basic = await http.get(f"{server.url}/auth", auth=("user", "pw"))
            with pytest.raises(RuntimeError, match="closed"):
                await http.get(f"{server.url}/after-close")
            return server, body, basic

    server, body, basic = asyncio.run(main())
    assert calls == ["request /hooked", "response 200"]
    assert json.loads(body) == {"path": "/streamed"}
    assert basic.status_code == 200
    assert server.seen[-1].headers["authorization"].startswith("Basic ")
    assert [s.target for s in server.seen] == ["/hooked", "/streamed", "/auth"]


def test_build_http_client_is_a_lean_client_without_a_proxy(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    assert isinstance(build_http_client(parallelism=2), LeanAsyncClient)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.test:3128")
    assert not isinstance(build_http_client(parallelism=2), LeanAsyncClient)

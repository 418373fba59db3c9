"""build_http_client: the lean transport without a proxy, httpx's with one, no cookies."""

from __future__ import annotations

import asyncio

from secretsync.http.transport import LeanAsyncTransport
from secretsync.sourcecraft.client import build_http_client
from tests.http.helpers import PROXY_VARIABLES, Reply, Seen, Server, answer_ok, ok


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

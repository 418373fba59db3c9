"""LeanAsyncClient: plain requests go straight to the transport; httpx semantics kept."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from secretsync.http.client import LeanAsyncClient
from secretsync.http.transport import LeanAsyncTransport
from secretsync.sourcecraft.client import build_http_client
from tests.http.helpers import PROXY_VARIABLES, Server, answer_ok


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

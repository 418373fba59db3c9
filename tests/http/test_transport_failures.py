"""LeanAsyncTransport: dropped, stale, silent and invalid answers; timeouts; cancellation."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from secretsync.http.limits import AnswerRefused
from tests.http.helpers import Reply, Seen, Server, answer_ok, client, free_port, ok


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
            with pytest.raises(AnswerRefused, match="larger than 100 bytes"):
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

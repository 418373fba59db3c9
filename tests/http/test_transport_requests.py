"""LeanAsyncTransport: requests, keep-alive reuse, bounded concurrency, idle expiry."""

from __future__ import annotations

import asyncio
import json

from tests.http.helpers import Reply, Seen, Server, answer_ok, client, ok


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

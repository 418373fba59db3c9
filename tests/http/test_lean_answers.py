"""The lean transport's answers as httpx's own transport gives them (same server, same bytes),
and what its protocol-based connection does with bytes and time: stray bytes on an idle
connection, a read timeout that counts from the last byte, a request larger than the socket
takes at once, a server that never reads it."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from secretsync.http.client import LeanAsyncClient
from secretsync.http.transport import LeanAsyncTransport
from tests.http.helpers import Reply, Seen, Server, client, ok

CHUNKED = (
    b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json"
    b'; charset=utf-8\r\nX-Two: a\r\nX-Two: b\r\n\r\n4;ext=1\r\n{"a"\r\n7\r\n: "\xc3\xa9"}\r\n'
    b"0\r\nTrailer: t\r\n\r\n"
)


async def _answers(seen: Seen) -> Reply:
    if seen.target == "/chunked":
        return Reply(CHUNKED)
    if seen.target == "/empty":
        return Reply(b"HTTP/1.1 204 No Content\r\nX-Empty: 1\r\n\r\n")
    if seen.target == "/identity":
        return ok(b"plain text", "Content-Encoding: identity", status="404 Not Found")
    return ok(b'{"k": [1, 2]}', "Content-Type: application/json")


def _shape(response: httpx.Response) -> tuple[object, ...]:
    return (
        response.status_code,
        response.reason_phrase,
        response.http_version,
        response.headers.multi_items(),
        response.content,
        response.text,
        response.encoding,
        response.is_closed,
        response.is_stream_consumed,
        response.num_bytes_downloaded,
    )


@pytest.mark.parametrize("path", ["/json", "/chunked", "/empty", "/identity"])
def test_an_answer_reads_as_httpx_s_own_transport_reads_it(path):
    async def main():
        async with Server(_answers) as server:
            url = f"{server.url}{path}"
            async with httpx.AsyncClient() as own:
                theirs = await own.get(url)
            transport = LeanAsyncTransport(max_connections=2)
            async with LeanAsyncClient(transport=transport) as lean:
                ours = await lean.get(url)
                streamed_chunks = []
                async with lean.stream("GET", url) as streamed:
                    async for chunk in streamed.aiter_bytes():
                        streamed_chunks.append(chunk)
            async with httpx.AsyncClient(transport=LeanAsyncTransport(max_connections=2)) as plain:
                through_httpx_send = await plain.get(url)
            return theirs, ours, through_httpx_send, b"".join(streamed_chunks)

    theirs, ours, through_httpx_send, streamed = asyncio.run(main())
    # What httpx counts as downloaded is what it decoded itself; ours came read.
    assert _shape(ours)[:-1] == _shape(theirs)[:-1]
    assert _shape(through_httpx_send)[:-1] == _shape(theirs)[:-1]
    assert streamed == theirs.content
    if path != "/empty":
        assert ours.content  # the corpus is not all empty bodies
    if path == "/json":
        assert ours.json() == theirs.json() == {"k": [1, 2]}


def test_bytes_on_an_idle_connection_retire_it():
    async def then_stray(seen: Seen) -> Reply:
        if seen.target == "/first":
            # The answer, then, a moment later, bytes nobody asked for.
            return Reply(ok(b"one").data + b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray")
        return ok(b"two")

    async def main():
        async with Server(then_stray) as server, client() as http:
            first = await http.get(f"{server.url}/first")
            second = await http.get(f"{server.url}/second")
            return server, first, second

    server, first, second = asyncio.run(main())
    assert (first.text, second.text) == ("one", "two")
    assert [s.conn for s in server.seen] == [1, 2]


def test_bytes_arriving_later_on_an_idle_connection_retire_it_too():
    async def late_stray(seen: Seen) -> Reply:
        return ok(b"answer")

    async def main():
        async with Server(late_stray) as server, client() as http:
            await http.get(f"{server.url}/a")
            # The server writes again on the idle connection.
            writer = server._writers[0]
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray")
            await writer.drain()
            await asyncio.sleep(0.05)  # let the bytes arrive
            after = await http.get(f"{server.url}/b")
            return server, after

    server, after = asyncio.run(main())
    assert after.text == "answer"
    assert [s.conn for s in server.seen] == [1, 2]


def test_the_read_timeout_counts_from_the_last_byte_not_the_request():
    async def main():
        async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            head = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n"
            writer.write(head)
            for byte in b"steady":  # 6 x 0.1 s: longer than the read timeout, every gap shorter
                await asyncio.sleep(0.1)
                writer.write(bytes([byte]))
            await writer.drain()
            await reader.read()  # until the client hangs up
            writer.close()

        async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nst")
            await reader.read()  # never the rest
            writer.close()

        dripping = await asyncio.start_server(drip, "127.0.0.1", 0)
        stalling = await asyncio.start_server(stall, "127.0.0.1", 0)
        timeout = httpx.Timeout(5, read=0.35)
        try:
            async with client() as http:
                port = dripping.sockets[0].getsockname()[1]
                steady = await http.get(f"http://127.0.0.1:{port}/", timeout=timeout)
                port = stalling.sockets[0].getsockname()[1]
                with pytest.raises(httpx.ReadTimeout):
                    await http.get(f"http://127.0.0.1:{port}/", timeout=timeout)
        finally:
            for server in (dripping, stalling):
                server.close()
        return steady

    assert asyncio.run(main()).text == "steady"


def test_a_request_larger_than_the_socket_takes_at_once_is_sent_whole():
    body = bytes(range(256)) * (16 * 1024)  # 4 MiB

    async def slow_reader(seen: Seen) -> Reply:
        return ok(b"%d" % len(seen.body))

    async def main():
        async with Server(slow_reader) as server, client() as http:
            put = await http.put(f"{server.url}/big", content=body)
            return server, put

    server, put = asyncio.run(main())
    assert put.text == str(len(body))
    assert server.seen[0].body == body


def test_a_server_that_never_reads_the_request_is_a_write_timeout():
    async def main():
        async def deaf(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await asyncio.sleep(10)  # reads nothing: the client's send buffer fills up
            finally:
                writer.transport.abort()

        server = await asyncio.start_server(deaf, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with client() as http:
                with pytest.raises(httpx.WriteTimeout):
                    await http.put(
                        f"http://127.0.0.1:{port}/",
                        content=b"x" * (64 * 1024 * 1024),
                        timeout=httpx.Timeout(5, write=0.2),
                    )
        finally:
            server.close()

    asyncio.run(main())

"""A broken or hostile server cannot exhaust or hold the run.

Each attack runs against a real server on 127.0.0.1 (tests/hostile.py), through secretsync's
own transport and through httpx's (used when a proxy variable is set: the same server then
stands in for the proxy):

- size: an answer's body is capped as it arrives, after decoding; compressed answers are
  never asked for and refused when sent anyway (a 64 KB gzip answer inflates to 64 MiB).
  Peak memory is measured in a child process (ru_maxrss) and must stay within a few MB of
  the cap.
- time: a server dripping one byte at a time is cut off by the request's total deadline, and
  the overall deadline of a request holds while an attempt is in flight.
- paging: an org listing that never ends stops with a clear error.
- headers: an odd `Retry-After` is ignored, never an internal error.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import subprocess
import sys
import time
import zlib
from pathlib import Path

import httpx
import pytest

from secretsync.errors import ApiError, TransportError
from secretsync.http.limits import MAX_ANSWER_BYTES
from secretsync.models import Secret
from secretsync.sourcecraft import client as client_module
from secretsync.sourcecraft.client import RetryPolicy, SourceCraftClient, build_http_client
from tests.hostile import REPO_ID, HostileServer, Reply, Seen, answer, json_answer
from tests.virtual_time import run

MiB = 1024 * 1024
BLOCK = b"x" * MiB
FEW_MB = 6 * MiB  # allowance over the cap: allocator slack, h11's buffer, one read
TRANSPORTS = [pytest.param({}, id="lean"), pytest.param({"HTTP_PROXY": "proxy"}, id="httpx")]


def listing_path(group: str) -> str:
    return f"/repos/id:{REPO_ID}/secrets?secret_group={group}"


@functools.cache
def gzip_bomb(inflated: int = 64 * MiB) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip framing
    zeros = bytes(MiB)
    return b"".join([*(packer.compress(zeros) for _ in range(inflated // MiB)), packer.flush()])


def endless(seen: Seen) -> Reply:
    """A chunked answer that never ends on its own (1 GiB at most, for a test's sake)."""
    chunk = b"%x\r\n%s\r\n" % (MiB, BLOCK)
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    return Reply([head, *(chunk for _ in range(1024))], close=True)


def hostile_answers(seen: Seen) -> Reply:
    group = seen.path.partition("secret_group=")[2]
    if group == "bomb":
        body = gzip_bomb()
        return answer(200, body, "Content-Type: application/json", "Content-Encoding: gzip")
    if group == "endless":
        return endless(seen)
    if group == "declared":  # a length past the cap, and then the bytes
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {1024 * MiB}\r\n\r\n".encode()
        return Reply([head, *([BLOCK] * 1024)], close=True)
    if group == "atcap":  # just under the cap: accepted
        size = MAX_ANSWER_BYTES - 1024
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode()
        return Reply([head, *([BLOCK] * (size // MiB)), BLOCK[: size % MiB]])
    return json_answer(200, {"secrets": []})


def proxy_env(transport: dict[str, str], server: HostileServer) -> dict[str, str]:
    return dict.fromkeys(transport, server.url)


# ---------------------------------------------------------------------------- size


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("group", "said"),
    [
        ("bomb", "compressed (gzip), which was not asked for"),
        ("endless", f"larger than {MAX_ANSWER_BYTES} bytes"),
        ("declared", f"larger than {MAX_ANSWER_BYTES} bytes"),
    ],
)
def test_an_oversized_or_compressed_answer_is_refused_once_not_retried(
    monkeypatch, transport, group, said
):
    async def main(url):
        async with build_http_client(parallelism=2) as http:
            client = SourceCraftClient(http, base_url=url, token=Secret(b"tok"))
            with pytest.raises(TransportError) as caught:
                await client.list_secrets(REPO_ID, group)
            return caught.value, client.stats.requests

    with HostileServer(hostile_answers) as server:
        for name, value in proxy_env(transport, server).items():
            monkeypatch.setenv(name, value)
        error, attempts = asyncio.run(main(server.url))
    assert attempts == 1
    assert said in str(error)
    assert str(error).startswith(
        f"GET /repos/id:{REPO_ID}/secrets: SourceCraft's answer was refused"
    )
    assert [seen.headers.get("accept-encoding") for seen in server.seen] == ["identity"]


CHILD = """
import asyncio, json, re, sys
from secretsync.errors import TransportError
from secretsync.models import Secret
from secretsync.sourcecraft.client import SourceCraftClient, build_http_client

url, mode, group, repo_id = sys.argv[1:]

def status(field):  # KiB, from Linux's /proc
    with open("/proc/self/status") as lines:
        return int(re.search(field + r":\\s+(\\d+)", lines.read()).group(1)) * 1024

async def main():
    async with build_http_client(parallelism=2) as http:
        client = SourceCraftClient(http, base_url=url, token=Secret(b"tok"))
        await client.list_secrets(repo_id, "warmup")  # imports, connection, first answer
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # the peak (VmHWM) starts again from what is resident now
        before = status("VmRSS")
        try:
            if mode == "client":
                await client.list_secrets(repo_id, group)
            else:
                from secretsync.http.client import exchange

                target = f"{url}/repos/id:{repo_id}/secrets?secret_group={group}"
                answer = await exchange(http, http.build_request("GET", target), timeout_s=60)
                assert len(answer.content) > 0
            outcome = "read"
        except TransportError:
            outcome = "refused"
        print(json.dumps({"growth": status("VmHWM") - before, "outcome": outcome}))

asyncio.run(main())
"""


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="Linux's /proc only")
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("mode", "group", "outcome"),
    [
        ("client", "bomb", "refused"),
        ("client", "endless", "refused"),
        ("client", "declared", "refused"),
        ("exchange", "atcap", "read"),
    ],
)
def test_peak_memory_of_one_answer_stays_within_a_few_mb_of_the_cap(
    transport, mode, group, outcome
):
    with HostileServer(hostile_answers) as server:
        env = {"PATH": "", **proxy_env(transport, server)}
        child = subprocess.run(
            [sys.executable, "-c", CHILD, server.url, mode, group, REPO_ID],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
    assert child.returncode == 0, child.stderr
    measured = json.loads(child.stdout)
    assert measured["outcome"] == outcome
    print(f"{mode} {group}: peak grew {measured['growth'] / MiB:.1f} MiB")
    assert measured["growth"] < MAX_ANSWER_BYTES + FEW_MB, measured


# ---------------------------------------------------------------------------- time


def drip(seen: Seen) -> Reply:
    """Headers at once, then one byte of the body every 0.2 s (for at most 6 s)."""
    if "warmup" in seen.path:
        return json_answer(200, {"secrets": []})
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: application/json\r\n\r\n"
    pieces: list[bytes | float] = [head]
    for _ in range(30):
        pieces += [0.2, b" "]
    return Reply(pieces, close=True)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("policy", "bound_s"),
    [
        # each attempt is cut at 0.5 s; the request's deadline ends the retries at 1.2 s
        pytest.param(RetryPolicy(request_timeout_s=0.5, deadline_s=1.2), 1.2, id="per-attempt"),
        # one long attempt allowed, but the request's deadline (1 s) holds while it is in flight
        pytest.param(RetryPolicy(request_timeout_s=30, deadline_s=1.0), 1.0, id="deadline"),
    ],
)
def test_a_dripping_answer_is_cut_off_by_the_deadline(monkeypatch, transport, policy, bound_s):
    async def main(url):
        async with build_http_client(parallelism=2) as http:
            client = SourceCraftClient(http, base_url=url, token=Secret(b"tok"), retry=policy)
            await client.list_secrets(REPO_ID, "warmup")
            started = time.monotonic()
            with pytest.raises(TransportError) as caught:
                await client.list_secrets(REPO_ID, "default")
            return caught.value, time.monotonic() - started

    with HostileServer(drip) as server:
        for name, value in proxy_env(transport, server).items():
            monkeypatch.setenv(name, value)
        error, elapsed = asyncio.run(main(server.url))
    assert elapsed < bound_s + 0.5
    assert "no complete answer within" in str(error)


# ---------------------------------------------------------------------------- paging


def repo(n):
    return {"id": f"id-{n}", "slug": f"r{n}", "organization": {"slug": "acme"}}


def call(fn):
    async def main():
        async with httpx.AsyncClient() as http:
            return await fn(
                SourceCraftClient(http, base_url="https://api.test", token=Secret(b"t"))
            )

    return run(main())


def test_empty_pages_with_fresh_tokens_stop_with_a_clear_error(httpx_mock):
    pages = iter(range(10**6))
    httpx_mock.add_callback(
        lambda request: httpx.Response(
            200, json={"repositories": [], "next_page_token": f"t{next(pages)}"}
        ),
        is_reusable=True,
    )
    with pytest.raises(ApiError, match="3 pages in a row listed no new repository"):
        call(lambda c: c.list_org_repos("acme"))
    assert len(httpx_mock.get_requests()) == 3


def test_pages_that_repeat_known_repositories_make_no_progress(httpx_mock):
    pages = iter(range(10**6))
    httpx_mock.add_callback(
        lambda request: httpx.Response(
            200, json={"repositories": [repo(1)], "next_page_token": f"t{next(pages)}"}
        ),
        is_reusable=True,
    )
    with pytest.raises(ApiError, match="no new repository"):
        call(lambda c: c.list_org_repos("acme"))
    assert len(httpx_mock.get_requests()) == 4  # the first page brought r1


def test_a_listing_that_never_ends_stops_at_the_page_bound(httpx_mock, monkeypatch):
    monkeypatch.setattr(client_module, "MAX_PAGES", 20)
    pages = iter(range(10**6))

    def page(request):
        n = next(pages)
        return httpx.Response(200, json={"repositories": [repo(n)], "next_page_token": f"t{n}"})

    httpx_mock.add_callback(page, is_reusable=True)
    with pytest.raises(ApiError, match="did not end within 20 pages"):
        call(lambda c: c.list_org_repos("acme"))
    assert len(httpx_mock.get_requests()) == 20


def test_a_page_larger_than_asked_or_a_huge_token_is_malformed(httpx_mock):
    httpx_mock.add_response(json={"repositories": [repo(1), repo(2)], "next_page_token": ""})
    with pytest.raises(ApiError, match="a page holds 2 repositories, asked 1"):
        call(lambda c: c.list_org_repos("acme", page_size=1))
    httpx_mock.add_response(json={"repositories": [repo(1)], "next_page_token": "t" * 5000})
    with pytest.raises(ApiError, match="implausibly long"):
        call(lambda c: c.list_org_repos("acme"))


def test_a_repository_listed_on_two_pages_counts_once(httpx_mock):
    httpx_mock.add_response(json={"repositories": [repo(1), repo(2)], "next_page_token": "p2"})
    httpx_mock.add_response(json={"repositories": [repo(2), repo(3)], "next_page_token": ""})
    repos = call(lambda c: c.list_org_repos("acme"))
    assert [r.repo_id for r in repos] == ["id-1", "id-2", "id-3"]


# ---------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    "retry_after",
    [
        "²",
        "٣",
        "1²",
        "-5",
        "1e3",
        "0x10",
        "Wed, 99 Foo 2015 07:28:00 GMT",
        "\u2028",
        " ",
    ],
)
def test_an_odd_retry_after_is_ignored(httpx_mock, retry_after):
    httpx_mock.add_response(status_code=429, headers=[(b"Retry-After", retry_after.encode())])
    httpx_mock.add_response(json={"login": "me"})
    assert call(lambda c: c.get_user()) == {"login": "me"}


def test_an_odd_retry_after_on_the_wire_ends_in_success_not_an_internal_error():
    answers = iter(
        [
            answer(429, b"{}", "Retry-After: \xc2\xb2"),  # UTF-8 for "²"
            json_answer(200, {"login": "me"}),
        ]
    )

    async def main(url):
        async with build_http_client(parallelism=2) as http:
            client = SourceCraftClient(http, base_url=url, token=Secret(b"tok"))
            return await client.get_user()

    with HostileServer(lambda seen: next(answers)) as server:
        assert asyncio.run(main(server.url)) == {"login": "me"}
    assert len(server.seen) == 2


def test_listing_values_survive_the_exchange_unchanged():
    value = bytes(range(256)) * 10
    document = {"secrets": [{"key": "K", "value": base64.b64encode(value).decode()}]}

    async def main(url):
        async with build_http_client(parallelism=2) as http:
            client = SourceCraftClient(http, base_url=url, token=Secret(b"tok"))
            return await client.list_secrets(REPO_ID, "default")

    with HostileServer(lambda seen: json_answer(200, document)) as server:
        assert asyncio.run(main(server.url)) == {"K": Secret(value)}

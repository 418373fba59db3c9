"""SourceCraftClient against pytest-httpx: request shapes, payloads, error mapping, retries.

Coroutines run on an event loop with virtual time (`run`): `loop.time()` only moves when
every task is waiting, and then jumps straight to the next timer, so retry and back-off
waits are exact and take no real time. The client gets that clock and `asyncio.sleep`.
"""

import asyncio
import base64
import logging

import httpx
import pytest

from secretsync.errors import ApiError, AuthError, ConfigError, TransportError
from secretsync.models import OperationInfo, RepoInfo, Secret
from secretsync.sourcecraft.client import (
    RetryPolicy,
    SourceCraftClient,
    build_http_client,
)
from secretsync.sourcecraft.throttle import AdaptiveLimiter
from tests.virtual_time import HalfRandom, now, run

BASE = "https://api.example.test/api/v1"  # a path prefix, to prove joins keep it
TOKEN = "tok-0123456789abcdef"
REPO_ID = "6f1c0a52-0000-4000-8000-000000000001"
SECRETS = f"{BASE}/repos/id:{REPO_ID}/secrets"
OP = {"operation_id": "op-1", "status": "scheduled", "status_url": None}


# ---------------------------------------------------------------------------- harness


def call(fn, **options):
    """Run `fn(client)` with a fresh client on the virtual clock; return its result."""

    async def main():
        async with httpx.AsyncClient() as http:
            client = SourceCraftClient(
                http,
                base_url=options.pop("base_url", BASE),
                token=Secret(TOKEN.encode()),
                clock=now,
                rng=HalfRandom(),
                **options,
            )
            return await fn(client)

    return run(main())


def with_stats(fn):
    async def both(client):
        return await fn(client), client.stats

    return both


def stamp(times, response):
    """A callback answering `response` and noting when (virtual time) it was asked."""

    def callback(request):
        times.append(now())
        return response

    return callback


# ---------------------------------------------------------------------------- requests


@pytest.mark.parametrize(
    ("key", "encoded"),
    [("A_B", "A_B"), ("we ird/ä%:k", "we%20ird%2F%C3%A4%25%3Ak")],
)
def test_put_secret_request_shape(httpx_mock, key, encoded):
    value = b"\x00\xff binary \xe2\x82\xac"
    httpx_mock.add_response(
        method="PUT",
        url=f"{SECRETS}/{encoded}?secret_group=staging",
        match_json={"value": base64.b64encode(value).decode()},
        match_headers={"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"},
        status_code=202,
        json={**OP, "status_url": "/api/v1/operations/secrets/id:op-1"},
    )
    op = call(lambda c: c.put_secret(REPO_ID, "staging", key, Secret(value)))
    assert op == OperationInfo(
        operation_id="op-1",
        status="scheduled",
        status_url="/api/v1/operations/secrets/id:op-1",
    )
    request = httpx_mock.get_request()
    # `id:` stays literal; the key is one percent-encoded segment; no value in the URL
    assert request.url.raw_path.decode() == (
        f"/api/v1/repos/id:{REPO_ID}/secrets/{encoded}?secret_group=staging"
    )


def test_default_group_is_sent_explicitly_and_values_never_reach_the_url(httpx_mock, caplog):
    value = "пароль-ü".encode()
    encoded_value = base64.b64encode(value).decode()
    httpx_mock.add_response(
        method="PUT",
        url=f"{SECRETS}/KEY?secret_group=default",
        match_json={"value": encoded_value},
        status_code=202,
        json=OP,
    )
    httpx_mock.add_response(
        url=f"{SECRETS}?secret_group=default",
        json={"secrets": [{"key": "KEY", "value": encoded_value}]},
    )
    caplog.set_level(logging.DEBUG)

    async def both(client):
        await client.put_secret(REPO_ID, "default", "KEY", Secret(value))
        return await client.list_secrets(REPO_ID, "default")

    assert call(both) == {"KEY": Secret(value)}
    for request in httpx_mock.get_requests():
        assert encoded_value not in str(request.url)
    assert f"PUT /api/v1/repos/id:{REPO_ID}/secrets/KEY -> 202 (attempt 1" in caplog.text
    assert encoded_value not in caplog.text
    assert TOKEN not in caplog.text


def test_delete_secret_answers_operation_or_none_when_already_absent(httpx_mock):
    httpx_mock.add_response(
        method="DELETE", url=f"{SECRETS}/OLD?secret_group=prod", status_code=202, json=OP
    )
    httpx_mock.add_response(
        method="DELETE",
        url=f"{SECRETS}/GONE?secret_group=prod",
        status_code=404,
        json={"error_code": "NotFound", "message": "no such secret"},
    )

    async def both(client):
        return (
            await client.delete_secret(REPO_ID, "prod", "OLD"),
            await client.delete_secret(REPO_ID, "prod", "GONE"),
        )

    op, gone = call(both)
    assert op.operation_id == "op-1"
    assert gone is None


def test_empty_write_answer_means_done(httpx_mock):
    httpx_mock.add_response(method="PUT", status_code=204)
    op = call(lambda c: c.put_secret(REPO_ID, "default", "K", Secret(b"v")))
    assert op.finished
    assert op.status == "success"


def test_list_secrets_decodes_values_and_keeps_missing_ones_unknown(httpx_mock):
    httpx_mock.add_response(
        url=f"{SECRETS}?secret_group=default",
        json={
            "secrets": [
                {"key": "PLAIN", "value": base64.b64encode(b"hello").decode()},
                {"key": "EMPTY", "value": ""},
                {"key": "EXTERNAL"},
                {"key": "NULL", "value": None},
            ]
        },
    )
    listing = call(lambda c: c.list_secrets(REPO_ID, "default"))
    assert listing == {
        "PLAIN": Secret(b"hello"),
        "EMPTY": Secret(b""),
        "EXTERNAL": None,
        "NULL": None,
    }


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (b"<html>oops</html>", "not JSON"),
        (b"[]", "JSON object"),
        (b"{}", "`secrets` list"),
        (b'{"secrets": {"A": "eA=="}}', "`secrets` list"),
        (b'{"secrets": [{"value": "eA=="}]}', "no string `key`"),
        (b'{"secrets": [{"key": "A", "value": "not base64!"}]}', "'A' is not base64"),
        (b'{"secrets": [{"key": "A", "value": 12}]}', "'A' is not base64"),
        (b'{"secrets": [{"key": "A", "value": "eA="}]}', "'A' is not base64"),
        (b'{"secrets": [{"key": "A"}, {"key": "A"}]}', "listed twice"),
    ],
)
def test_unreadable_listing_is_an_error_never_an_empty_group(httpx_mock, body, what):
    httpx_mock.add_response(url=f"{SECRETS}?secret_group=default", content=body)
    with pytest.raises(ApiError) as caught:
        call(lambda c: c.list_secrets(REPO_ID, "default"))
    assert caught.value.error_code == "MalformedResponse"
    assert what in caught.value.message
    assert "eA==" not in str(caught.value)


def test_get_repo_by_slug_and_by_id(httpx_mock):
    repo = {"id": REPO_ID, "slug": "backend", "organization": {"id": "o", "slug": "acme"}}
    httpx_mock.add_response(url=f"{BASE}/repos/acme/backend", json=repo)
    httpx_mock.add_response(url=f"{BASE}/repos/id:{REPO_ID}", json=repo)

    async def both(client):
        return await client.get_repo("acme/backend"), await client.get_repo_by_id(REPO_ID)

    expected = RepoInfo(repo_id=REPO_ID, slug="acme/backend")
    assert call(both) == (expected, expected)
    assert httpx_mock.get_requests()[1].url.raw_path.decode() == f"/api/v1/repos/id:{REPO_ID}"


def test_unknown_repo_says_what_to_check(httpx_mock):
    httpx_mock.add_response(
        url=f"{BASE}/repos/acme/nope",
        status_code=404,
        json={"error_code": "NotFound", "message": "repository not found", "request_id": "r-9"},
    )
    with pytest.raises(ApiError) as caught:
        call(lambda c: c.get_repo("acme/nope"))
    assert caught.value.status == 404
    assert caught.value.hint == "check the repository slug/id and that the token can see it"
    assert str(caught.value) == (
        "GET /api/v1/repos/acme/nope -> HTTP 404 NotFound: repository not found (request_id: r-9)"
    )
    with pytest.raises(ConfigError):
        call(lambda c: c.get_repo("no-slash"))


def test_org_repos_follow_page_tokens(httpx_mock):
    def repo(n):
        return {"id": f"id-{n}", "slug": f"r{n}", "organization": {"slug": "acme"}}

    httpx_mock.add_response(
        url=f"{BASE}/orgs/acme/repos?page_size=2",
        json={"repositories": [repo(1), repo(2)], "next_page_token": "p2"},
    )
    httpx_mock.add_response(
        url=f"{BASE}/orgs/acme/repos?page_size=2&page_token=p2",
        json={"repositories": [repo(3)], "next_page_token": ""},
    )
    repos = call(lambda c: c.list_org_repos("acme", page_size=2))
    assert [(r.repo_id, r.slug) for r in repos] == [
        ("id-1", "acme/r1"),
        ("id-2", "acme/r2"),
        ("id-3", "acme/r3"),
    ]


def test_org_repos_stop_on_a_repeated_page_token(httpx_mock):
    page = {"repositories": [], "next_page_token": "same"}
    httpx_mock.add_response(url=f"{BASE}/orgs/acme/repos?page_size=100", json=page)
    httpx_mock.add_response(url=f"{BASE}/orgs/acme/repos?page_size=100&page_token=same", json=page)
    with pytest.raises(ApiError, match="same page token came back twice"):
        call(lambda c: c.list_org_repos("acme"))


@pytest.mark.parametrize(
    ("status_url", "polled"),
    [
        (
            "https://api.example.test/api/v1/ops/op-1?x=1",
            "https://api.example.test/api/v1/ops/op-1?x=1",
        ),
        ("/api/v1/ops/op-1", "https://api.example.test/api/v1/ops/op-1"),
        ("ops/op-1", "https://api.example.test/api/v1/ops/op-1"),
        # the token only goes to the API host: another host (or scheme, or port) is ignored
        ("https://elsewhere.test/ops/op-1", f"{BASE}/operations/secrets/id:op-1"),
        ("http://api.example.test/api/v1/ops/op-1", f"{BASE}/operations/secrets/id:op-1"),
        ("https://api.example.test:8443/ops/op-1", f"{BASE}/operations/secrets/id:op-1"),
        (None, f"{BASE}/operations/secrets/id:op-1"),
    ],
)
def test_get_operation_polls_the_status_url_only_on_the_api_host(httpx_mock, status_url, polled):
    httpx_mock.add_response(
        url=polled,
        json={
            "operation_id": "op-1",
            "status": "failed",
            "error": {"error_code": "ValidationError", "message": "too long", "details": {}},
        },
    )
    op = call(
        lambda c: c.get_operation(
            OperationInfo(operation_id="op-1", status="scheduled", status_url=status_url)
        )
    )
    assert op.finished
    assert (op.error_code, op.error_message) == ("ValidationError", "too long")
    assert op.status_url == status_url  # kept for the next poll


# ---------------------------------------------------------------------------- errors


def test_client_error_shows_the_body_fields_and_is_not_retried(httpx_mock):
    httpx_mock.add_response(
        method="PUT",
        status_code=400,
        json={
            "error_code": "ValidationError",
            "message": "key is invalid",
            "request_id": "req-42",
            "details": {"key": "must match [A-Z_]+"},
        },
    )
    with pytest.raises(ApiError) as caught:
        call(lambda c: c.put_secret(REPO_ID, "default", "bad-key", Secret(b"v")))
    error = caught.value
    assert (error.method, error.status, error.error_code, error.request_id) == (
        "PUT",
        400,
        "ValidationError",
        "req-42",
    )
    assert error.path == f"/api/v1/repos/id:{REPO_ID}/secrets/bad-key"
    assert str(error) == (
        f"PUT /api/v1/repos/id:{REPO_ID}/secrets/bad-key -> HTTP 400 ValidationError: "
        "key is invalid (key: must match [A-Z_]+) (request_id: req-42)"
    )
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_names_the_token_variable(httpx_mock, status):
    httpx_mock.add_response(status_code=status, json={"error_code": "Unauthenticated"})
    with pytest.raises(AuthError) as caught:
        call(lambda c: c.list_secrets(REPO_ID, "default"), token_env="MY_TOKEN")
    assert caught.value.hint == (
        "check that $MY_TOKEN holds a valid token with access to this repository"
    )
    assert caught.value.lines()[-1].startswith("hint: check that $MY_TOKEN")
    assert len(httpx_mock.get_requests()) == 1


def test_non_json_error_body_is_summarised_not_echoed(httpx_mock):
    page = "<html>" + "x" * 10_000 + "</html>"
    httpx_mock.add_response(status_code=409, text=page, headers={"X-Request-Id": "hdr-7"})
    with pytest.raises(ApiError) as caught:
        call(lambda c: c.get_user())
    assert str(caught.value) == "GET /api/v1/user -> HTTP 409: Conflict (request_id: hdr-7)"
    assert caught.value.error_code == ""


def test_token_appears_in_no_error_or_repr(httpx_mock):
    httpx_mock.add_response(status_code=401, json={"message": "bad token"})
    httpx_mock.add_response(status_code=400, json={"error_code": "X", "message": "m"})
    for _ in range(6):
        httpx_mock.add_exception(httpx.ConnectError("refused"))
    httpx_mock.add_response(content=b"not json")
    errors = []

    async def each(client):
        assert TOKEN not in repr(client)
        for call_ in (
            lambda: client.get_user(),
            lambda: client.get_user(),
            lambda: client.get_user(),
            lambda: client.list_secrets(REPO_ID, "default"),
        ):
            try:
                await call_()
            except (ApiError, TransportError) as exc:
                errors.append(exc)

    call(each)
    assert [type(e) for e in errors] == [AuthError, ApiError, TransportError, ApiError]
    for error in errors:
        text = "\n".join([str(error), repr(error), *error.lines(), repr(error.args)])
        assert TOKEN not in text


def test_a_token_an_http_header_cannot_carry_is_refused_without_echoing_it():
    async def main():
        async with httpx.AsyncClient() as http:
            SourceCraftClient(http, base_url=BASE, token=Secret(b"abc\ndef"))

    with pytest.raises(ConfigError) as caught:
        run(main())
    assert "abc" not in str(caught.value)
    assert "$SOURCECRAFT_TOKEN" in str(caught.value)


# ---------------------------------------------------------------------------- retries


def test_5xx_is_retried_after_a_jittered_backoff(httpx_mock):
    times = []
    httpx_mock.add_callback(stamp(times, httpx.Response(503)))
    httpx_mock.add_callback(stamp(times, httpx.Response(200, json={"login": "me"})))
    user, stats = call(with_stats(lambda c: c.get_user()))
    assert user == {"login": "me"}
    assert times == [0.0, 0.125]  # base 0.25 s, jitter at one half
    assert (stats.requests, stats.retries, stats.throttled) == (2, 1, 0)


def test_retry_after_seconds_is_honoured(httpx_mock):
    times = []
    httpx_mock.add_callback(stamp(times, httpx.Response(429, headers={"Retry-After": "7"})))
    httpx_mock.add_callback(stamp(times, httpx.Response(202, json=OP)))
    op, stats = call(with_stats(lambda c: c.put_secret(REPO_ID, "default", "K", Secret(b"v"))))
    assert op.operation_id == "op-1"
    assert times == [0.0, 7.0]
    assert (stats.retries, stats.throttled) == (1, 1)


def test_retry_after_http_date_is_measured_against_the_response_date(httpx_mock):
    times = []
    headers = {
        "Date": "Wed, 21 Oct 2015 07:28:00 GMT",
        "Retry-After": "Wed, 21 Oct 2015 07:28:12 GMT",
    }
    httpx_mock.add_callback(stamp(times, httpx.Response(429, headers=headers)))
    httpx_mock.add_callback(stamp(times, httpx.Response(200, json={})))
    call(lambda c: c.get_user())
    assert times == [0.0, 12.0]


def test_exhausted_retries_raise_the_last_answer(httpx_mock):
    times = []
    for _ in range(5):
        httpx_mock.add_callback(stamp(times, httpx.Response(502)))
    body = {"error_code": "Unavailable", "message": "try later", "request_id": "r-6"}
    httpx_mock.add_callback(stamp(times, httpx.Response(503, json=body)))
    with pytest.raises(ApiError) as caught:
        call(lambda c: c.get_user())
    assert times == [0.0, 0.125, 0.375, 0.875, 1.875, 3.875]  # six attempts
    assert (
        str(caught.value) == "GET /api/v1/user -> HTTP 503 Unavailable: try later (request_id: r-6)"
    )
    assert caught.value.hint == "still failing after 6 attempts over 4 s"


def test_deadline_stops_retrying_before_max_attempts(httpx_mock):
    times = []
    for _ in range(3):
        httpx_mock.add_callback(stamp(times, httpx.Response(500)))
    with pytest.raises(ApiError):
        call(lambda c: c.get_user(), retry=RetryPolicy(deadline_s=0.5))
    assert times == [0.0, 0.125, 0.375]  # the next wait (0.5 s) would end at 0.875 > 0.5


def test_a_retry_after_beyond_the_deadline_gives_up_at_once(httpx_mock):
    httpx_mock.add_response(status_code=429, headers={"Retry-After": "3600"})
    with pytest.raises(ApiError) as caught:
        call(lambda c: c.get_user())
    assert caught.value.status == 429


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("server disconnected"),
    ],
)
def test_transport_failures_are_retried_then_reported(httpx_mock, exc):
    for _ in range(6):
        httpx_mock.add_exception(exc)
    with pytest.raises(TransportError) as caught:
        call(lambda c: c.delete_secret(REPO_ID, "default", "K"))
    assert str(caught.value) == (
        f"DELETE /api/v1/repos/id:{REPO_ID}/secrets/K: no answer from SourceCraft "
        f"after 6 attempts ({type(exc).__name__})"
    )
    assert isinstance(caught.value.__cause__, type(exc))


def test_a_dropped_connection_then_success(httpx_mock):
    httpx_mock.add_exception(httpx.RemoteProtocolError("server disconnected"))
    httpx_mock.add_response(json={"login": "me"})
    assert call(lambda c: c.get_user()) == {"login": "me"}


# ---------------------------------------------------------------------------- throttling


def test_limiter_halves_on_429_and_recovers(httpx_mock):
    httpx_mock.add_response(status_code=429)
    httpx_mock.add_response(json={}, is_reusable=True)

    async def sequence(client):
        limits = []
        for _ in range(6):
            await client.get_user()
            limits.append(client.stats.limit)
        return limits

    # 429: 4 -> 2; then one more after every `limit` consecutive successes, up to 4
    assert call(sequence, parallelism=4) == [2, 3, 3, 3, 4, 4]


def test_in_flight_never_exceeds_the_limit_and_a_burst_of_429s_halves_once(httpx_mock):
    in_flight = []
    state = {"now": 0, "throttle": 4}

    async def server(request):
        state["now"] += 1
        in_flight.append(state["now"])
        try:
            await asyncio.sleep(1.0)
            if state["throttle"]:
                state["throttle"] -= 1
                return httpx.Response(429)
            return httpx.Response(200, json={})
        finally:
            state["now"] -= 1

    httpx_mock.add_callback(server, is_reusable=True)

    async def many(client):
        await asyncio.gather(*(client.get_user() for _ in range(12)))
        return client.stats

    stats = call(many, parallelism=4)
    assert max(in_flight) == 4
    assert stats.peak_in_flight == 4
    assert stats.throttled == 4
    assert stats.requests == 16
    # the four 429s came from one window: one halving (4 -> 2, not 4 -> 1), then recovery
    assert in_flight == [1, 2, 3, 4, 1, 2, 1, 2, 3, 1, 2, 3, 4, 1, 2, 3]


def test_retry_after_pauses_every_request_not_just_the_throttled_one(httpx_mock):
    times = []
    httpx_mock.add_callback(stamp(times, httpx.Response(429, headers={"Retry-After": "5"})))
    httpx_mock.add_callback(stamp(times, httpx.Response(200, json={})), is_reusable=True)

    async def staggered(client):
        async def later(delay):
            await asyncio.sleep(delay)
            await client.get_user()

        await asyncio.gather(later(0), later(1), later(2))

    call(staggered)
    assert times == [0.0, 5.0, 5.0, 5.0]


def test_a_request_cancelled_while_queued_gives_its_turn_away():
    async def main():
        limiter = AdaptiveLimiter(parallelism=1, clock=now, sleep=asyncio.sleep)
        done = []

        async def hold(name):
            async with limiter.slot():
                await asyncio.sleep(1)
                done.append(name)

        a = asyncio.ensure_future(hold("a"))
        await asyncio.sleep(0)
        b = asyncio.ensure_future(hold("b"))
        c = asyncio.ensure_future(hold("c"))
        await asyncio.sleep(0)  # b and c queue behind a
        a.cancel()  # a's release runs first and skips b's cancelled turn
        b.cancel()
        results = await asyncio.gather(a, b, c, return_exceptions=True)
        return results, done, limiter.in_flight

    (a, b, c), done, in_flight = run(main())
    assert isinstance(a, asyncio.CancelledError)
    assert isinstance(b, asyncio.CancelledError)
    assert c is None
    assert done == ["c"]
    assert in_flight == 0


# ---------------------------------------------------------------------------- http client


def test_build_http_client_is_sized_and_safe():
    async def main():
        async with build_http_client(parallelism=8, timeout_s=12) as http:
            return http

    http = run(main())
    assert http.headers["User-Agent"].startswith("secretsync/")
    assert http.follow_redirects is False
    assert http.timeout.read == 12
    from secretsync.sourcecraft.endpoint import DEFAULT_API_URL

    assert DEFAULT_API_URL == "https://api.sourcecraft.tech"

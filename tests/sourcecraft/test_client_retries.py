"""SourceCraftClient: retries of 429, 5xx and transport failures, back-off and deadline."""

import httpx
import pytest

from secretsync.errors import ApiError, TransportError
from secretsync.models import Secret
from secretsync.sourcecraft.client import RetryPolicy
from tests.sourcecraft.helpers import OP, REPO_ID, call, stamp, with_stats


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

"""apply_plan against pytest-httpx: polling, outcomes, ordering, concurrency, interruption.

Everything runs on an event loop with virtual time (see `run`): timers fire in exact order
and no real time passes, so poll schedules are asserted to the millisecond. `FakeApi` plays
SourceCraft from one async pytest-httpx callback: each write starts an operation that ends
`done_after` seconds (virtual) after it was answered.
"""

import asyncio
import base64
from dataclasses import dataclass, field

import httpx
import pytest

from secretsync.apply.applier import PollPolicy, apply_plan
from secretsync.models import Action, ApplyResult, Change, Plan, Secret
from secretsync.sourcecraft.client import SourceCraftClient
from tests.virtual_time import HalfRandom, VirtualLoop, now

BASE = "https://api.example.test"
TOKEN = "tok-0123456789abcdef"


# ---------------------------------------------------------------------------- harness


def change(key, action=Action.CREATE, *, repo_id="r1", group="default", value=b"v"):
    return Change(
        repo=f"acme/{repo_id}",
        repo_id=repo_id,
        group=group,
        key=key,
        action=action,
        source=None if action is Action.DELETE else f"env:{key}",
        value=Secret(value) if action in (Action.CREATE, Action.UPDATE) else None,
    )


def apply(changes, *, parallelism=4, cancel_at=None, client_parallelism=16, **options):
    """Apply `changes` on the virtual clock; optionally cancel the task at a virtual time."""
    plan = Plan(changes=tuple(changes), targets=())

    async def main():
        async with httpx.AsyncClient() as http:
            client = SourceCraftClient(
                http,
                base_url=BASE,
                token=Secret(TOKEN.encode()),
                parallelism=client_parallelism,
                clock=now,
                rng=HalfRandom(),
            )

            async def applying():
                result = await apply_plan(
                    plan, client, parallelism=parallelism, clock=now, **options
                )
                # a handled cancellation is withdrawn: the caller goes on to write the report
                assert asyncio.current_task().cancelling() == 0
                await asyncio.sleep(0)
                return result

            task = asyncio.ensure_future(applying())
            if cancel_at is not None:
                asyncio.get_running_loop().call_at(cancel_at, task.cancel)
            return await task

    with asyncio.Runner(loop_factory=VirtualLoop) as runner:
        result = runner.run(main())
    assert isinstance(result, ApplyResult)
    assert [o.change for o in result.outcomes] == list(plan.changes)  # plan order, always
    return result


def summary(result):
    return [
        (o.change.key, o.status, o.operation_id, o.error and o.error.error_code)
        for o in result.outcomes
    ]


def url(key, group="default", repo_id="r1"):
    return f"{BASE}/repos/id:{repo_id}/secrets/{key}?secret_group={group}"


def op_url(op_id):
    return f"{BASE}/operations/secrets/id:{op_id}"


def op(op_id, status, **error):
    body = {"operation_id": op_id, "status": status, "status_url": None}
    if error:
        body["error"] = error
    return body


def stamp(times, response):
    def callback(request):
        times.append(round(now(), 6))
        return response

    return callback


@dataclass
class Key:
    done_after: float = 0.25  # 0: the write answer is already final
    final: str = "success"  # or failed / cancel / stuck
    error: dict = field(default_factory=dict)
    http_status: int = 0  # answer the write with this status instead


class FakeApi:
    def __init__(self, latency=0.0, **keys):
        self.latency = latency
        self.keys = keys
        self.ops = {}  # op id -> (key, done_at)
        self.log = []  # (virtual time of arrival, method, key)
        self.in_flight = 0
        self.peak = 0

    async def __call__(self, request):
        last = request.url.path.rsplit("/", 1)[1]
        key = self.ops[last.removeprefix("id:")][0] if request.method == "GET" else last
        self.log.append((now(), request.method, key))
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            return self.answer(request.method, key)
        finally:
            self.in_flight -= 1

    def answer(self, method, key):
        spec = self.keys.get(key, Key())
        if method == "GET":
            if spec.final == "stuck" or now() < self.ops[f"op-{key}"][1]:
                return httpx.Response(200, json=op(f"op-{key}", "in_progress"))
            return httpx.Response(200, json=op(f"op-{key}", spec.final, **spec.error))
        if spec.http_status:
            return httpx.Response(spec.http_status, json=spec.error)
        self.ops[f"op-{key}"] = (key, now() + spec.done_after)
        if spec.done_after == 0:
            return httpx.Response(202, json=op(f"op-{key}", spec.final, **spec.error))
        return httpx.Response(202, json=op(f"op-{key}", "scheduled"))

    def times(self, method, key):
        return [t for t, m, k in self.log if (m, k) == (method, key)]


# ---------------------------------------------------------------------------- polling


def test_polls_until_success_with_backoff(httpx_mock):
    times = []
    httpx_mock.add_callback(
        stamp(times, httpx.Response(202, json=op("op-1", "scheduled"))),
        method="PUT",
        url=url("A"),
        match_json={"value": base64.b64encode(b"v").decode()},
    )
    httpx_mock.add_callback(stamp(times, httpx.Response(200, json=op("op-1", "in_progress"))))
    httpx_mock.add_callback(stamp(times, httpx.Response(200, json=op("op-1", "success"))))
    result = apply([change("A")])
    assert summary(result) == [("A", "success", "op-1", None)]
    assert times == [0.0, 0.1, 0.3]  # write, then first poll after 0.1 s, then 0.2 s later
    assert [r.method for r in httpx_mock.get_requests()] == ["PUT", "GET", "GET"]
    assert not result.interrupted


def test_a_final_write_answer_is_not_polled(httpx_mock):
    httpx_mock.add_response(method="PUT", status_code=202, json=op("op-1", "success"))
    assert summary(apply([change("A")])) == [("A", "success", "op-1", None)]


@pytest.mark.parametrize(
    ("final", "error", "expected"),
    [
        ("failed", {"error_code": "QuotaExceeded", "message": "too many"}, "QuotaExceeded"),
        ("failed", {}, "OperationFailed"),
        ("cancel", {}, "Cancelled"),
        ("cancel", {"error_code": "Aborted", "message": "by admin"}, "Aborted"),
    ],
)
def test_failed_and_cancelled_operations_carry_their_error(httpx_mock, final, error, expected):
    httpx_mock.add_response(method="PUT", status_code=202, json=op("op-1", "scheduled"))
    httpx_mock.add_response(url=op_url("op-1"), json=op("op-1", final, **error))
    result = apply([change("A", Action.UPDATE)])
    assert summary(result) == [("A", "failed", "op-1", expected)]
    if error:
        assert result.outcomes[0].error.message == error["message"]


def test_a_stuck_operation_times_out_at_its_deadline(httpx_mock):
    times = []
    httpx_mock.add_response(method="PUT", status_code=202, json=op("op-1", "scheduled"))
    httpx_mock.add_callback(
        stamp(times, httpx.Response(200, json=op("op-1", "in_progress"))), is_reusable=True
    )
    result = apply([change("A")], poll=PollPolicy(operation_timeout_s=10))
    # intervals 0.1, 0.2, ... 3.2, then capped at 5 s and at the deadline
    assert times == [0.1, 0.3, 0.7, 1.5, 3.1, 6.3, 10.0]
    outcome = result.outcomes[0]
    assert (outcome.status, outcome.operation_id) == ("failed", "op-1")
    assert outcome.error.error_code == "OperationTimeout"
    assert outcome.error.message == "operation did not finish within 10 s; last status in_progress"


def test_deleting_an_absent_secret_succeeds(httpx_mock):
    httpx_mock.add_response(method="DELETE", url=url("GONE"), status_code=404, json={})
    httpx_mock.add_response(method="DELETE", url=url("RACE"), json=op("op-R", "scheduled"))
    # Any error code: only the fresh listing (below, without RACE) says the key is gone.
    httpx_mock.add_response(url=op_url("op-R"), json=op("op-R", "failed", error_code="Whatever"))
    httpx_mock.add_response(
        method="GET", url=f"{BASE}/repos/id:r1/secrets?secret_group=default", json={"secrets": []}
    )
    httpx_mock.add_response(method="PUT", url=url("UPD"), json=op("op-U", "scheduled"))
    httpx_mock.add_response(url=op_url("op-U"), json=op("op-U", "failed", error_code="NotFound"))
    result = apply([change("GONE", Action.DELETE), change("RACE", Action.DELETE)])
    assert summary(result) == [("GONE", "success", None, None), ("RACE", "success", "op-R", None)]
    # ...but a write that ends NotFound did not happen
    assert summary(apply([change("UPD", Action.UPDATE)])) == [("UPD", "failed", "op-U", "NotFound")]


def test_one_failure_does_not_stop_the_others(httpx_mock):
    httpx_mock.add_response(
        method="PUT",
        url=url("BAD"),
        status_code=400,
        json={"error_code": "ValidationError", "message": "bad key", "request_id": "req-1"},
    )
    for _ in range(6):
        httpx_mock.add_exception(httpx.ConnectError("refused"), method="PUT", url=url("NET"))
    httpx_mock.add_response(method="PUT", url=url("DENIED"), status_code=403, json={})
    httpx_mock.add_response(method="PUT", url=url("POLL"), json=op("op-P", "scheduled"))
    httpx_mock.add_response(url=op_url("op-P"), status_code=500, json={}, is_reusable=True)
    httpx_mock.add_response(method="PUT", url=url("OK"), json=op("op-OK", "success"))
    keys = ["BAD", "NET", "DENIED", "POLL", "OK"]
    result = apply([change(k) for k in keys], parallelism=2)
    assert summary(result) == [
        ("BAD", "failed", None, "ValidationError"),
        ("NET", "failed", None, "TransportError"),
        ("DENIED", "failed", None, "HTTP 403"),
        ("POLL", "failed", "op-P", "HTTP 500"),
        ("OK", "success", "op-OK", None),
    ]
    errors = {o.change.key: o.error.message for o in result.outcomes if o.error}
    assert "bad key (request_id: req-1)" in errors["BAD"]
    assert "(ConnectError)" in errors["NET"]
    assert "$SOURCECRAFT_TOKEN" in errors["DENIED"]
    assert all(TOKEN not in m for m in errors.values())


def test_unchanged_and_unknown_send_nothing(httpx_mock):
    result = apply([change("A", Action.UNCHANGED), change("B", Action.UNKNOWN)])
    assert summary(result) == [("A", "success", None, None), ("B", "success", None, None)]
    assert httpx_mock.get_requests() == []


# ---------------------------------------------------------------------------- scheduling


# Deletes wait for every write of the run: see test_delete_holdback.py.


def test_outcomes_follow_the_plan_whatever_the_completion_order(httpx_mock):
    # later keys finish sooner, so completion order is roughly reversed
    keys = {f"K{i}": Key(done_after=2.0 - 0.2 * i) for i in range(8)}
    api = FakeApi(latency=0.01, **keys)
    httpx_mock.add_callback(api, is_reusable=True)
    finished = []
    changes = [change(k) for k in keys]
    wide = apply(changes, parallelism=4, on_outcome=lambda o: finished.append(o.change.key))
    assert finished != list(keys)
    assert sorted(finished) == sorted(keys)
    narrow = apply(changes, parallelism=1)
    assert wide.outcomes == narrow.outcomes
    assert [o.status for o in wide.outcomes] == ["success"] * 8


def test_requests_in_flight_never_exceed_parallelism(httpx_mock):
    api = FakeApi(latency=0.05)
    httpx_mock.add_callback(api, is_reusable=True)
    result = apply([change(f"K{i}") for i in range(30)], parallelism=3, client_parallelism=16)
    assert result.failed == 0
    assert api.peak == 3


def test_first_polls_adapt_to_how_long_operations_take(httpx_mock):
    n = 200
    api = FakeApi(latency=0.05, **{f"K{i}": Key(done_after=0.35) for i in range(n)})
    httpx_mock.add_callback(api, is_reusable=True)
    result = apply([change(f"K{i}") for i in range(n)], parallelism=4)
    assert result.failed == 0
    polls = {f"K{i}": 0 for i in range(n)}
    for _, method, key in api.log:
        polls[key] += method == "GET"
    # a fixed schedule (0.1 s, 0.3 s, 0.7 s) polls every one twice (a poll is answered 0.05 s
    # after it is sent): the estimate learns from the first pending polls instead
    assert sum(polls.values()) <= n * 1.3
    assert set(list(polls.values())[n // 2 :]) == {1}


def test_a_failing_progress_callback_is_ignored(httpx_mock):
    httpx_mock.add_response(method="PUT", json=op("op-1", "success"), is_reusable=True)

    def explode(outcome):
        raise RuntimeError("progress bar broke")

    result = apply([change("A"), change("B")], on_outcome=explode)
    assert [o.status for o in result.outcomes] == ["success", "success"]


# ---------------------------------------------------------------------------- interruption


def test_cancelling_returns_what_is_known(httpx_mock):
    api = FakeApi(latency=1.0, A=Key(done_after=0), B=Key(done_after=10))
    httpx_mock.add_callback(api, is_reusable=True)
    changes = [change(k) for k in "ABCDEF"]
    result = apply(changes, parallelism=2, cancel_at=1.5)
    assert result.interrupted
    # A answered final; B's operation was still pending; C and D were on the wire
    assert summary(result) == [
        ("A", "success", "op-A", None),
        ("B", "failed", "op-B", "Interrupted"),
        ("C", "failed", None, "Interrupted"),
        ("D", "failed", None, "Interrupted"),
        ("E", "not_started", None, None),
        ("F", "not_started", None, None),
    ]
    assert [m for _, m, _ in api.log] == ["PUT"] * 4  # no new writes, no polls after the cancel
    assert api.in_flight == 0

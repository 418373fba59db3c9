"""Fault knobs, counters, the request log and the control endpoints."""

import http.client
import json
import threading
import time
from urllib.parse import urlsplit

import httpx
import pytest

from secretsync.emulator import EmulatorConfig
from tests.emulator.helpers import AUTH, assert_error, b64, client_for

SECRET = "s3cr3t-VALUE-do-not-log"


class Gate:
    """The latency sleep, held until released: requests stay in flight as long as a test needs."""

    def __init__(self) -> None:
        self.released = threading.Event()

    def __call__(self, seconds: float) -> None:
        assert self.released.wait(10), "gate never released"


def _wait_for(predicate) -> None:
    deadline = time.monotonic() + 10
    while not predicate():
        assert time.monotonic() < deadline, "condition never came true"
        time.sleep(0.005)


def test_429_with_retry_after_when_too_many_are_in_flight(make_emulator):
    gate = Gate()
    config = EmulatorConfig(latency_ms=1, max_in_flight=2, retry_after_s=3)
    emulator = make_emulator(config=config, sleep=gate)
    answers: list[int] = []

    def held_request() -> None:
        with client_for(emulator) as c:
            answers.append(c.get("/user").status_code)

    threads = [threading.Thread(target=held_request) for _ in range(2)]
    for t in threads:
        t.start()
    _wait_for(lambda: emulator.stats()["in_flight"] == 2)
    with client_for(emulator) as c:
        refused = c.put("/repos/acme/backend/secrets/NEW", json={"value": b64("x")})
    gate.released.set()
    for t in threads:
        t.join()

    assert_error(refused, 429, "ResourceExhausted")
    assert refused.headers["Retry-After"] == "3"
    assert answers == [200, 200]
    stats = emulator.stats()
    assert stats["throttled_429"] == 1
    assert stats["peak_in_flight"] == 3  # the refused request was in flight for a moment
    assert stats["in_flight"] == 0
    assert stats["operations_created"] == 0  # a 429 has no side effect
    assert "NEW" not in emulator.secrets("acme/backend")


def test_a_client_sending_the_next_request_at_once_is_never_throttled(make_emulator):
    # The in-flight count drops before the answer is written, so strictly sequential
    # requests on one keep-alive connection never meet a cap of 1.
    emulator = make_emulator(config=EmulatorConfig(max_in_flight=1))
    where = urlsplit(emulator.url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=5)
    statuses, counted_after_answer = [], []
    for _ in range(200):
        conn.request("GET", "/repos/acme/backend/secrets", headers=AUTH)
        response = conn.getresponse()
        response.read()
        statuses.append(response.status)
        counted_after_answer.append(emulator.stats()["in_flight"])
    conn.close()
    assert set(statuses) == {200}
    assert set(counted_after_answer) == {0}
    assert emulator.stats()["peak_in_flight"] == 1


def test_max_rps_is_a_sliding_one_second_window(make_emulator, clock):
    emulator = make_emulator(config=EmulatorConfig(max_rps=3))
    with client_for(emulator) as c:
        assert [c.get("/user").status_code for _ in range(3)] == [200, 200, 200]
        clock.advance(0.5)
        refused = c.get("/user")
        clock.advance(0.5)  # the first three are now a second old
        after = [c.get("/user").status_code for _ in range(4)]
    assert_error(refused, 429, "ResourceExhausted")
    assert refused.headers["Retry-After"] == "1"
    assert after == [200, 200, 200, 429]
    assert emulator.stats()["throttled_429"] == 2


def test_error_rate_with_a_seed_answers_5xx_before_any_side_effect(make_emulator):
    config = EmulatorConfig(error_rate=0.5, random_seed=7)
    first, second = make_emulator(config=config), make_emulator(config=config)
    runs = []
    for emulator in (first, second):
        with client_for(emulator) as c:
            responses = [
                c.put(f"/repos/acme/web/secrets/K{i}", json={"value": "AAEC"}) for i in range(40)
            ]
        runs.append([r.status_code for r in responses])
        for r in responses:
            if r.status_code >= 500:
                assert_error(r, r.status_code, {500: "Internal", 503: "Unavailable"}[r.status_code])
        written = {f"K{i}" for i, r in enumerate(responses) if r.status_code == 202}
        assert set(emulator.secrets("acme/web")) == written
        assert emulator.stats()["errors_5xx"] == 40 - len(written)
    assert runs[0] == runs[1]  # same seed, same faults
    assert set(runs[0]) == {202, 500, 503}


def test_drop_rate_processes_the_request_but_never_answers(make_emulator):
    emulator = make_emulator(config=EmulatorConfig(drop_rate=1.0))
    with client_for(emulator) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.put("/repos/acme/backend/secrets/NEW", json={"value": b64("x")})
    assert emulator.secrets("acme/backend")["NEW"] == b"x"
    stats = emulator.stats()
    assert stats["dropped"] == 1
    assert stats["status_counts"] == {}
    assert emulator.request_log()[-1]["status"] == 0


def test_control_endpoints_are_free_of_faults_and_counting(make_emulator):
    config = EmulatorConfig(error_rate=1.0, drop_rate=1.0, max_in_flight=1, max_rps=1)
    emulator = make_emulator(config=config)
    with httpx.Client(base_url=emulator.url, headers=AUTH, timeout=5) as c:
        for _ in range(3):
            assert c.get("/_emulator/stats").status_code == 200
        assert c.get("/_emulator/log").json() == {"requests": []}
        state = c.get("/_emulator/state").json()
        assert c.get("/_emulator/config").json()["error_rate"] == 1.0
        stats = c.get("/_emulator/stats").json()
    assert stats["requests_total"] == 0
    assert state["repos"]["acme/backend"]["groups"]["default"] == {
        "API_KEY": b64("plain text value"),
        "BLOB": "AAEC",
        "EXTERNAL": None,
    }
    assert state["repos"]["acme/web"] == {"id": emulator.repo_id("acme/web"), "groups": {}}


def test_config_endpoint_changes_knobs_and_rejects_bad_ones(emu):
    with httpx.Client(base_url=emu.url, headers=AUTH, timeout=5) as c:
        changed = c.post("/_emulator/config", json={"op_delay_ms": 250, "fail_keys": ["A"]})
        unknown = c.post("/_emulator/config", json={"nope": 1})
        out_of_range = c.post("/_emulator/config", json={"error_rate": 2})
        not_object = c.post("/_emulator/config", json=[1])
        wrong_method = c.delete("/_emulator/config")
        missing = c.get("/_emulator/nope")
        reset_by_get = c.get("/_emulator/reset-stats")
    assert changed.status_code == 200
    assert changed.json()["op_delay_ms"] == 250
    assert changed.json()["fail_keys"] == ["A"]
    assert "tokens" not in changed.json()
    assert emu.config.op_delay_ms == 250
    assert "nope" in unknown.json()["message"]
    assert out_of_range.status_code == not_object.status_code == 400
    assert (wrong_method.status_code, missing.status_code) == (405, 404)
    assert reset_by_get.status_code == 405


def test_stats_count_requests_by_kind_and_status(emu, client):
    client.get("/user")
    client.get("/orgs/acme/repos")
    client.get("/repos/acme/backend")
    client.get("/repos/acme/backend/secrets")
    op = client.put("/repos/acme/backend/secrets/NEW", json={"value": "AAEC"}).json()
    client.get(op["status_url"])
    client.delete("/repos/acme/backend/secrets/NEW")
    client.delete("/repos/acme/backend/secrets/NEW")
    client.get("/nope")
    stats = emu.stats()
    assert stats["requests_total"] == 9
    assert stats["requests_by_kind"] == {
        "list": 1,
        "put": 1,
        "delete": 2,
        "operation": 1,
        "repo": 1,
        "org_repos": 1,
        "user": 1,
        "comment": 0,
        "other": 1,
    }
    assert stats["status_counts"] == {"200": 5, "202": 2, "404": 2}
    assert (stats["operations_created"], stats["writes_applied"]) == (2, 2)
    assert (stats["throttled_429"], stats["errors_5xx"], stats["dropped"]) == (0, 0, 0)
    assert (stats["peak_in_flight"], stats["in_flight"]) == (1, 0)

    with httpx.Client(base_url=emu.url, headers=AUTH) as control:
        after_reset = control.post("/_emulator/reset-stats").json()
    assert after_reset["requests_total"] == after_reset["operations_created"] == 0
    assert after_reset["status_counts"] == {}
    assert emu.request_log() == []


def test_the_log_and_stats_never_hold_a_value_or_the_token(emu, client):
    client.put("/repos/acme/backend/secrets/NEW", json={"value": b64(SECRET)})
    client.get("/repos/acme/backend/secrets", params={"keys": "NEW"})
    entries = emu.request_log()
    at = {"received": 1_767_225_600.0, "answered": 1_767_225_600.0}  # the frozen test clock
    assert entries == [
        {
            "method": "PUT",
            "path": "/repos/acme/backend/secrets/NEW",
            "query": "",
            "status": 202,
            "kind": "put",
            **at,
        },
        {
            "method": "GET",
            "path": "/repos/acme/backend/secrets",
            "query": "keys=NEW",
            "status": 200,
            "kind": "list",
            **at,
        },
    ]
    with httpx.Client(base_url=emu.url, headers=AUTH) as control:
        exposed = control.get("/_emulator/log").text + control.get("/_emulator/stats").text
    exposed += json.dumps(entries) + json.dumps(emu.stats()) + json.dumps(emu.config.public())
    for forbidden in (SECRET, b64(SECRET), "emulator-token"):
        assert forbidden not in exposed


class TickingClock:
    """Moves 2 ms forward on every reading, so time passes between arrival and answer."""

    def __init__(self) -> None:
        self.now = 1_767_225_600.0

    def __call__(self) -> float:
        self.now += 0.002
        return self.now


def test_latency_counts_from_the_arrival_and_the_log_keeps_both_times(make_emulator):
    clock = TickingClock()
    slept: list[float] = []
    emulator = make_emulator(config=EmulatorConfig(latency_ms=20), clock=clock, sleep=slept.append)
    with client_for(emulator) as c:
        assert c.get("/user").status_code == 200
    # Time spent since the request arrived (clock readings) is taken off the sleep, so the
    # answer is due 20 ms after arrival, not 20 ms after the emulator got round to it.
    assert len(slept) == 1
    assert 0 < slept[0] < 0.020
    (entry,) = emulator.request_log()
    assert entry["received"] < entry["answered"]
    stats = emulator.stats()
    assert (stats["first_received"], stats["last_answered"]) == (
        entry["received"],
        entry["answered"],
    )
    assert stats["held_s"] == pytest.approx(entry["answered"] - entry["received"])
    emulator.reset_stats()
    assert emulator.stats()["first_received"] is emulator.stats()["last_answered"] is None
    assert emulator.stats()["held_s"] == 0
    assert slept[0] == pytest.approx(0.020 - 2 * 0.002, abs=1e-6)  # admission, then the check


def test_no_sleep_is_owed_when_the_latency_has_already_passed(make_emulator):
    clock = TickingClock()
    slept: list[float] = []
    emulator = make_emulator(config=EmulatorConfig(latency_ms=1), clock=clock, sleep=slept.append)
    with client_for(emulator) as c:
        assert c.get("/user").status_code == 200
    assert slept == [0.0]

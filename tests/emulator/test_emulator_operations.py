"""The asynchronous write: scheduled -> in_progress -> final, on the emulator's (fake) clock."""

import pytest

from secretsync.emulator import EmulatorConfig
from tests.emulator.helpers import b64, client_for

PUT = "/repos/acme/backend/secrets/NEW"


@pytest.fixture
def slow(make_emulator):
    """Writes take 1 s: scheduled for 0.5 s, then in_progress, then final."""
    return make_emulator(config=EmulatorConfig(op_delay_ms=1000))


def _status(c, op) -> str:
    return c.get(op["status_url"]).json()["status"]


def test_a_put_is_listed_only_after_its_operation_succeeds(slow, clock):
    with client_for(slow) as c:
        op = c.put(PUT, json={"value": b64("new")}).json()
        assert op["status"] == "scheduled"
        assert op["created_at"] == op["modified_at"] == "2026-01-01T00:00:00.000Z"
        assert c.get("/repos/acme/backend/secrets", params={"keys": "NEW"}).json()["secrets"] == []

        clock.advance(0.5)
        polled = c.get(op["status_url"]).json()
        assert (polled["status"], polled["modified_at"]) == (
            "in_progress",
            "2026-01-01T00:00:00.500Z",
        )
        assert polled["error"] is None
        assert "NEW" not in slow.secrets("acme/backend")

        clock.advance(0.5)
        done = c.get(op["status_url"]).json()
        assert (done["status"], done["modified_at"]) == ("success", "2026-01-01T00:00:01.000Z")
        assert done["created_at"] == op["created_at"]
        listed = c.get("/repos/acme/backend/secrets", params={"keys": "NEW"}).json()
    assert listed == {"secrets": [{"key": "NEW", "value": b64("new")}]}


def test_a_delete_keeps_the_key_listed_until_it_ends(slow, clock):
    with client_for(slow) as c:
        op = c.delete("/repos/acme/backend/secrets/BLOB").json()
        assert "BLOB" in slow.secrets("acme/backend")
        clock.advance(1)
        assert _status(c, op) == "success"
    assert "BLOB" not in slow.secrets("acme/backend")


def test_writes_to_one_key_end_in_the_order_they_were_made(slow, clock):
    with client_for(slow) as c:
        for value in ("first", "second", "third"):
            c.put(PUT, json={"value": b64(value)})
        c.delete("/repos/acme/backend/secrets/API_KEY")
        c.put("/repos/acme/backend/secrets/API_KEY", json={"value": b64("back")})
        clock.advance(1)
        listed = c.get("/repos/acme/backend/secrets", params={"keys": "NEW,API_KEY"}).json()
    assert listed["secrets"] == [
        {"key": "API_KEY", "value": b64("back")},
        {"key": "NEW", "value": b64("third")},
    ]
    assert slow.stats()["writes_applied"] == 5


@pytest.mark.parametrize(
    ("knob", "status", "error_code"),
    [("fail_keys", "failed", "FailedPrecondition"), ("cancel_keys", "cancel", "Cancelled")],
)
def test_failing_and_cancelled_keys_change_nothing(make_emulator, clock, knob, status, error_code):
    emulator = make_emulator(config=EmulatorConfig(op_delay_ms=1000, **{knob: {"API_KEY"}}))
    with client_for(emulator) as c:
        op = c.put("/repos/acme/backend/secrets/API_KEY", json={"value": b64("changed")}).json()
        assert op["error"] is None
        clock.advance(0.5)
        assert c.get(op["status_url"]).json()["error"] is None
        clock.advance(0.5)
        final = c.get(op["status_url"]).json()
        deleted = c.delete("/repos/acme/backend/secrets/API_KEY").json()
        other = c.put("/repos/acme/backend/secrets/OTHER", json={"value": b64("x")}).json()
        clock.advance(1)
        assert _status(c, deleted) == status
        assert _status(c, other) == "success"
    assert final["status"] == status
    assert final["error"]["error_code"] == error_code
    assert final["error"]["message"]
    assert final["error"]["details"] == {}
    assert "changed" not in str(final)
    assert emulator.secrets("acme/backend")["API_KEY"] == b"plain text value"
    assert emulator.stats()["writes_applied"] == 1


def test_a_stuck_key_stays_in_progress_forever(make_emulator, clock):
    emulator = make_emulator(config=EmulatorConfig(op_delay_ms=1000, stuck_keys={"NEW"}))
    with client_for(emulator) as c:
        op = c.put(PUT, json={"value": b64("x")}).json()
        assert op["status"] == "scheduled"
        clock.advance(10_000)
        assert _status(c, op) == "in_progress"
    assert "NEW" not in emulator.secrets("acme/backend")


def test_a_stuck_key_without_delay_answers_in_progress(make_emulator):
    emulator = make_emulator(config=EmulatorConfig(stuck_keys={"NEW"}))
    with client_for(emulator) as c:
        assert c.put(PUT, json={"value": b64("x")}).json()["status"] == "in_progress"


def test_delete_missing_failed_ends_failed_after_the_delay(make_emulator, clock):
    emulator = make_emulator(config=EmulatorConfig(op_delay_ms=200, delete_missing="failed"))
    with client_for(emulator) as c:
        op = c.delete("/repos/acme/backend/secrets/MISSING").json()
        assert (op["status"], op["error"]) == ("scheduled", None)
        clock.advance(0.2)
        final = c.get(op["status_url"]).json()
    assert final["status"] == "failed"
    assert final["error"]["error_code"] == "NotFound"


def test_knobs_change_at_runtime(emu, clock):
    with client_for(emu) as c:
        assert c.put(PUT, json={"value": b64("a")}).json()["status"] == "success"
        emu.configure(op_delay_ms=1000, fail_keys=["NEW"])
        op = c.put(PUT, json={"value": b64("b")}).json()
        clock.advance(1)
        assert _status(c, op) == "failed"
    assert emu.secrets("acme/backend")["NEW"] == b"a"
    assert emu.config.fail_keys == frozenset({"NEW"})

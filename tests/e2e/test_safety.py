"""Issue 6 promises, proven against the emulator: reviewed plans, safe prune, kill and rerun,
Ctrl-C, timeouts, unknown values."""

from __future__ import annotations

import json
import signal

import pytest

from tests.e2e.conftest import Workspace, wait_until

pytestmark = pytest.mark.e2e

KEYS = [f"KEY_{i:02d}" for i in range(40)]


def seed(**groups):
    return {"orgs": [{"slug": "acme", "repos": [{"slug": "app", "secrets": groups}]}]}


def manifest(keys, *, prune=False, extra=""):
    lines = [
        "version: 1",
        "repos:",
        "  - repo: acme/app",
        f"    prune: {str(prune).lower()}",
        "    groups:",
        "      default:",
        "        dotenv: app.env",
    ]
    if extra:
        lines.append(extra)
    return "\n".join(lines) + "\n"


def env_file(keys, salt="v1"):
    return "".join(f"{k}=value-{salt}-{k}-7q\n" for k in keys)


def expected(keys, salt="v1"):
    return {k: f"value-{salt}-{k}-7q".encode() for k in keys}


@pytest.fixture
def app(workspace: Workspace, launch):  # type: ignore[no-untyped-def]
    def make(keys=KEYS[:4], *, prune=False, stored=None, args=()):
        emulator = launch(seed(default=stored or {}), *args)
        workspace.write("secretsync.yaml", manifest(keys, prune=prune))
        workspace.write("app.env", env_file(keys))
        workspace.env["SOURCECRAFT_API_URL"] = emulator.url
        return workspace, emulator

    return make


# ---------------------------------------------------------------------------- reviewed plans


def test_reviewed_plan_applies_when_nothing_changed(app):
    ws, emulator = app()
    assert ws.run("plan", "--out", "reviewed.plan").code == 0
    saved = (ws.root / "reviewed.plan").read_text()
    assert "value-v1" not in saved
    assert json.loads(saved)["values"]["kdf"] == "scrypt"
    result = ws.run("apply", "--plan", "reviewed.plan")
    assert result.code == 0, result.stderr
    assert emulator.secrets("acme/app") == expected(KEYS[:4])


def test_a_plan_saved_with_a_plan_key_applies_only_with_it(app):
    ws, emulator = app()
    key = "plan-key-e2e-91d0"
    assert ws.run("plan", "--out", "reviewed.plan", SECRETSYNC_PLAN_KEY=key).code == 0
    assert json.loads((ws.root / "reviewed.plan").read_text())["values"]["kdf"] == (
        "scrypt+hmac-sha256"
    )
    without = ws.run("apply", "--plan", "reviewed.plan")
    assert without.code == 1
    assert "saved with SECRETSYNC_PLAN_KEY set; apply needs the same key" in without.stderr
    assert emulator.secrets("acme/app") == {}
    result = ws.run("apply", "--plan", "reviewed.plan", SECRETSYNC_PLAN_KEY=key)
    assert result.code == 0, result.stderr
    assert emulator.secrets("acme/app") == expected(KEYS[:4])
    assert key not in result.stdout + result.stderr + without.stderr


def test_reviewed_plan_refuses_changed_values(app):
    ws, emulator = app()
    assert ws.run("plan", "--out", "reviewed.plan").code == 0
    ws.write("app.env", env_file(KEYS[:4], salt="v2"))  # same keys and actions, other values
    result = ws.run("apply", "--plan", "reviewed.plan")
    assert result.code == 1
    assert "values behind the plan changed" in result.stderr
    assert "nothing was changed" in result.stderr
    assert emulator.writes() == []


def test_reviewed_plan_refuses_changed_actions(app, launch):
    ws, emulator = app(stored={"KEY_00": "value-v1-KEY_00-7q"})
    assert ws.run("plan", "--out", "reviewed.plan").code == 0
    ws.run("apply", "--key", "KEY_01")  # the world moves on after the review
    before = len(emulator.writes())
    result = ws.run("apply", "--plan", "reviewed.plan")
    assert result.code == 1
    assert (
        "acme/app · default · KEY_01: reviewed create from dotenv:app.env#KEY_01, now unchanged"
        in (result.stderr)
    )
    assert len(emulator.writes()) == before


def test_plan_with_selection_flags_and_plan_file_is_a_usage_error(app):
    ws, _ = app()
    assert ws.run("plan", "--out", "p.plan").code == 0
    assert ws.run("apply", "--plan", "p.plan", "--repo", "x").code == 64


def test_unreadable_plan_file_is_a_clear_error(app):
    ws, emulator = app()
    ws.write("bad.plan", "{not json")
    result = ws.run("apply", "--plan", "bad.plan")
    assert result.code == 1 and "bad.plan" in result.stderr
    assert emulator.writes() == []


# ---------------------------------------------------------------------------- safe prune


def test_max_deletes_refuses_then_allows(app):
    unmanaged = {f"OLD_{i:02d}": "x" for i in range(12)}
    ws, emulator = app(prune=True, stored=unmanaged)
    refused = ws.run("apply")
    assert refused.code == 1
    assert "deletes 12 secrets, more than --max-deletes 10" in refused.stderr
    assert "--max-deletes 12" in refused.stderr
    assert emulator.writes() == []
    allowed = ws.run("apply", "--max-deletes", "12")
    assert allowed.code == 0, allowed.stderr
    assert emulator.secrets("acme/app") == expected(KEYS[:4])


def test_value_less_entry_is_unknown_and_left_alone(app):
    ws, emulator = app(stored={"KEY_00": None})
    plan = ws.run("plan", "--detailed-exitcode", "--report", "p.json")
    assert plan.code == 2  # the 3 other keys are creates
    assert "KEY_00 is stored without a readable value" in plan.stdout
    change = next(c for c in ws.report("p.json")["changes"] if c["key"] == "KEY_00")
    assert change["action"] == "unknown"
    assert ws.run("apply").code == 0
    assert emulator.secrets("acme/app")["KEY_00"] is None
    assert ws.run("apply", "--overwrite-unknown").code == 0
    assert emulator.secrets("acme/app")["KEY_00"] == b"value-v1-KEY_00-7q"


# ---------------------------------------------------------------------------- faults


def test_stuck_operation_times_out_with_its_id(app):
    ws, emulator = app(args=("--op-delay-ms", "20", "--stuck-key", "KEY_02"))
    result = ws.run("apply", "--operation-timeout", "1", "--report", "r.json")
    assert result.code == 1
    failed = [c for c in ws.report("r.json")["changes"] if c["status"] == "failed"]
    assert [(c["key"], c["error"]["error_code"]) for c in failed] == [
        ("KEY_02", "OperationTimeout")
    ]
    assert failed[0]["operation_id"]
    assert emulator.secrets("acme/app") == {
        k: v for k, v in expected(KEYS[:4]).items() if k != "KEY_02"
    }


def test_sigkill_mid_apply_then_rerun_converges(app):
    ws, emulator = app(KEYS, args=("--op-delay-ms", "300", "--latency-ms", "5"))
    proc = ws.spawn("apply", "--parallelism", "4")
    wait_until(lambda: len(emulator.writes()) >= 8)
    proc.kill()
    proc.communicate()
    partial = emulator.secrets("acme/app")
    assert len(partial) < len(KEYS)  # it really was cut short
    again = ws.run("apply")
    assert again.code == 0, again.stderr
    assert emulator.secrets("acme/app") == expected(KEYS)
    assert ws.run("plan", "--detailed-exitcode").code == 0


@pytest.mark.parametrize(
    ("signum", "ignore_sigint"),
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGTERM, True)],
    ids=["SIGINT", "SIGTERM", "SIGTERM-started-with-SIGINT-ignored"],
)
def test_interrupt_reports_what_finished_and_exits_130(app, signum, ignore_sigint):
    ws, emulator = app(KEYS, args=("--op-delay-ms", "100", "--latency-ms", "20"))
    proc = ws.spawn(
        "apply", "--parallelism", "1", "--report", "r.json", ignore_sigint=ignore_sigint
    )
    wait_until(lambda: len(emulator.secrets("acme/app")) >= 3)  # some operations finished
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    report = ws.report("r.json")
    assert report["interrupted"] is True
    statuses = {c["status"] for c in report["changes"]}
    assert "success" in statuses and "not_started" in statuses
    assert "(interrupted)" in stdout
    assert ws.run("apply").code == 0
    assert emulator.secrets("acme/app") == expected(KEYS)

"""Nothing is lost when a write fails: deletes run only after every write of the run has
succeeded. A key moved from one group (pruned) to another group or repository is a write in
one place and a delete in the other; if the write failed and the delete went ahead, the secret
would exist nowhere. So one failed write holds back every delete of the run (status
`skipped`, error `HeldBack`), and the run exits 1.
"""

from __future__ import annotations

import json

import pytest

from secretsync.apply.applier import PollPolicy
from secretsync.models import Action
from tests.apply.test_applier import FakeApi, Key, apply, change, summary
from tests.hostile import MANIFEST, REPO_ID, FakeSourceCraft, HostileServer, run_cli


def test_deletes_anywhere_wait_for_the_last_write_of_the_run(httpx_mock):
    api = FakeApi(latency=0.01, NEW=Key(done_after=1.0), UPD=Key(done_after=0.5))
    httpx_mock.add_callback(api, is_reusable=True)
    changes = [
        change("OLD", Action.DELETE),
        change("NEW", repo_id="r2"),
        change("UPD", Action.UPDATE, group="other"),
        change("X", Action.DELETE, repo_id="r3", group="elsewhere"),
    ]
    result = apply(changes, parallelism=4)
    assert [o.status for o in result.outcomes] == ["success"] * 4
    last_write = max(max(api.times("GET", "NEW")), max(api.times("GET", "UPD")))
    for key in ("OLD", "X"):  # in other repositories and groups than the writes: still after
        assert api.times("DELETE", key) == [pytest.approx(last_write + 0.01)]


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(Key(done_after=0.5, final="failed"), id="operation-failed"),
        pytest.param(Key(http_status=400, error={"error_code": "ValidationError"}), id="http-400"),
        pytest.param(Key(final="stuck"), id="operation-timeout"),
    ],
)
def test_a_failed_write_anywhere_holds_back_every_delete_of_the_run(httpx_mock, failure):
    # KEY moves from r1/prod (pruned there) to r2/default: its create there fails.
    api = FakeApi(latency=0.01, KEY=failure)
    httpx_mock.add_callback(api, is_reusable=True)
    changes = [
        change("KEY", Action.DELETE, group="prod"),
        change("KEY", repo_id="r2"),
        change("OK", repo_id="r3"),
        change("UNRELATED", Action.DELETE, repo_id="r4"),
    ]
    result = apply(changes, parallelism=4, poll=PollPolicy(operation_timeout_s=3.0))
    outcomes = {(o.change.repo_id, o.change.key): o for o in result.outcomes}
    assert outcomes[("r2", "KEY")].status == "failed"
    assert outcomes[("r3", "OK")].status == "success"
    for held in (outcomes[("r1", "KEY")], outcomes[("r4", "UNRELATED")]):
        assert held.status == "skipped"
        assert held.error is not None and held.error.error_code == "HeldBack"
        assert "1 create/update of this run failed" in held.error.message
    assert [m for _, m, _ in api.log].count("DELETE") == 0
    assert (result.failed, result.skipped) == (1, 2)


def test_deletes_run_at_once_when_the_run_writes_nothing(httpx_mock):
    api = FakeApi(latency=0.01)
    httpx_mock.add_callback(api, is_reusable=True)
    result = apply([change("A", Action.DELETE), change("B", Action.DELETE, repo_id="r2")])
    assert summary(result) == [("A", "success", "op-A", None), ("B", "success", "op-B", None)]
    assert api.times("DELETE", "A") == [0.0]


def test_an_interrupted_run_leaves_held_deletes_not_started(httpx_mock):
    api = FakeApi(latency=0.01, NEW=Key(done_after=5.0))
    httpx_mock.add_callback(api, is_reusable=True)
    result = apply([change("OLD", Action.DELETE), change("NEW")], cancel_at=1.0)
    assert result.interrupted
    assert [o.status for o in result.outcomes] == ["not_started", "failed"]
    assert api.times("DELETE", "OLD") == []


def test_apply_exits_1_and_reports_the_held_back_delete(tmp_path):
    # KEEP is created and fails; OLD would be pruned: it must stay, and the run must say so.
    api = FakeSourceCraft({"default": {"OLD": "x"}}, failing={"KEEP"})
    (tmp_path / "secretsync.yaml").write_text(MANIFEST)
    with HostileServer(api) as server:
        result = run_cli(
            tmp_path,
            "apply",
            "--yes",
            "--report",
            "apply.json",
            "--report",
            "apply.md",
            api_url=server.url,
        )
    assert result.returncode == 1
    assert [line.split(" ")[0] for line in server.lines] == ["GET", "GET", "PUT"]
    report = json.loads((tmp_path / "apply.json").read_text())
    old = next(c for c in report["changes"] if c["key"] == "OLD")
    assert old["status"] == "skipped"
    assert old["error"]["error_code"] == "HeldBack"
    assert report["summary"]["skipped"] == 1
    assert "1 deletion(s) held back because a write of this run failed" in result.stderr
    assert "skipped: HeldBack: not deleted because 1 create/update" in result.stdout
    assert "**1** deletion(s) held back" in (tmp_path / "apply.md").read_text()
    assert REPO_ID in json.dumps(report["targets"])

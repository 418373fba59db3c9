"""The real job, as a user runs it: CLI subprocess against the emulator subprocess.

Every test asserts the emulator's final state, not only what the CLI printed.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import TOKEN, Workspace

pytestmark = pytest.mark.e2e

BILLING_ID = "3b0c2a7e-5d1f-4c8e-9a6b-2f4d8e1c7a90"
SEED = {
    "orgs": [
        {
            "slug": "acme",
            "repos": [
                {
                    "slug": "api",
                    "secrets": {
                        "default": {"STALE": "old-value-1"},
                        "production": {"LEGACY": "leftover-2", "DB": "prod-db-3"},
                    },
                },
                {"slug": "web"},
                {
                    "slug": "billing",
                    "id": BILLING_ID,
                    "secrets": {"default": {"UNMANAGED": "keep-me-4"}},
                },
            ],
        }
    ]
}
MANIFEST = f"""\
version: 1
repos:
  - repo: acme/api
    groups:
      default:
        dotenv: app.env
        secrets:
          DATABASE_URL: {{env: API_DB_URL}}
          TLS_KEY: {{file: tls.key}}
      production:
        prune: true
        secrets:
          DB: {{env: PROD_DB}}
  - repo_id: {BILLING_ID}
    groups:
      default:
        secrets:
          LEDGER: {{env: LEDGER_TOKEN}}
"""
VALUES = {
    "API_DB_URL": "postgres://e2e-db-value/app",
    "PROD_DB": "prod-db-3",
    "LEDGER_TOKEN": "ledger-e2e-9d8c7b",
}
TLS = b"\x00\x01binary tls bytes\xff\n"


@pytest.fixture
def job(workspace: Workspace, launch):  # type: ignore[no-untyped-def]
    emulator = launch(SEED, "--op-delay-ms", "30")
    workspace.write("secretsync.yaml", MANIFEST)
    workspace.write("app.env", "FEATURE=on-flag-5\n")
    workspace.write("tls.key", TLS)
    workspace.env.update(VALUES, SOURCECRAFT_API_URL=emulator.url)
    return workspace, emulator


def test_first_apply_creates_everything_and_second_plan_is_empty(job):
    ws, emulator = job
    plan = ws.run("plan", "--detailed-exitcode", "--report", "plan.json")
    assert plan.code == 2, plan.stderr
    assert "+ DATABASE_URL" in plan.stdout and "env:API_DB_URL" in plan.stdout
    assert ws.report("plan.json")["summary"] == {
        "create": 4,
        "update": 0,
        "delete": 1,
        "unchanged": 1,
        "unknown": 0,
        "failed": 0,
    }
    assert emulator.writes() == []  # plan writes nothing

    applied = ws.run("apply", "--report", "apply.json", "--report", "apply.md")
    assert applied.code == 0, applied.stderr
    assert emulator.secrets("acme/api") == {
        "DATABASE_URL": b"postgres://e2e-db-value/app",
        "FEATURE": b"on-flag-5",
        "STALE": b"old-value-1",
        "TLS_KEY": TLS,
    }
    assert emulator.secrets("acme/api", "production") == {"DB": b"prod-db-3"}
    assert emulator.secrets(BILLING_ID) == {
        "LEDGER": b"ledger-e2e-9d8c7b",
        "UNMANAGED": b"keep-me-4",
    }
    report = ws.report("apply.json")
    assert report["command"] == "apply"
    assert {c["status"] for c in report["changes"]} == {"success"}
    assert all(c["operation_id"] for c in report["changes"] if c["action"] != "unchanged")

    again = ws.run("plan", "--detailed-exitcode")
    assert again.code == 0, again.stdout + again.stderr
    assert "No changes." in again.stdout


def test_changed_env_var_is_exactly_one_update(job):
    ws, emulator = job
    assert ws.run("apply").code == 0
    before = len(emulator.writes())
    changed = ws.run("apply", "--report", "r.json", API_DB_URL="postgres://rotated-value/app")
    assert changed.code == 0, changed.stderr
    assert [c["key"] for c in ws.report("r.json")["changes"] if c["action"] != "unchanged"] == [
        "DATABASE_URL"
    ]
    writes = emulator.writes()[before:]
    assert [(w["method"], w["path"].rsplit("/", 1)[1]) for w in writes] == [("PUT", "DATABASE_URL")]
    assert emulator.secrets("acme/api")["DATABASE_URL"] == b"postgres://rotated-value/app"


def test_prune_deletes_only_unmanaged_keys_in_managed_pruned_groups(job):
    ws, emulator = job
    assert ws.run("apply").code == 0
    # production prunes LEGACY; default (no prune) keeps STALE; billing keeps UNMANAGED
    assert "LEGACY" not in emulator.secrets("acme/api", "production")
    assert emulator.secrets("acme/api")["STALE"] == b"old-value-1"
    assert emulator.secrets(BILLING_ID)["UNMANAGED"] == b"keep-me-4"
    deletes = [w for w in emulator.writes() if w["method"] == "DELETE"]
    assert len(deletes) == 1 and deletes[0]["path"].endswith("/secrets/LEGACY")


def test_failed_operation_exits_1_while_other_changes_land(job):
    ws, emulator = job
    emulator.configure(fail_keys=["TLS_KEY"])
    result = ws.run("apply", "--report", "r.json")
    assert result.code == 1
    assert "TLS_KEY" in result.stdout and "failed" in result.stdout
    assert "TLS_KEY" not in emulator.secrets("acme/api")
    assert emulator.secrets("acme/api")["DATABASE_URL"] == b"postgres://e2e-db-value/app"
    failed = [c for c in ws.report("r.json")["changes"] if c["status"] == "failed"]
    assert [c["key"] for c in failed] == ["TLS_KEY"]
    assert failed[0]["error"]["error_code"] and failed[0]["operation_id"]
    # the pruned LEGACY waits: deletes run only when every write of the run succeeded
    assert emulator.secrets("acme/api", "production")["LEGACY"] == b"leftover-2"
    quiet = ws.run("apply", "--quiet")  # the summary, and still what failed
    assert quiet.code == 1
    summary, failure, held = quiet.stdout.splitlines()
    assert summary.startswith("Apply: 0 created") and "1 failed" in summary
    assert "1 deletion(s) held back" in summary
    assert failure.startswith("  ! acme/api · default · TLS_KEY  failed: ")
    assert held.startswith("  ! acme/api · production · LEGACY  skipped: HeldBack: ")


def test_an_unwritable_report_path_is_refused_before_any_change(job, tmp_path):
    ws, emulator = job
    (ws.root / "afile").write_text("")
    before = emulator.control("state")
    for args in (("apply", "--report", "afile/r.json"), ("plan", "--out", "afile/p.plan")):
        result = ws.run(*args)
        assert result.code == 64, result.stderr
        assert "afile is a file, not a folder" in result.stderr
    assert emulator.control("state") == before
    assert emulator.stats()["requests_total"] == 0


def test_wrong_token_is_a_clear_401(job):
    ws, _ = job
    result = ws.run("plan", SOURCECRAFT_TOKEN="not-the-token")
    assert result.code == 1
    assert "401" in result.stderr and "SOURCECRAFT_TOKEN" in result.stderr
    assert "request_id" in result.stderr
    assert "Traceback" not in result.stderr
    assert "not-the-token" not in result.stderr + result.stdout


def test_429_and_5xx_storms_still_converge(job):
    ws, emulator = job
    emulator.configure(max_in_flight=2, error_rate=0.3, random_seed=7, retry_after_s=0)
    result = ws.run("apply", "--parallelism", "8")
    assert result.code == 0, result.stderr
    stats = emulator.stats()
    assert stats["throttled_429"] > 0 or stats["errors_5xx"] > 0
    emulator.configure(max_in_flight=0, error_rate=0)
    assert ws.run("plan", "--detailed-exitcode").code == 0
    assert emulator.secrets(BILLING_ID)["LEDGER"] == b"ledger-e2e-9d8c7b"


def test_dropped_answers_still_converge(job):
    ws, emulator = job
    emulator.configure(drop_rate=0.2, random_seed=3)
    assert ws.run("apply").code == 0
    emulator.configure(drop_rate=0)
    assert ws.run("plan", "--detailed-exitcode").code == 0


def test_missing_env_var_sends_nothing(job):
    ws, emulator = job
    env = dict(ws.env)
    del env["PROD_DB"]
    ws.env = env
    result = ws.run("apply")
    assert result.code == 1
    assert "PROD_DB" in result.stderr and "secretsync.yaml:" in result.stderr
    assert emulator.stats()["requests_total"] == 0


def test_no_value_or_token_in_any_output(job):
    ws, _ = job
    outputs = []
    for args in (
        ["plan", "--report", "p.json", "--report", "p.md", "--verbose"],
        ["apply", "--report", "a.json", "--report", "a.md", "--debug"],
        ["plan", "--format", "json"],
        ["plan", "--format", "markdown"],
    ):
        r = ws.run(*args)
        outputs += [r.stdout, r.stderr]
    outputs += [(ws.root / n).read_text() for n in ("p.json", "p.md", "a.json", "a.md")]
    text = "\n".join(outputs)
    for value in [*VALUES.values(), "on-flag-5", TOKEN]:
        assert value not in text
    assert "binary tls bytes" not in text


def test_bad_flag_is_64_never_2(job):
    ws, _ = job
    assert ws.run("plan", "--no-such-flag").code == 64
    assert ws.run("apply", "--report", "x.txt").code == 64
    assert ws.run("plan", "--parallelism", "0").code == 64


def test_results_are_identical_whatever_the_parallelism(workspace: Workspace, launch):
    reports = []
    for parallelism in ("1", "16"):
        emulator = launch(SEED, "--op-delay-ms", "30")
        workspace.write("secretsync.yaml", MANIFEST)
        workspace.write("app.env", "FEATURE=on-flag-5\n")
        workspace.write("tls.key", TLS)
        workspace.env.update(VALUES, SOURCECRAFT_API_URL=emulator.url)
        result = workspace.run("apply", "--parallelism", parallelism, "--report", "r.json")
        assert result.code == 0, result.stderr
        report = workspace.report("r.json")
        for change in report["changes"]:
            change["operation_id"] = bool(change["operation_id"])  # ids differ run to run
        reports.append((result.stdout, report))
    assert reports[0] == reports[1]


def test_one_repository_named_twice_is_refused_before_any_write(workspace: Workspace, launch):
    emulator = launch(SEED)
    workspace.write(
        "secretsync.yaml",
        "version: 1\nrepos:\n  - repo: acme/billing\n    groups: {default: {}}\n"
        f"  - repo_id: {BILLING_ID}\n    groups: {{default: {{}}}}\n",
    )
    workspace.env["SOURCECRAFT_API_URL"] = emulator.url
    result = workspace.run("apply")
    assert result.code == 1
    assert "secretsync.yaml:5:" in result.stderr
    assert "already managed by the entry acme/billing at line 3" in result.stderr
    assert emulator.writes() == []

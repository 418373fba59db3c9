"""Issue 5: targeting, org fan-out, reusable sets, import, output modes."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import Workspace

pytestmark = pytest.mark.e2e

SEED = {
    "orgs": [
        {
            "slug": "acme",
            "repos": [{"slug": f"svc-{name}"} for name in ("alpha", "beta", "gamma", "legacy")]
            + [
                {"slug": "website"},
                {
                    "slug": "existing",
                    "secrets": {
                        "default": {"API_KEY": "existing-value-aa11", "DB_URL": "existing-db-bb22"},
                        "production": {"DB_URL": "existing-prod-cc33"},
                    },
                },
            ],
        }
    ]
}
FANOUT = """\
version: 1
sets:
  common:
    secrets:
      SENTRY_DSN: {env: SENTRY}
repos:
  - org: acme
    match: "svc-*"
    exclude: [svc-legacy]
    groups:
      default:
        use: [common]
        secrets:
          SERVICE_TOKEN: {env: SERVICE_TOKEN}
  - repo: acme/website
    groups:
      default:
        use: common
"""


@pytest.fixture
def org(workspace: Workspace, launch):  # type: ignore[no-untyped-def]
    emulator = launch(SEED, "--op-delay-ms", "10")
    workspace.write("secretsync.yaml", FANOUT)
    workspace.env.update(
        SENTRY="sentry-dsn-value-3c",
        SERVICE_TOKEN="svc-token-value-4d",
        SOURCECRAFT_API_URL=emulator.url,
    )
    return workspace, emulator


def test_org_selector_fans_out_and_names_every_matched_repo(org):
    ws, emulator = org
    plan = ws.run("plan", "--report", "p.json", "--report", "p.md")
    assert plan.code == 0, plan.stderr
    targets = [t["repo"] for t in ws.report("p.json")["targets"]]
    assert targets == ["acme/svc-alpha", "acme/svc-beta", "acme/svc-gamma", "acme/website"]
    md = (ws.root / "p.md").read_text()
    assert md.count("<details") == 4
    assert ws.run("apply").code == 0
    for name in ("alpha", "beta", "gamma"):
        assert emulator.secrets(f"acme/svc-{name}") == {
            "SENTRY_DSN": b"sentry-dsn-value-3c",
            "SERVICE_TOKEN": b"svc-token-value-4d",
        }
    assert emulator.secrets("acme/svc-legacy") == {}
    assert emulator.secrets("acme/website") == {"SENTRY_DSN": b"sentry-dsn-value-3c"}


def test_targeting_narrows_apply_and_marks_the_report_partial(org):
    ws, emulator = org
    result = ws.run("apply", "--repo", "acme/svc-b*", "--key", "SERVICE_*", "--report", "r.json")
    assert result.code == 0, result.stderr
    report = ws.report("r.json")
    assert report["partial"] is True
    assert report["filters"] == ["--repo acme/svc-b*", "--key SERVICE_*"]
    assert [(c["repo"], c["key"]) for c in report["changes"]] == [
        ("acme/svc-beta", "SERVICE_TOKEN")
    ]
    assert "partial" in result.stdout
    assert emulator.secrets("acme/svc-beta") == {"SERVICE_TOKEN": b"svc-token-value-4d"}
    assert emulator.secrets("acme/svc-alpha") == {}


def test_filters_and_selectors_that_select_nothing_are_warned_about(org):
    ws, _ = org
    typo = ws.run(
        "plan", "--repo", "acme/svc-betta", "--group", "Default", "--key", "NOPE", "--quiet"
    )
    assert typo.code == 0, typo.stderr  # a warning, not an error: nothing is wrong remotely
    assert typo.stderr.splitlines() == [
        "warning: --repo acme/svc-betta matched no repository of the manifest",
        "warning: --group Default matched no group of the selected repositories",
        "warning: --key NOPE matched no key of the selected groups",
    ]
    ws.write("secretsync.yaml", FANOUT.replace('match: "svc-*"', 'match: "srv-*"'))
    plan = ws.run("plan", "--report", "p.json")
    assert plan.code == 0, plan.stderr
    assert "warning: acme/srv-* (line 7) selected no repository of org acme" in plan.stdout
    assert ws.report("p.json")["warnings"] == [
        "acme/srv-* (line 7) selected no repository of org acme"
    ]


def test_quiet_prints_only_the_summary_and_json_is_pipeable(org):
    ws, _ = org
    quiet = ws.run("plan", "--quiet")
    assert quiet.stdout.strip().splitlines() == [
        "Plan: 7 to create, 0 to update, 0 to delete, 0 unchanged."
    ]
    piped = ws.run("plan", "--format", "json")
    assert json.loads(piped.stdout)["summary"]["create"] == 7


def test_colours_only_when_forced_or_on_a_terminal(org):
    ws, _ = org
    assert "\x1b[" not in ws.run("plan").stdout  # not a terminal, and NO_COLOR is set
    assert "\x1b[" not in ws.run("plan", "--no-color").stdout
    assert "\x1b[32m+" in ws.run("plan", "--color").stdout


def test_import_writes_a_manifest_of_names_and_no_values(org):
    ws, emulator = org
    result = ws.run(
        "import",
        "--repo",
        "acme/existing",
        "--group",
        "default",
        "--group",
        "production",
        "-o",
        "imported.yaml",
        "--env-template",
        "imported.env",
    )
    assert result.code == 0, result.stderr
    manifest = (ws.root / "imported.yaml").read_text()
    template = (ws.root / "imported.env").read_text()
    for value in ("existing-value-aa11", "existing-db-bb22", "existing-prod-cc33"):
        assert value not in manifest + template + result.stdout + result.stderr
    assert "API_KEY: {env: EXISTING_API_KEY}" in manifest
    assert "DB_URL: {env: EXISTING_PRODUCTION_DB_URL}" in manifest
    assert template.splitlines()[1:] == [
        "EXISTING_API_KEY=",
        "EXISTING_DB_URL=",
        "EXISTING_PRODUCTION_DB_URL=",
    ]
    # the imported manifest is valid, and with the values exported it converges at once
    assert ws.run("validate", "-f", "imported.yaml", "--no-env").code == 0
    values = {
        "EXISTING_API_KEY": "existing-value-aa11",
        "EXISTING_DB_URL": "existing-db-bb22",
        "EXISTING_PRODUCTION_DB_URL": "existing-prod-cc33",
    }
    converged = ws.run("plan", "-f", "imported.yaml", "--detailed-exitcode", **values)
    assert converged.code == 0, converged.stdout + converged.stderr
    assert (
        ws.run("import", "--repo", "acme/existing", "-o", "imported.yaml").code == 1
    )  # no clobber
    assert emulator.writes() == []  # import and plan only read


def test_a_failed_run_leaves_a_report_that_says_so_not_an_older_one(org):
    ws, _ = org
    assert ws.run("plan", "--report", "p.json", "--report", "p.md").code == 0
    failed = ws.run(
        "plan", "--report", "p.json", "--report", "p.md", SOURCECRAFT_TOKEN="not-the-token"
    )
    assert failed.code == 1
    report = ws.report("p.json")
    assert report["changes"] == [] and report["targets"] == []
    assert report["error"]["message"].startswith("error: GET /orgs/acme/repos -> HTTP 401")
    assert "401" in report["error"]["message"]
    assert report["error"]["lines"][1].startswith("hint: check that $SOURCECRAFT_TOKEN")
    markdown = (ws.root / "p.md").read_text()
    assert "> [!CAUTION]\n> plan failed; nothing was changed by it." in markdown
    assert "not-the-token" not in markdown + json.dumps(report)

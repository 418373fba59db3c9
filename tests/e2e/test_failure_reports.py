"""Every failing run rewrites the reports it was asked for, whatever stopped it: a located
problem (lone surrogates included, never an "internal error"), a bug, or CI's SIGTERM. An older
run's report left in place would be posted as current."""

from __future__ import annotations

import json
import signal

import pytest

from secretsync import cli
from tests.e2e.conftest import TOKEN, wait_until

OLD = '{"command": "plan", "changes": ["an older run"]}\n'
SEED = {"tokens": [TOKEN], "orgs": [{"slug": "acme", "repos": [{"slug": "app"}]}]}
HEAD = "version: 1\n"
GROUPS = "    groups:\n      default:\n        secrets: {K: {env: V}}\n"


def old_reports(ws) -> None:
    ws.write("p.json", OLD)
    ws.write("p.md", "an older run\n")


def assert_rewritten(ws, first_line: str) -> dict:
    report = ws.report("p.json")
    assert report["changes"] == [] and report["targets"] == []
    assert report["error"]["message"] == first_line
    markdown = (ws.root / "p.md").read_text()
    assert "an older run" not in markdown and first_line in markdown
    return report


@pytest.mark.parametrize(
    ("manifest", "place", "key"),
    [
        (
            HEAD + "repos:\n  - repo: acme/app\n" + GROUPS.replace("{env: V}", '{file: "\\ud800"}'),
            "6:29",
            "repos[0].groups.default.secrets.K.file",
        ),
        (
            HEAD + 'file_roots: ["\\udfff"]\nrepos:\n  - repo: acme/app\n' + GROUPS,
            "2:14",
            "file_roots[0]",
        ),
        (
            HEAD + 'repos:\n  - org: acme\n    match: "a\\ud800*"\n' + GROUPS,
            "4:12",
            "repos[0].match",
        ),
        (HEAD + 'repos:\n  - repo: "acme/a\\ud800"\n' + GROUPS, "3:11", "repos[0].repo"),
    ],
    ids=["file", "file_roots", "match", "slug"],
)
def test_a_lone_surrogate_is_a_located_problem_and_the_reports_say_so(
    workspace, launch, manifest, place, key
):
    ws, emulator = workspace, launch(SEED)
    ws.write("secretsync.yaml", manifest)
    old_reports(ws)
    result = ws.run(
        "plan", "--report", "p.json", "--report", "p.md", SOURCECRAFT_API_URL=emulator.url, V="v"
    )
    assert result.code == 1, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"error: secretsync.yaml:{place}: {key}: ")
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert "\ud800" not in result.stderr and "\udfff" not in result.stderr
    assert_rewritten(ws, first)


def test_an_internal_error_rewrites_the_reports(workspace, monkeypatch, capsys):
    ws = workspace
    ws.write("secretsync.yaml", HEAD + "repos:\n  - repo: acme/app\n" + GROUPS)
    old_reports(ws)

    def bug(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.chdir(ws.root)
    monkeypatch.setenv("SOURCECRAFT_TOKEN", TOKEN)
    monkeypatch.setattr("secretsync.pipeline.prepare_job", bug)
    with pytest.raises(SystemExit) as exited:
        cli.main(["plan", "--report", "p.json", "--report", "p.md"])
    assert exited.value.code == 1
    line = capsys.readouterr().err.splitlines()[0]
    assert line.startswith("internal error: ZeroDivisionError (a bug in secretsync;")
    assert_rewritten(ws, line)


def test_an_apply_stopped_by_a_bug_does_not_claim_nothing_changed(workspace, monkeypatch):
    ws = workspace
    ws.write("secretsync.yaml", HEAD + "repos:\n  - repo: acme/app\n" + GROUPS)
    ws.write("a.md", "an older run\n")
    monkeypatch.chdir(ws.root)
    monkeypatch.setenv("SOURCECRAFT_TOKEN", TOKEN)
    monkeypatch.setattr("secretsync.pipeline.run_apply", lambda *a, **k: 1 / 0)
    with pytest.raises(SystemExit):
        cli.main(["apply", "--yes", "--report", "a.md"])
    markdown = (ws.root / "a.md").read_text()
    assert "may have changed some secrets" in markdown
    assert "nothing was changed" not in markdown


def test_sigterm_during_the_reads_rewrites_the_reports_and_exits_130(workspace, launch):
    ws, emulator = workspace, launch(SEED, "--latency-ms", "30000")
    ws.write("secretsync.yaml", HEAD + "repos:\n  - repo: acme/app\n" + GROUPS)
    old_reports(ws)
    proc = ws.spawn(
        "plan", "--report", "p.json", "--report", "p.md", SOURCECRAFT_API_URL=emulator.url, V="v"
    )
    wait_until(lambda: emulator.stats()["in_flight"] >= 1, timeout_s=30)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert stderr.splitlines()[-1] == "interrupted"
    report = assert_rewritten(ws, "interrupted")
    assert json.dumps(report).count("an older run") == 0

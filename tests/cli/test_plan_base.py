"""`secretsync plan --base REF` end to end: exit codes, formats and reports, no value of either
revision anywhere in what it prints or writes, and nothing sent: no HTTP client, no socket."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from secretsync.errors import EXIT_CHANGES_PENDING, EXIT_ERROR, EXIT_OK, EXIT_USAGE
from tests.review.gitrepo import Repo

ROOT = Path(__file__).resolve().parent.parent.parent

BASE = """\
version: 1
repos:
  - repo: acme/app
    groups:
      default:
        dotenv: env/app.env
        secrets:
          DB_URL: {env: APP_DB}
          TLS_KEY: {file: certs/tls.key}
      production:
        prune: true
        secrets:
          OLD: {env: OLD_TOKEN}
"""
HEAD = BASE.replace("OLD: {env: OLD_TOKEN}", "NEW: {env: NEW_TOKEN}").replace(
    "{env: APP_DB}", "{env: APP_DB_V2}"
)
# Every value either revision holds, and every value the environment holds: none may leak.
VALUES = {
    "base file": "BASEFILE-7f3a-tls-private",
    "head file": "HEADFILE-91c2-tls-private",
    "base dotenv": "BASEDOT-55aa-password",
    "head dotenv": "HEADDOT-66bb-password",
    "env": "ENVVALUE-0d0d-database",
    "token": "TOKEN-c0ffee-sourcecraft",
}


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "repo")
    repo.write("secretsync.yaml", BASE)
    repo.write("env/app.env", f"PASSWORD={VALUES['base dotenv']}\nSAME=same-value-1\n")
    repo.write("certs/tls.key", VALUES["base file"])
    repo.commit("base")
    repo.write("secretsync.yaml", HEAD)
    repo.write("env/app.env", f"PASSWORD={VALUES['head dotenv']}\nSAME=same-value-1\n")
    repo.write("certs/tls.key", VALUES["head file"])
    return repo


def run(repo: Repo, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(repo.path.parent),
        "NO_COLOR": "1",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, "-m", "secretsync", "plan", *args],
        cwd=repo.path,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_exit_codes_follow_plan(repo):
    assert run(repo, "--base", "main").returncode == EXIT_OK
    assert run(repo, "--base", "main", "--detailed-exitcode").returncode == EXIT_CHANGES_PENDING
    repo.commit("head")
    same = run(repo, "--base", "main", "--detailed-exitcode")
    assert same.returncode == EXIT_OK, same.stderr
    assert "No manifest changes against main" in same.stdout


def test_text_shows_each_change_and_the_deletion(repo):
    result = run(repo, "--base", "main")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "~ DB_URL" in text and "env:APP_DB -> env:APP_DB_V2" in text
    assert "~ TLS_KEY" in text and "file:certs/tls.key  (content changed)" in text
    assert "~ PASSWORD" in text and "+ NEW" in text and "- OLD" in text
    assert "Deletions (prune: on)" in text and "acme/app · production · OLD" in text
    assert "SAME" not in text  # unchanged keys only with -v
    assert "SAME" in run(repo, "--base", "main", "-v").stdout


def test_env_variable_selects_the_base_too(repo):
    result = run(repo, "--detailed-exitcode", SECRETSYNC_BASE="main")
    assert result.returncode == EXIT_CHANGES_PENDING, result.stderr


def test_no_value_of_either_revision_reaches_any_output_or_report(repo, tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    env = {
        "SOURCECRAFT_TOKEN": VALUES["token"],
        "APP_DB": VALUES["env"],
        "APP_DB_V2": VALUES["env"],
        "NEW_TOKEN": VALUES["env"],
        "SOURCECRAFT_API_URL": f"http://127.0.0.1:{port}",
    }
    reports = [tmp_path / "r.json", tmp_path / "r.md"]
    seen = []
    for fmt in ("text", "json", "markdown"):
        for extra in ((), ("-v",), ("--debug",)):
            result = run(
                repo,
                "--base",
                "main",
                "--format",
                fmt,
                *extra,
                *(arg for path in reports for arg in ("--report", str(path))),
                **env,
            )
            assert result.returncode == 0, result.stderr
            seen += [result.stdout, result.stderr, *(p.read_text() for p in reports)]
    everything = "\n".join(seen)
    # The blob ids of the secret files are digests of their values: not shown either.
    oids = [
        repo.git("rev-parse", "main:certs/tls.key"),
        repo.git("hash-object", "certs/tls.key"),
        repo.git("rev-parse", "main:env/app.env"),
        repo.git("hash-object", "env/app.env"),
    ]
    for secret in [*VALUES.values(), *oids, *(oid[:12] for oid in oids)]:
        assert secret not in everything
    assert "content changed" in everything  # the mark is there, the value is not
    # No digest of any kind: the only long hex string is the base commit's id.
    commit = repo.git("rev-parse", "main")
    for run_of_hex in re.findall(r"[0-9a-fA-F]{12,}", everything):
        assert commit.startswith(run_of_hex.lower()), run_of_hex
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing ever connected to the API URL
    listener.close()


def test_no_http_client_is_built_and_no_socket_opened(repo, monkeypatch, capsys):
    import httpx

    from secretsync.cli import main

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("plan --base must not touch the network")

    monkeypatch.setattr(httpx.AsyncClient, "__init__", refuse)
    monkeypatch.setattr(httpx.Client, "__init__", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.chdir(repo.path)
    monkeypatch.setenv("HOME", str(repo.path.parent))
    monkeypatch.setenv("SOURCECRAFT_TOKEN", VALUES["token"])
    with pytest.raises(SystemExit) as done:
        main(["plan", "--base", "main", "--detailed-exitcode"])
    captured = capsys.readouterr()
    assert done.value.code == EXIT_CHANGES_PENDING, captured.err
    assert "internal error" not in captured.err


def test_needs_no_token(repo):
    result = run(repo, "--base", "main")
    assert result.returncode == 0, result.stderr
    assert "SOURCECRAFT_TOKEN" not in result.stderr


def test_json_report_is_a_structural_plan_of_the_published_schema(repo, tmp_path):
    schema = json.loads((ROOT / "schemas" / "report.schema.json").read_text())
    result = run(repo, "--base", "main", "--format", "json")
    report = json.loads(result.stdout)
    Draft202012Validator(schema).validate(report)
    assert report["kind"] == "structural-plan" and report["command"] == "plan"
    assert report["base"]["ref"] == "main" and report["base"]["status"] == "ok"
    rows = {(c["group"], c["key"]): c for c in report["changes"]}
    assert rows[("default", "DB_URL")]["change"] == "source"
    assert rows[("default", "TLS_KEY")]["content"] == "changed"
    assert rows[("production", "OLD")]["deletes"] is True
    assert report["summary"]["deletions"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--base", "-x"), "starts with '-'"),
        (("--base=--output=/tmp/x",), "starts with '-'"),
        (("--base", "no-such-branch"), "names no commit"),
        (("--base", "main", "--out", "p.plan"), "--out"),
        (("--base", "main", "--repo", "acme/*"), "--repo"),
        (("--base", "main", "--comment-on", "acme/infra/42"), "--comment-on"),
    ],
)
def test_bad_base_usage_is_one_line_exit_64(repo, args, message):
    result = run(repo, *args)
    assert result.returncode == EXIT_USAGE, result.stderr
    assert message in result.stderr
    assert len([line for line in result.stderr.splitlines() if "rror" in line]) == 1
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_outside_a_git_repository_exit_1(tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "secretsync.yaml").write_text(BASE.replace("        dotenv: env/app.env\n", ""))
    (folder / "certs").mkdir()
    (folder / "certs" / "tls.key").write_text("x")
    result = subprocess.run(
        [sys.executable, "-m", "secretsync", "plan", "--base", "main"],
        cwd=folder,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "PYTHONPATH": str(ROOT),
            "GIT_CEILING_DIRECTORIES": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == EXIT_ERROR
    assert result.stderr.startswith("error: plan --base needs the manifest inside a git repository")


def test_invalid_head_fails_and_the_report_says_why(repo, tmp_path):
    repo.write("secretsync.yaml", HEAD.replace("groups:", "groupz:"))
    report = tmp_path / "plan.md"
    result = run(repo, "--base", "main", "--report", str(report))
    assert result.returncode == EXIT_ERROR
    assert "secretsync.yaml:4" in result.stderr
    assert "plan failed" in report.read_text()


def test_quiet_prints_the_summary_and_keeps_warnings_on_stderr(repo):
    repo.write("secretsync.yaml", HEAD.replace("        prune: true\n", ""))
    result = run(repo, "--base", "main", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1 and "Structural plan against main" in result.stdout
    assert "warning: prune switched off in acme/app · production" in result.stderr

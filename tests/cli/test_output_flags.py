"""--report paths that can never be written are refused first; -q is quiet about files;
a failing run under --format json still prints a JSON document (schema: report.schema.json)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tests.cli.test_cli import GOOD, run

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas" / "report.schema.json").read_text()
)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_report_under_proc_is_refused_before_anything_runs(tmp_path, command):
    (tmp_path / "secretsync.yaml").write_text(GOOD)
    result = run(tmp_path, command, "--report", "/proc/secretsync/plan.json")
    assert result.returncode == 64
    assert "nothing can be written in /proc" in result.stderr
    assert "SOURCECRAFT_TOKEN" not in result.stderr  # refused before the run started


def test_quiet_does_not_announce_written_files(tmp_path):
    (tmp_path / "secretsync.yaml").write_text(GOOD)
    # A run that fails before it has a plan still writes its report, silently under -q.
    result = run(tmp_path, "plan", "-q", "--report", "out/plan.md", APP_API_KEY="v-1")
    assert result.returncode == 1
    assert (tmp_path / "out" / "plan.md").exists()
    assert "report written" not in result.stderr


def test_a_failing_run_prints_a_json_error_document(tmp_path):
    (tmp_path / "secretsync.yaml").write_text(GOOD)
    result = run(tmp_path, "plan", "--format", "json", APP_API_KEY="v-1")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    assert document["error"]["exit_code"] == 1
    assert "SOURCECRAFT_TOKEN is not set" in document["error"]["message"]
    assert document["changes"] == []
    assert "error: environment variable SOURCECRAFT_TOKEN" in result.stderr  # still said there


def test_a_failing_run_prints_markdown_under_format_markdown(tmp_path):
    (tmp_path / "secretsync.yaml").write_text(GOOD + "bogus: 1\n")
    result = run(tmp_path, "apply", "--yes", "--format", "markdown")
    assert result.returncode == 1
    assert "[!CAUTION]" in result.stdout and "bogus" in result.stdout

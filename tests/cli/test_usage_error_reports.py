"""A command line click refuses still rewrites the reports it names (docs/security.md: every
failing run rewrites the reports it was asked for): a CI step that posts the report "always"
must not show an older run's result as this run's."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from secretsync.errors import EXIT_USAGE
from tests.cli.test_cli import GOOD, run
from tests.cli.test_output_flags import SCHEMA

STALE = '{"stale": "an older run said: no changes"}'


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "secretsync.yaml").write_text(GOOD)
    for name in ("plan.json", "plan.md"):
        (tmp_path / name).write_text(STALE)
    return tmp_path


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_bad_value_rewrites_every_report_named(workspace: Path, command: str) -> None:
    result = run(
        workspace,
        command,
        *("--report", "plan.json", "--report=plan.md", "--parallelism", "many"),
    )
    assert result.returncode == EXIT_USAGE
    document = json.loads((workspace / "plan.json").read_text())
    jsonschema.validate(document, SCHEMA)
    assert document["command"] == command
    assert document["error"]["exit_code"] == EXIT_USAGE
    assert "--parallelism" in document["error"]["message"]
    markdown = (workspace / "plan.md").read_text()
    assert "stale" not in markdown and "--parallelism" in markdown
    assert "Usage:" in result.stderr  # click's own message is still what the terminal shows


def test_an_unknown_option_still_finds_the_reports(workspace: Path) -> None:
    # click's parser stops at the unknown option, so the words are read plainly.
    result = run(workspace, "plan", "--report", "plan.json", "--no-such-flag", "--report=plan.md")
    assert result.returncode == EXIT_USAGE
    assert json.loads((workspace / "plan.json").read_text())["error"]["exit_code"] == EXIT_USAGE
    assert "stale" not in (workspace / "plan.md").read_text()


def test_format_json_puts_the_failure_on_stdout(workspace: Path) -> None:
    result = run(workspace, "plan", "--format", "json", "--parallelism", "0")
    assert result.returncode == EXIT_USAGE
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    assert document["error"]["exit_code"] == EXIT_USAGE


def test_a_word_that_is_another_option_s_value_is_not_a_report(workspace: Path) -> None:
    # `--key --report` gives --key the value "--report"; x.json is then a stray argument,
    # not a report path, and nothing may be written there.
    result = run(workspace, "plan", "--key", "--report", "x.json")
    assert result.returncode == EXIT_USAGE
    assert not (workspace / "x.json").exists()


def test_only_paths_report_takes_are_written(workspace: Path) -> None:
    (workspace / "notes.txt").write_text("mine")
    result = run(workspace, "plan", "--report", "notes.txt", "--parallelism", "x")
    assert result.returncode == EXIT_USAGE
    assert (workspace / "notes.txt").read_text() == "mine"


def test_a_usage_error_outside_plan_and_apply_writes_nothing(workspace: Path) -> None:
    result = run(workspace, "validate", "--report", "plan.json", "--nope")
    assert result.returncode == EXIT_USAGE
    assert (workspace / "plan.json").read_text() == STALE
    result = run(workspace, "no-such-command", "--report", "plan.json")
    assert result.returncode == EXIT_USAGE
    assert (workspace / "plan.json").read_text() == STALE

"""The SourceCraft recipe's plan cube comments on the pull request when, and only when, it has
the pull request's number; the comment target is ORG/REPO/PR from the recipe's own values."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.test_recipes import SOURCECRAFT, job_running, load


@pytest.fixture
def recorder(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "secretsync").write_text(
        '#!/bin/sh\necho "$1 comment_on=${SECRETSYNC_COMMENT_ON:-}" >> "$STUB_LOG"\n'
    )
    (bin_dir / "pip").write_text("#!/bin/sh\nexit 0\n")
    for stub in bin_dir.iterdir():
        stub.chmod(0o755)
    return bin_dir


def run_plan_cube(recorder: Path, tmp_path: Path, **env: str) -> list[str]:
    name, units = job_running(SOURCECRAFT, "plan")
    workflow = load(SOURCECRAFT)["workflows"][name.split("/")[0]]
    log = tmp_path / "calls.log"
    log.write_text("")
    base = {k: str(v) for k, v in workflow["env"].items() if "${{" not in str(v)}
    full = {**base, "PATH": f"{recorder}{os.pathsep}{os.environ['PATH']}", "STUB_LOG": str(log)}
    sh = shutil.which("sh")
    assert sh is not None
    for unit in units:
        subprocess.run([sh, "-e", "-c", unit], env={**full, **env}, cwd=tmp_path, check=True)
    return log.read_text().splitlines()


def test_with_a_number_the_plan_comments_on_that_pull_request(recorder, tmp_path):
    calls = run_plan_cube(recorder, tmp_path, SECRETSYNC_PR="42")
    assert calls == ["validate comment_on=", "plan comment_on=acme/secrets/42"]
    fallback = run_plan_cube(recorder, tmp_path, SOURCECRAFT_PR_SLUG="7")
    assert fallback[-1] == "plan comment_on=acme/secrets/7"


def test_without_a_number_no_comment_is_asked_for(recorder, tmp_path):
    assert run_plan_cube(recorder, tmp_path)[-1] == "plan comment_on="

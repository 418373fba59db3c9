"""The recipes for untrusted pull requests (examples/ci/*-untrusted.*): the pull request job runs
the structural plan (`plan --base`) and holds no secret; the exact plan and apply run only on
the protected branch. Their shell lines run against stubs, as in tests/test_recipes.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_recipes import (
    CI,
    PENDING_IS_SUCCESS,
    TOKEN_LITERALS,
    invocations,
    load,
    options_of,
    recipe_invocations,
    run_job,
    strings,
    stub_bin,  # noqa: F401  # a fixture
)

GITHUB = CI / "github-actions-untrusted.yml"
GITLAB = CI / "gitlab-ci-untrusted.yml"
SOURCECRAFT = CI / "sourcecraft-ci-untrusted.yaml"
RECIPES = [GITHUB, GITLAB, SOURCECRAFT]


def jobs(path: Path) -> dict[str, tuple[Any, list[str]]]:
    """Job name -> (its definition, the shell scripts it runs in order)."""
    doc = load(path)
    found: dict[str, tuple[Any, list[str]]] = {}
    if path == GITHUB:
        for name, job in doc["jobs"].items():
            found[name] = (job, [step["run"] for step in job["steps"] if "run" in step])
    elif path == GITLAB:
        for name, job in doc.items():
            if isinstance(job, dict) and "script" in job and not name.startswith("."):
                base = doc[job["extends"]]
                found[name] = (job, [*base["before_script"], *job["script"]])
    else:
        for name, workflow in doc["workflows"].items():
            units = [line for t in workflow["tasks"] for c in t["cubes"] for line in c["script"]]
            found[name] = (workflow, units)
    return found


def plan_lines(units: list[str]) -> list[str]:
    return [
        line
        for unit in units
        for line in unit.replace("\\\n", " ").splitlines()
        if any(cmd == "plan" for cmd, _ in invocations(line))
    ]


def review_job(path: Path) -> tuple[str, Any, list[str]]:
    [(name, job, units)] = [
        (name, job, units)
        for name, (job, units) in jobs(path).items()
        if any("--base" in line for line in plan_lines(units))
    ]
    return name, job, units


@pytest.fixture(scope="module")
def stubs(stub_bin: Path) -> Path:  # noqa: F811
    git = stub_bin / "git"
    git.write_text('#!/bin/sh\necho "git $*" >> "$STUB_LOG"\n')
    git.chmod(0o755)
    return stub_bin


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_only_real_commands_and_options(path):
    found = recipe_invocations(path)
    assert any(cmd == "plan" and "--base" in flags for cmd, flags in found)
    for command, flags in found:
        assert set(flags) <= options_of(command), (command, flags)


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_the_pull_request_job_is_structural_and_holds_no_secret(path, stubs, tmp_path):
    name, job, units = review_job(path)
    for line in plan_lines(units):
        assert "--base" in line and "--out" not in line
        assert "--detailed-exitcode" in line and PENDING_IS_SUCCESS.search(line)
    texts = list(strings(job))
    assert not [t for t in texts if "secrets." in t or "TOKEN" in t or "PLAN_KEY" in t], name
    if path == GITLAB:  # variables reach it only if unprotected: the recipe says to protect them
        assert set(job.get("variables", {})) <= {"GIT_DEPTH"}
        assert "Protect variable" in path.read_text()
        assert job["rules"][0]["if"] == '$CI_PIPELINE_SOURCE == "merge_request_event"'
    if path == GITHUB:
        assert job["permissions"] == {"contents": "read"}
        assert load(path)["permissions"] == {}
    assert run_job(units, stubs, tmp_path, plan=0)[0] == 0
    code, calls = run_job(units, stubs, tmp_path, plan=2)
    assert code == 0, f"{name}: pending changes (exit 2) must pass"
    assert "secretsync plan --base" in calls
    assert run_job(units, stubs, tmp_path, plan=1)[0] != 0
    assert run_job(units, stubs, tmp_path, plan=64)[0] != 0


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_exact_plan_and_apply_only_on_the_protected_branch(path):
    review, _, _ = review_job(path)
    others = {name: job for name, (job, _) in jobs(path).items() if name != review}
    exact = [
        name
        for name, (_, units) in jobs(path).items()
        if name != review
        and any(cmd in ("plan", "apply") for unit in units for cmd, _ in invocations(unit))
    ]
    assert exact
    doc = load(path)
    for name in exact:
        job = others[name]
        if path == GITHUB:
            gate = job.get("if") or others[job["needs"]]["if"]
            assert "refs/heads/main" in gate and "pull_request" in gate
        elif path == GITLAB:
            assert all("$CI_DEFAULT_BRANCH" in rule["if"] for rule in job["rules"])
        else:
            assert [t["workflows"] for t in doc["on"]["push"]] == [[name]]
            assert doc["on"]["push"][0]["filter"]["branches"] == ["main"]
            assert all(name not in t["workflows"] for t in doc["on"]["pull_request"])


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_no_token_is_written_down(path):
    assert not TOKEN_LITERALS.search(path.read_text())

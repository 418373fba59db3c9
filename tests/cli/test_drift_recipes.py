"""Drift recipes (a scheduled `plan --detailed-exitcode` on the default branch) fail their job
when the remote side differs and keep the Markdown report; and every recipe gives its jobs
each variable the bundled manifest reads.

The jobs run with `secretsync` replaced by the stub of test_recipes.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretsync.manifest.loader import load_manifest
from secretsync.models import SecretSpec
from tests.cli.test_recipes import (
    CI,
    GITHUB,
    GITLAB,
    ROOT,
    SOURCECRAFT,
    TOKEN_EXPANSION,
    invocations,
    load,
    options_of,
    recipe_invocations,
    run_job,
    stub_bin,  # noqa: F401 - a fixture
)

SOURCECRAFT_DRIFT = CI / "sourcecraft-ci-drift.yaml"
GITHUB_DRIFT = CI / "github-actions-drift.yml"
GITLAB_DRIFT = CI / "gitlab-ci-drift.yml"
DRIFT = [SOURCECRAFT_DRIFT, GITHUB_DRIFT, GITLAB_DRIFT]
EXAMPLE = ROOT / "examples" / "secretsync.yaml"


def drift_job(path: Path) -> tuple[dict, list[str]]:
    """(the job's definition, its shell units) for the one job running `secretsync plan`."""
    doc = load(path)
    if path == SOURCECRAFT_DRIFT:
        [workflow] = doc["workflows"].values()
        [task] = workflow["tasks"]
        [cube] = task["cubes"]
        return cube, list(cube["script"])
    if path == GITHUB_DRIFT:
        [job] = doc["jobs"].values()
        return job, [step["run"] for step in job["steps"] if "run" in step]
    [job] = [j for name, j in doc.items() if not name.startswith(".") and "script" in j]
    return job, [*job.get("before_script", []), *job["script"]]


def test_each_drift_recipe_is_scheduled_on_the_default_branch():
    sourcecraft = load(SOURCECRAFT_DRIFT)["on"]
    assert set(sourcecraft) == {"schedule"}
    [entry] = sourcecraft["schedule"]
    assert entry["cron"] and entry["workflows"] == list(load(SOURCECRAFT_DRIFT)["workflows"])
    github = load(GITHUB_DRIFT)
    assert github["on"]["schedule"][0]["cron"] and github["permissions"] == {}
    assert set(github["on"]) == {"schedule", "workflow_dispatch"}
    rules = drift_job(GITLAB_DRIFT)[0]["rules"]
    assert rules == [
        {"if": '$CI_PIPELINE_SOURCE == "schedule" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH'}
    ]


@pytest.mark.parametrize("path", DRIFT, ids=lambda p: p.name)
def test_drift_fails_the_job_and_keeps_the_markdown_report(path, stub_bin, tmp_path):  # noqa: F811
    job, units = drift_job(path)
    plans = [flags for unit in units for cmd, flags in invocations(unit) if cmd == "plan"]
    assert plans and all("--detailed-exitcode" in flags and "--report" in flags for flags in plans)
    assert run_job(units, stub_bin, tmp_path, plan=0)[0] == 0, "no drift must pass"
    code, calls = run_job(units, stub_bin, tmp_path, plan=2)
    assert code != 0, "drift (exit 2) must fail the job"
    assert "--report drift.md" in calls and (tmp_path / "drift.md").exists()
    assert run_job(units, stub_bin, tmp_path, plan=1)[0] != 0, "an error must fail the job"
    # ...and the report outlives the failure
    if path == SOURCECRAFT_DRIFT:
        assert "drift.md" in job["artifacts"]["paths"]
    elif path == GITHUB_DRIFT:
        upload = next(s for s in job["steps"] if "upload-artifact" in s.get("uses", ""))
        assert upload["if"] == "always()" and "drift.md" in upload["with"]["path"]
        summary = next(s for s in job["steps"] if "GITHUB_STEP_SUMMARY" in s.get("run", ""))
        assert summary["if"].startswith("always()")
    else:
        assert job["artifacts"]["when"] == "always" and "drift.md" in job["artifacts"]["paths"]


@pytest.mark.parametrize("path", DRIFT, ids=lambda p: p.name)
def test_drift_recipes_use_real_options_and_never_expand_the_token(path):
    for command, flags in recipe_invocations(path):
        assert command in ("plan", "validate", "apply")
        assert set(flags) <= options_of(command), flags
    for unit in drift_job(path)[1]:
        assert not TOKEN_EXPANSION.search(unit)


def env_sources(manifest: Path) -> set[str]:
    loaded = load_manifest(manifest)
    return {
        layer.source.ref
        for repo in loaded.repos
        for group in repo.groups
        for layer in group.layers
        if isinstance(layer, SecretSpec) and layer.source.kind == "env"
    }


def given_env(path: Path) -> list[tuple[str, set[str]]]:
    """(job, the variables the recipe sets for the step that runs secretsync plan/apply)."""
    doc = load(path)
    found = []
    if path in (SOURCECRAFT, SOURCECRAFT_DRIFT):
        for name, workflow in doc["workflows"].items():
            found.append((name, set(workflow.get("env", {}))))
    else:
        for name, job in doc["jobs"].items():
            for step in job["steps"]:
                if any(cmd in ("plan", "apply") for cmd, _ in invocations(step.get("run", ""))):
                    found.append((f"{name}/{step.get('name', '')}", set(step.get("env", {}))))
    return found


@pytest.mark.parametrize(
    "path", [SOURCECRAFT, SOURCECRAFT_DRIFT, GITHUB, GITHUB_DRIFT], ids=lambda p: p.name
)
def test_each_recipe_provides_every_variable_the_example_manifest_reads(path):
    needed = env_sources(EXAMPLE)
    assert "DEMO_LOG_LEVEL" in needed  # the one a recipe once forgot: the check must see it
    jobs = given_env(path)
    assert jobs
    for job, names in jobs:
        assert not needed - names, f"{path.name}: {job} lacks {sorted(needed - names)}"


def test_gitlab_recipes_name_no_variables_because_gitlab_exports_them_all():
    # GitLab gives every job all CI/CD variables: a recipe that named some would suggest the
    # others are missing. What each must hold is said in the recipe's header.
    for path in (GITLAB, GITLAB_DRIFT):
        text = path.read_text()
        assert "variables:" not in text
        assert "CI/CD variables" in text

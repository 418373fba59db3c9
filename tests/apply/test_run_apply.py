"""run_apply in-process, against the emulator: the approval hook can veto, the deletion limit
holds before any write, and a run converges (a second plan has nothing left to do)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretsync.emulator import Emulator
from secretsync.errors import AbortedError, DeletionLimitError
from secretsync.models import Action
from secretsync.pipeline import PlannedJob, prepare_job, run_apply, run_plan
from secretsync.settings import JobSettings

TOKEN = "apply-token"


@pytest.fixture
def world(tmp_path: Path):
    seed = {
        "tokens": [TOKEN],
        "orgs": [
            {
                "slug": "acme",
                "repos": [
                    {"slug": "api", "secrets": {"default": {"KEEP": "same", "OLD1": "x"}}},
                    {"slug": "web", "secrets": {"default": {"OLD2": "y", "OLD3": "z"}}},
                ],
            }
        ],
    }
    manifest = tmp_path / "secretsync.yaml"
    manifest.write_text(
        "version: 1\nrepos:\n"
        "  - repo: acme/api\n    groups:\n      default:\n        prune: true\n"
        "        secrets:\n          KEEP: {env: V_KEEP}\n          NEW: {env: V_NEW}\n"
        "  - repo: acme/web\n    groups:\n      default:\n        prune: true\n"
        "        secrets: {}\n",
        encoding="utf-8",
    )
    emulator = Emulator(seed)
    emulator.start()
    yield emulator, manifest
    emulator.stop()


ENV = {"SOURCECRAFT_TOKEN": TOKEN, "V_KEEP": "same", "V_NEW": "fresh-value"}


def _settings(manifest: Path, url: str, **extra: object) -> JobSettings:
    return JobSettings(manifest_path=manifest, pipeline_api_url=url, **extra)  # type: ignore[arg-type]


def test_apply_converges_and_a_second_plan_is_empty(world):
    emulator, manifest = world
    settings = _settings(manifest, emulator.url)
    seen: list[PlannedJob] = []
    planned, result = run_apply(settings, prepare_job(settings, ENV), approve=seen.append)
    assert seen == [planned]
    assert sorted((c.repo, c.key, c.action) for c in planned.plan.pending) == [
        ("acme/api", "NEW", Action.CREATE),
        ("acme/api", "OLD1", Action.DELETE),
        ("acme/web", "OLD2", Action.DELETE),
        ("acme/web", "OLD3", Action.DELETE),
    ]
    assert result.failed == 0 and not result.interrupted
    assert emulator.secrets(emulator.repo_id("acme/api")) == {
        "KEEP": b"same",
        "NEW": b"fresh-value",
    }
    assert emulator.secrets(emulator.repo_id("acme/web")) == {}
    again = run_plan(settings, prepare_job(settings, ENV))
    assert not again.plan.has_changes


def test_a_veto_changes_nothing(world):
    emulator, manifest = world
    settings = _settings(manifest, emulator.url)

    def refuse(planned: PlannedJob) -> None:
        raise AbortedError("no")

    with pytest.raises(AbortedError):
        run_apply(settings, prepare_job(settings, ENV), approve=refuse)
    assert emulator.secrets(emulator.repo_id("acme/api")) == {"KEEP": b"same", "OLD1": b"x"}
    assert emulator.stats()["operations_created"] == 0


def test_the_deletion_limit_holds_before_any_write(world):
    emulator, manifest = world
    settings = _settings(manifest, emulator.url, max_deletes=2)
    approved: list[PlannedJob] = []
    with pytest.raises(DeletionLimitError):
        run_apply(settings, prepare_job(settings, ENV), approve=approved.append)
    assert approved == []  # refused before anyone was asked
    assert emulator.stats()["operations_created"] == 0
    assert emulator.secrets(emulator.repo_id("acme/api")) == {"KEEP": b"same", "OLD1": b"x"}
    assert emulator.secrets(emulator.repo_id("acme/web")) == {"OLD2": b"y", "OLD3": b"z"}

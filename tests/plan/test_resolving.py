"""Slugs to ids: many names of one org come from the org's listing (one request a page), few
names and whatever the listing lacks from single lookups, with the same plan either way."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from secretsync.emulator import Emulator
from secretsync.errors import ManifestError
from secretsync.models import Action
from secretsync.pipeline import JobSettings, prepare_job, run_plan
from secretsync.plan.resolving import LIST_THRESHOLD, MIN_YIELD
from secretsync.sourcecraft.client import ORG_PAGE_SIZE

TOKEN = "resolve-token"


def start(tmp_path: Path, org_size: int, named: list[int], *, extra: str = "") -> tuple:
    """An org of `org_size` repos svc-NNNN each holding K=v; a manifest naming `named`."""
    seed = {
        "tokens": [TOKEN],
        "orgs": [
            {
                "slug": "big",
                "repos": [
                    {"slug": f"svc-{i:04d}", "secrets": {"default": {"K": "v"}}}
                    for i in range(org_size)
                ],
            },
            {"slug": "other", "repos": [{"slug": "lone"}]},
        ],
    }
    lines = ["version: 1", "repos:"]
    for i in named:
        lines += [f"  - repo: big/svc-{i:04d}", "    groups:", "      default:"]
        lines += ["        secrets:", "          K: {env: V}"]
    manifest = tmp_path / "secretsync.yaml"
    manifest.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    emulator = Emulator(seed)
    emulator.start()
    return emulator, manifest


def plan(emulator: Emulator, manifest: Path):
    settings = JobSettings(manifest_path=manifest, pipeline_api_url=emulator.url)
    job = prepare_job(settings, {"SOURCECRAFT_TOKEN": TOKEN, "V": "v"})
    return run_plan(settings, job).plan


def counts(emulator: Emulator) -> tuple[int, int, int]:
    kinds = emulator.stats()["requests_by_kind"]
    return kinds["org_repos"], kinds["repo"], kinds["list"]


@pytest.fixture
def started(tmp_path: Path):
    emulators: list[Emulator] = []

    def make(org_size: int, named: list[int], **options: str) -> tuple:
        emulator, manifest = start(tmp_path, org_size, named, **options)
        emulators.append(emulator)
        return emulator, manifest

    yield make
    for emulator in emulators:
        emulator.stop()


def test_a_thousand_names_of_one_org_resolve_from_its_listing(started):
    emulator, manifest = started(1000, list(range(1000)))
    planned = plan(emulator, manifest)
    pages = math.ceil(1000 / ORG_PAGE_SIZE)
    assert counts(emulator) == (pages, 0, 1000)  # no single lookup at all
    log = [e for e in emulator.request_log() if e["kind"] == "org_repos"]
    assert all(f"page_size={ORG_PAGE_SIZE}" in e["query"] for e in log)
    assert {c.repo for c in planned.changes} == {f"big/svc-{i:04d}" for i in range(1000)}
    assert {c.action for c in planned.changes} == {Action.UNCHANGED}


def test_paging_stops_once_every_named_repository_is_found(started):
    emulator, manifest = started(1000, list(range(150)))
    plan(emulator, manifest)
    assert counts(emulator) == (2, 0, 150)  # pages 3 to 10 are never asked for


def test_few_names_use_single_lookups(started):
    named = list(range(LIST_THRESHOLD - 1))
    emulator, manifest = started(50, named)
    planned = plan(emulator, manifest)
    assert counts(emulator) == (0, len(named), len(named))
    assert len(planned.changes) == len(named)


def test_a_sparse_org_stops_paging_and_looks_the_rest_up(started):
    # A large org of which the manifest names a few repositories at its end: one page finds
    # none of them, so paging stops instead of reading the whole org.
    named = list(range(995, 1000))
    assert LIST_THRESHOLD <= len(named) < MIN_YIELD
    emulator, manifest = started(1000, named)
    planned = plan(emulator, manifest)
    assert counts(emulator) == (1, len(named), len(named))
    assert sorted(c.repo for c in planned.changes) == [f"big/svc-{i:04d}" for i in named]


def test_a_repository_missing_from_the_listing_is_looked_up_and_reported(started):
    named = list(range(20))
    missing = "  - repo: big/svc-9999\n    groups:\n      default:\n        secrets:\n"
    missing += "          K: {env: V}\n"
    emulator, manifest = started(20, named, extra=missing)
    with pytest.raises(ManifestError) as caught:
        plan(emulator, manifest)
    assert counts(emulator)[:2] == (1, 1)  # the listing, then the one single lookup
    (problem,) = caught.value.problems
    assert problem.line == 2 + 5 * len(named) + 1  # the missing entry's `- repo:` line
    assert "big/svc-9999 was not found" in problem.message
    assert "GET /repos/big/svc-9999 -> HTTP 404" in problem.message


def test_orgs_are_counted_apart(started):
    # Many names of one org and one of another: only the first org is listed.
    lone = "  - repo: other/lone\n    groups:\n      default:\n        secrets:\n"
    lone += "          K: {env: V}\n"
    emulator, manifest = started(30, list(range(30)), extra=lone)
    planned = plan(emulator, manifest)
    assert counts(emulator) == (1, 1, 31)
    assert [c.action for c in planned.changes if c.repo == "other/lone"] == [Action.CREATE]


def test_the_plan_is_the_same_as_with_single_lookups(started, monkeypatch):
    named = list(range(0, 300, 3))[::-1]  # not in the listing's order
    emulator, manifest = started(300, named)
    listed = plan(emulator, manifest)
    monkeypatch.setattr("secretsync.plan.resolving.LIST_THRESHOLD", 10_000)
    emulator.reset_stats()
    single = plan(emulator, manifest)
    assert counts(emulator)[:2] == (0, len(named))
    assert listed == single
    assert [c.repo for c in listed.changes] == [f"big/svc-{i:04d}" for i in named]

"""A .env file read whole by many groups multiplies: the secrets of a run are counted as
each group's keys are known, and past the limit no more values are taken."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretsync.errors import SourceError
from secretsync.limits import MAX_SECRETS
from secretsync.manifest.loader import load_manifest
from secretsync.sources.resolve import check_sources, resolve_sources

KEYS = 25_000  # divides MAX_SECRETS: the exact limit is reachable


def manifest(tmp_path: Path, groups: int):
    (tmp_path / "big.env").write_text("".join(f"K{i}=v{i}\n" for i in range(KEYS)))
    lines = ["version: 1", "repos:", "  - repo: acme/app", "    groups:"]
    lines += [f"      g{i}: {{dotenv: big.env}}" for i in range(groups)]
    path = tmp_path / "secretsync.yaml"
    path.write_text("\n".join(lines) + "\n")
    return load_manifest(path)


def test_a_run_over_the_secret_limit_is_refused_at_the_group_that_crosses_it(tmp_path):
    groups = MAX_SECRETS // KEYS + 1
    m = manifest(tmp_path, groups=300)
    with pytest.raises(SourceError) as info:
        resolve_sources(m, {})
    (problem,) = info.value.problems
    assert str(problem) == (
        f"{m.path}:{4 + groups}:7: with group g{groups - 1} of acme/app, the run reads over "
        f"{MAX_SECRETS:,} secrets (the limit per run); split the manifest"
    )
    with pytest.raises(SourceError, match="the limit per run"):
        check_sources(m, None)


def test_exactly_the_limit_is_allowed(tmp_path):
    repos = resolve_sources(manifest(tmp_path, groups=MAX_SECRETS // KEYS), {})
    assert sum(len(g.secrets) for g in repos[0].groups) == MAX_SECRETS


def test_one_group_listing_a_big_file_many_times_is_counted_each_time(tmp_path):
    (tmp_path / "big.env").write_text("".join(f"K{i}=v{i}\n" for i in range(KEYS)))
    times = MAX_SECRETS // KEYS + 1
    path = tmp_path / "secretsync.yaml"
    path.write_text(
        "version: 1\nrepos:\n  - repo: acme/app\n    groups:\n"
        f"      g0: {{dotenv: [{', '.join(['big.env'] * times)}]}}\n"
    )
    with pytest.raises(SourceError, match=f"the run reads over {MAX_SECRETS:,} secrets"):
        resolve_sources(load_manifest(path), {})

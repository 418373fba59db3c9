"""Hostile manifests cost little: suggestions are capped, `use:` expansion is counted before
anything is built, and a large manifest with problems is not parsed a second, slow time."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretsync.errors import ManifestError
from secretsync.limits import (
    EXACT_RECHECK_CHARS,
    MAX_EXPANDED_ENTRIES,
    MAX_SUGGESTION_CANDIDATES,
    MAX_SUGGESTIONS,
)
from secretsync.manifest import loader, yamlread
from secretsync.manifest.loader import load_manifest


def problems(path: Path) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    return [str(p) for p in info.value.problems]


def near_miss(tmp_path: Path, sets: int, groups: int) -> Path:
    lines = ["version: 1", "sets:"]
    lines += [f"  set{i:05d}x: {{secrets: {{K: {{env: V}}}}}}" for i in range(sets)]
    lines += ["repos:", "  - repo: acme/app", "    groups:"]
    lines += [f"      g{i}: {{use: [set{i:05d}y]}}" for i in range(groups)]
    path = tmp_path / "secretsync.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_at_most_max_suggestions_are_searched_for(tmp_path):
    found = problems(near_miss(tmp_path, sets=30, groups=30))
    unknown = [p for p in found if "unknown set" in p]
    assert len(unknown) == 30
    suggested = [p for p in unknown if "did you mean" in p]
    assert len(suggested) == MAX_SUGGESTIONS
    assert suggested[0].endswith("unknown set 'set00000y' (did you mean 'set00000x'?)")


def test_no_suggestion_is_searched_among_too_many_names(tmp_path, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr("difflib.get_close_matches", lambda *a, **k: calls.append("x") or [])
    found = problems(near_miss(tmp_path, sets=MAX_SUGGESTION_CANDIDATES + 1, groups=3))
    assert calls == []
    assert not any("did you mean" in p for p in found)


def test_use_expansion_over_the_limit_is_refused_at_the_group_before_building(
    tmp_path, monkeypatch
):
    per_set = 1000
    groups = MAX_EXPANDED_ENTRIES // per_set + 1
    lines = ["version: 1", "sets:", "  big:", "    secrets:"]
    lines += [f"      K{i}: {{env: V}}" for i in range(per_set)]
    lines += ["repos:", "  - repo: acme/app", "    groups:"]
    lines += [f"      g{i}: {{use: [big]}}" for i in range(groups)]
    path = tmp_path / "secretsync.yaml"
    path.write_text("\n".join(lines) + "\n")
    built: list[str] = []
    monkeypatch.setattr(loader._Builder, "manifest", lambda *a: built.append("x"))
    (found,) = problems(path)
    assert found.startswith(f"{path}:{per_set + 8 + groups - 1}:13: repos[0].groups.g{groups - 1}:")
    assert f"over {MAX_EXPANDED_ENTRIES:,} entries (the limit per manifest)" in found
    assert built == []


def test_one_group_fewer_is_within_the_limit(tmp_path):
    lines = ["version: 1", "sets:", "  big:", "    secrets:"]
    lines += [f"      K{i}: {{env: V}}" for i in range(1000)]
    lines += ["repos:", "  - repo: acme/app", "    groups:"]
    lines += [f"      g{i}: {{use: [big]}}" for i in range(MAX_EXPANDED_ENTRIES // 1000)]
    path = tmp_path / "secretsync.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert len(load_manifest(path).repos[0].groups) == MAX_EXPANDED_ENTRIES // 1000


def test_a_large_manifest_with_problems_is_parsed_once(tmp_path, monkeypatch):
    slow: list[bool] = []
    real = yamlread.read_yaml

    def counting(text, file, *, fast=True):
        slow.append(not fast)
        return real(text, file, fast=fast)

    monkeypatch.setattr(loader, "read_yaml", counting)
    small = near_miss(tmp_path, sets=3, groups=3)
    problems(small)
    assert slow == [False, True]  # small: the exact places of the pure parser
    slow.clear()
    big = near_miss(tmp_path, sets=2000, groups=3)
    assert big.stat().st_size > EXACT_RECHECK_CHARS
    found = problems(big)
    assert slow == [False]
    assert found[0].startswith(f"{big}:2006:18: repos[0].groups.g0.use[0]: unknown set")

"""Shared helpers of the source tests: write files and a manifest in the test's folder, resolve it,
collect its problems."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from secretsync.errors import Problem, SourceError
from secretsync.manifest.loader import load_manifest
from secretsync.models import DesiredGroup, DesiredRepo, Manifest
from secretsync.sources.resolve import resolve_sources

M = "secretsync.yaml"
MIB = 1024 * 1024


def write(name: str, content: str | bytes) -> None:
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)


def manifest(groups: str, *, top: str = "", path: str = M) -> Manifest:
    text = "version: 1\n" + textwrap.dedent(top) + "repos:\n  - repo: acme/app\n    groups:\n"
    text += textwrap.indent(textwrap.dedent(groups), "      ")
    write(path, text)
    return load_manifest(Path(path))


def group_of(repos: tuple[DesiredRepo, ...], index: int = 0) -> DesiredGroup:
    return repos[0].groups[index]


def values(group: DesiredGroup) -> dict[str, bytes]:
    return {s.key: s.value.reveal() for s in group.secrets}


def source_problems(m: Manifest, environ: dict[str, str] | None = None) -> list[Problem]:
    with pytest.raises(SourceError) as info:
        resolve_sources(m, environ or {})
    for problem in info.value.problems:
        assert "\n" not in str(problem)
    return list(info.value.problems)


def one(m: Manifest, environ: dict[str, str] | None = None) -> str:
    found = source_problems(m, environ)
    assert len(found) == 1, [str(p) for p in found]
    return str(found[0])

"""A pull request cannot read what it cannot see: a .env file outside the repository (a
--file-root folder of the pipeline) is read per named key only, and never quoted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from secretsync.errors import SourceError
from secretsync.manifest.loader import load_manifest
from secretsync.sources.resolve import check_sources, resolve_sources

# A base64 token ends in '=': read as a .env file, its text becomes a key name.
TOKEN_TEXT = "ZGVwbG95LXRva2VuLXZhbHVl"


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "deploy_token.b64").write_text(f"{TOKEN_TEXT}=\n")
    (tmp_path / "ci" / "shared.env").write_text("API=from-ci\n")
    return tmp_path


def load(layout: Path, body: str):
    path = layout / "repo" / "secretsync.yaml"
    path.write_text("version: 1\nrepos:\n  - repo: acme/app\n    groups:\n      default:\n" + body)
    return load_manifest(path, extra_roots=[layout / "ci"])


def problems(manifest) -> list[str]:
    with pytest.raises(SourceError) as info:
        resolve_sources(manifest, {})
    return [str(p) for p in info.value.problems]


def test_a_whole_file_outside_the_repository_is_refused_and_not_quoted(layout):
    m = load(layout, f"        dotenv: {layout}/ci/deploy_token.b64\n        allow_empty: true\n")
    found = problems(m)
    assert len(found) == 1
    assert found[0].startswith(f"{m.path}:6:17: repos[0].groups.default.dotenv: dotenv file ")
    assert "is outside the repository, so it cannot be read whole" in found[0]
    assert TOKEN_TEXT not in found[0]
    with pytest.raises(SourceError):  # validate says the same, offline
        check_sources(m, None)


def test_a_file_outside_is_still_read_per_named_key(layout):
    m = load(layout, f"        secrets:\n          API: {{dotenv: {layout}/ci/shared.env}}\n")
    (repo,) = resolve_sources(m, {})
    assert [(s.key, s.value.reveal()) for s in repo.groups[0].secrets] == [("API", b"from-ci")]


def test_a_symlink_inside_the_repository_to_a_file_outside_counts_as_outside(layout):
    os.symlink(layout / "ci" / "deploy_token.b64", layout / "repo" / "looks-local.env")
    m = load(layout, "        dotenv: looks-local.env\n        allow_empty: true\n")
    (found,) = problems(m)
    assert "looks-local.env is outside the repository" in found
    assert TOKEN_TEXT not in found


def test_problems_in_a_file_outside_never_name_its_keys(layout):
    (layout / "ci" / "twice.env").write_text(f"{TOKEN_TEXT}=a\nAPI=b\n{TOKEN_TEXT}=c\n")
    m = load(layout, f"        secrets:\n          API: {{dotenv: {layout}/ci/twice.env}}\n")
    (found,) = problems(m)
    assert found.endswith(
        "twice.env:3: repos[0].groups.default.secrets.API: "
        "the key on this line is repeated; list each key once"
    )
    assert TOKEN_TEXT not in found


def test_a_file_inside_the_repository_is_still_read_whole_and_named(layout):
    (layout / "repo" / "app.env").write_text("A=1\nA=2\n")
    m = load(layout, "        dotenv: app.env\n")
    (found,) = problems(m)
    assert "key A is repeated (first on line 1)" in found
    (layout / "repo" / "app.env").write_text("A=1\nB=2\n")
    (repo,) = resolve_sources(m, {})
    assert [s.key for s in repo.groups[0].secrets] == ["A", "B"]

"""The pipeline's allowlist of variables a manifest may read (--allow-env /
SECRETSYNC_ALLOW_ENV): a variable outside it is a located problem and is never read."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from secretsync.errors import SourceError
from secretsync.manifest.loader import load_manifest
from secretsync.sources.allow import AllowlistError, parse_allowlist
from secretsync.sources.resolve import check_sources, resolve_sources


class Watched(Mapping[str, str]):
    """An environment that records every variable looked up."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.read: list[str] = []

    def __getitem__(self, name: str) -> str:
        self.read.append(name)
        return self.values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


@pytest.fixture
def manifest(tmp_path: Path):
    path = tmp_path / "secretsync.yaml"
    path.write_text(
        "version: 1\nrepos:\n  - repo: acme/app\n    groups:\n      default:\n"
        "        secrets:\n"
        "          API: {env: APP_API}\n"
        "          PEEK: {env: CI_DEPLOY_KEY}\n"
    )
    return load_manifest(path)


ENV = {"APP_API": "api-value", "CI_DEPLOY_KEY": "deploy-key-value"}


def test_a_variable_outside_the_allowlist_is_a_located_problem_and_never_read(manifest):
    environ = Watched(ENV)
    with pytest.raises(SourceError) as info:
        resolve_sources(manifest, environ, allow_env=parse_allowlist(["APP_*"]))
    (problem,) = info.value.problems
    assert str(problem) == (
        f"{manifest.path}:8:17: repos[0].groups.default.secrets.PEEK: env variable "
        "CI_DEPLOY_KEY is not in the pipeline's allowlist (--allow-env / SECRETSYNC_ALLOW_ENV:"
        " APP_*) (secret PEEK in acme/app, group default)"
    )
    assert "CI_DEPLOY_KEY" not in environ.read


def test_allowed_variables_are_read_and_globs_are_case_sensitive(manifest):
    allow = parse_allowlist(["APP_API, CI_DEPLOY_*", "ignored_*"])
    (repo,) = resolve_sources(manifest, ENV, allow_env=allow)
    assert {s.key: s.value.reveal() for s in repo.groups[0].secrets} == {
        "API": b"api-value",
        "PEEK": b"deploy-key-value",
    }
    with pytest.raises(SourceError):
        resolve_sources(manifest, ENV, allow_env=parse_allowlist(["app_*,ci_*"]))


def test_validate_without_env_still_checks_the_allowlist(manifest):
    with pytest.raises(SourceError, match="CI_DEPLOY_KEY is not in the pipeline's allowlist"):
        check_sources(manifest, None, allow_env=parse_allowlist(["APP_API"]))
    check_sources(manifest, None, allow_env=parse_allowlist(["APP_API", "CI_DEPLOY_KEY"]))


def test_no_allowlist_keeps_reading_any_variable(manifest):
    assert parse_allowlist([]) is None
    assert parse_allowlist([" , "]) is None
    (repo,) = resolve_sources(manifest, ENV, allow_env=None)
    assert len(repo.groups[0].secrets) == 2


@pytest.mark.parametrize("bad", ["A B", "A=B", "$HOME", "A\x1b[2J", "A\ud800", "A/B"])
def test_a_pattern_that_is_not_a_variable_glob_is_refused(bad):
    with pytest.raises(AllowlistError) as info:
        parse_allowlist([f"OK,{bad}"])
    assert "\x1b" not in str(info.value)
    str(info.value).encode("utf-8")  # no lone surrogate in the message

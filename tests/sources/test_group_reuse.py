"""Groups that name the same sources resolve once and are reused: every outcome (values,
labels, problems and their uses, the secret limit) is the one resolving each group on its own
gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretsync.errors import SourceError
from secretsync.manifest.loader import load_manifest
from secretsync.models import DesiredGroup
from secretsync.sources import resolve
from secretsync.sources.resolve import check_sources, resolve_sources
from tests.sources.helpers import write

SHARED = """\
version: 1
sets:
  common:
    dotenv: common.env
    secrets:
      TOKEN: {env: CI_TOKEN}
repos:
  - repo: acme/app0
    groups: &groups
      default: {dotenv: app.env}
      staging:
        use: [common]
        dotenv: [app.env, staging.env]
        secrets:
          DB_PASSWORD: {env: DB_PASSWORD}
          CERT: {file: cert.pem}
          FROM_FILE: {dotenv: staging.env, key: API_KEY}
  - repo: acme/app1
    groups: *groups
  - repo: acme/app2
    groups:
      default: {dotenv: app.env, allow_empty: true}
      staging:
        dotenv: [app.env, staging.env]
        secrets:
          DB_PASSWORD: {env: OTHER_PASSWORD}
  - repo: acme/app3
    groups: *groups
  - repo: acme/app4
    groups:
      default: {dotenv: app.env}
      renamed: {dotenv: app.env}
  - repo: acme/app5
    groups:
      staging:  # as the anchor's, but for one variable
        use: [common]
        dotenv: [app.env, staging.env]
        secrets:
          DB_PASSWORD: {env: OTHER_PASSWORD}
          CERT: {file: cert.pem}
          FROM_FILE: {dotenv: staging.env, key: API_KEY}
  - repo: acme/app7
    groups:
      staging:  # as the anchor's, but for one key of a .env file
        use: [common]
        dotenv: [app.env, staging.env]
        secrets:
          DB_PASSWORD: {env: DB_PASSWORD}
          CERT: {file: cert.pem}
          FROM_FILE: {dotenv: staging.env, key: B}
  - repo: acme/app6
    groups:
      staging:
        use: [common]
        dotenv: [app.env, staging.env]
        secrets:
          DB_PASSWORD: {env: DB_PASSWORD}
          CERT: {file: cert.pem}
          FROM_FILE: {dotenv: staging.env, key: API_KEY}
"""
ENV = {"CI_TOKEN": "tok", "DB_PASSWORD": "pw", "OTHER_PASSWORD": "other"}


def files(app_env: str = "A=1\nB=2\n") -> None:
    write("app.env", app_env)
    write("staging.env", "B=3\nAPI_KEY=k\n")
    write("common.env", "C=4\n")
    write("cert.pem", "-----CERT-----\n")


def each_on_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """The resolver as it was: every group resolved afresh."""

    def group(self, repo, group):  # type: ignore[no-untyped-def]
        if self.secrets_left < 0:
            return DesiredGroup(name=group.name, prune=group.prune, secrets=())
        return self.resolve_group(repo, group)

    monkeypatch.setattr(resolve._Resolver, "group", group)


def shape(repos):
    return [
        [
            (g.name, g.prune, [(s.key, s.value.reveal(), s.source) for s in g.secrets])
            for g in repo.groups
        ]
        for repo in repos
    ]


def outcome(text: str, environ, monkeypatch, *, fresh: bool):
    write("secretsync.yaml", text)
    m = load_manifest(Path("secretsync.yaml"))
    with monkeypatch.context() as patch:
        if fresh:
            each_on_its_own(patch)
        try:
            return shape(resolve_sources(m, environ))
        except SourceError as exc:
            return [str(p) for p in exc.problems]


@pytest.mark.parametrize(
    ("app_env", "environ"),
    [
        ("A=1\nB=2\n", ENV),
        ("A=1\nB=\n", ENV),  # an empty value: a problem in some groups, allowed in one
        ("A=1\nB=2\n", {k: v for k, v in ENV.items() if k != "DB_PASSWORD"}),  # unset
        ("A=1\nB=2\nbad key=3\n", ENV),  # a .env problem, reported once
        ("A=1\nB=2\n", {**ENV, "CI_TOKEN": ""}),
    ],
    ids=["clean", "empty-value", "unset-variable", "bad-dotenv", "empty-variable"],
)
def test_reused_groups_resolve_as_each_group_on_its_own(monkeypatch, app_env, environ):
    files(app_env)
    reused = outcome(SHARED, environ, monkeypatch, fresh=False)
    alone = outcome(SHARED, environ, monkeypatch, fresh=True)
    assert reused == alone


def test_groups_with_the_same_sources_share_one_resolution():
    files()
    write("secretsync.yaml", SHARED)
    repos = resolve_sources(load_manifest(Path("secretsync.yaml")), ENV)
    assert repos[0].groups[0] is repos[1].groups[0] is repos[3].groups[0]
    assert repos[0].groups[1] is repos[3].groups[1]
    # another allow_empty, another variable, another group name: resolved on their own
    assert repos[2].groups[0] is not repos[0].groups[0]
    assert repos[2].groups[1] is not repos[0].groups[1]
    assert repos[4].groups[1] is not repos[4].groups[0]
    assert repos[4].groups[1].name == "renamed"
    assert repos[5].groups[0] is not repos[0].groups[1]
    fifth = {s.key: s.value.reveal() for s in repos[5].groups[0].secrets}
    assert (fifth["DB_PASSWORD"], fifth["FROM_FILE"]) == (b"other", b"k")
    seventh = {s.key: s.value.reveal() for s in repos[6].groups[0].secrets}  # acme/app7
    assert (seventh["DB_PASSWORD"], seventh["FROM_FILE"]) == (b"pw", b"3")
    assert repos[7].groups[0] is repos[0].groups[1]  # acme/app6: the same sources in full


def test_problems_name_every_group_that_uses_a_broken_source(monkeypatch):
    files()
    environ = {k: v for k, v in ENV.items() if k != "DB_PASSWORD"}
    reused = outcome(SHARED, environ, monkeypatch, fresh=False)
    unset = [p for p in reused if "DB_PASSWORD is not set" in p]
    for repo in ("acme/app0", "acme/app1", "acme/app3"):  # every group that uses it, not one
        assert any(repo in p for p in unset), (repo, unset)


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 8, 13, 20, 40])
def test_the_secret_limit_counts_reused_groups_alike(monkeypatch, limit):
    files()
    monkeypatch.setattr(resolve, "MAX_SECRETS", limit)
    reused = outcome(SHARED, ENV, monkeypatch, fresh=False)
    alone = outcome(SHARED, ENV, monkeypatch, fresh=True)
    assert reused == alone


def test_check_sources_without_the_environment_is_unchanged(monkeypatch):
    files()
    write("secretsync.yaml", SHARED)
    m = load_manifest(Path("secretsync.yaml"))
    check_sources(m, None)
    with monkeypatch.context() as patch:
        each_on_its_own(patch)
        check_sources(m, None)
    with pytest.raises(SourceError) as reused:
        check_sources(m, {})
    with monkeypatch.context() as patch:
        each_on_its_own(patch)
        with pytest.raises(SourceError) as alone:
            check_sources(m, {})
    assert [str(p) for p in reused.value.problems] == [str(p) for p in alone.value.problems]

"""load_manifest: the v1 contract, loaded into exact records, and its defaults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from secretsync.manifest.loader import load_manifest
from secretsync.models import DotenvSpec, GroupSpec, Manifest, RepoSpec, SecretSpec, SourceSpec
from tests.manifest.helpers import FIXTURES, HEAD, M, at, load

pytestmark = pytest.mark.usefixtures("in_tmp")


def test_contract_example_loads_into_exact_records(tmp_path):
    Path(M).write_bytes((FIXTURES / "contract.yaml").read_bytes())
    manifest = load_manifest(Path(M))
    default = "repos[0].groups.default"
    expected = Manifest(
        path=Path(M),
        root=Path(os.path.realpath(tmp_path)),
        file_roots=(Path(os.path.realpath(tmp_path)),),
        api_url="https://api.sourcecraft.tech",
        token_env="SOURCECRAFT_TOKEN",
        repos=(
            RepoSpec(
                slug="acme/backend",
                location=at(6, 5),
                groups=(
                    GroupSpec(
                        name="default",
                        prune=False,
                        location=at(9, 7),
                        layers=(
                            DotenvSpec(
                                ref="env/backend.env",
                                location=at(10, 17),
                                key_path=f"{default}.dotenv",
                            ),
                            SecretSpec(
                                key="DATABASE_URL",
                                source=SourceSpec(
                                    kind="env", ref="BACKEND_DATABASE_URL", location=at(12, 25)
                                ),
                                location=at(12, 11),
                                key_path=f"{default}.secrets.DATABASE_URL",
                            ),
                            SecretSpec(
                                key="TLS_KEY",
                                source=SourceSpec(
                                    kind="file", ref="certs/tls.key", location=at(13, 20)
                                ),
                                location=at(13, 11),
                                key_path=f"{default}.secrets.TLS_KEY",
                            ),
                            SecretSpec(
                                key="SENTRY_DSN",
                                source=SourceSpec(
                                    kind="dotenv",
                                    ref="env/shared.env",
                                    key="SENTRY",
                                    location=at(14, 23),
                                ),
                                location=at(14, 11),
                                key_path=f"{default}.secrets.SENTRY_DSN",
                            ),
                            SecretSpec(
                                key="STRIPE_KEY",
                                source=SourceSpec(
                                    kind="dotenv",
                                    ref="env/shared.env",
                                    key="STRIPE_KEY",
                                    location=at(15, 23),
                                ),
                                location=at(15, 11),
                                key_path=f"{default}.secrets.STRIPE_KEY",
                            ),
                        ),
                    ),
                    GroupSpec(
                        name="production",
                        prune=True,
                        location=at(16, 7),
                        layers=(
                            SecretSpec(
                                key="DATABASE_URL",
                                source=SourceSpec(
                                    kind="env", ref="PROD_DATABASE_URL", location=at(19, 25)
                                ),
                                location=at(19, 11),
                                key_path="repos[0].groups.production.secrets.DATABASE_URL",
                            ),
                        ),
                    ),
                ),
            ),
        ),
    )
    assert manifest == expected
    assert [s.source.label for s in manifest.repos[0].groups[0].layers[1:]] == [
        "env:BACKEND_DATABASE_URL",
        "file:certs/tls.key",
        "dotenv:env/shared.env#SENTRY",
        "dotenv:env/shared.env#STRIPE_KEY",
    ]


def test_defaults_when_optional_parts_are_absent(tmp_path):
    manifest = load(HEAD + "      default: {}\n")
    assert manifest.api_url is None
    assert manifest.token_env == "SOURCECRAFT_TOKEN"
    assert manifest.file_roots == (Path(os.path.realpath(tmp_path)),)
    assert manifest.repos[0].groups == (
        GroupSpec(name="default", prune=False, layers=(), location=at(5, 7)),
    )


def test_api_url_kept_as_written_and_token_env_read():
    manifest = load(
        """\
        version: 1
        api: {url: "http://127.0.0.1:8080/base/", token_env: CI_TOKEN}
        repos: [{repo: a/b, groups: {default: {}}}]
        """
    )
    assert (manifest.api_url, manifest.token_env) == ("http://127.0.0.1:8080/base/", "CI_TOKEN")


def test_group_inherits_repo_prune_and_may_override_it():
    manifest = load(
        """\
        version: 1
        repos:
          - repo: acme/app
            prune: true
            groups:
              default: {}
              staging: {prune: false}
        """
    )
    assert [(g.name, g.prune) for g in manifest.repos[0].groups] == [
        ("default", True),
        ("staging", False),
    ]

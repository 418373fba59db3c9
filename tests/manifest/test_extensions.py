"""load_manifest: the extensions (allow_empty, sets, org fan-out, repo_id, file_roots, api.url)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from secretsync.errors import ManifestError
from secretsync.manifest.loader import load_manifest
from secretsync.models import DotenvSpec
from tests.manifest.helpers import HEAD, M, at, load

pytestmark = pytest.mark.usefixtures("in_tmp")


def test_allow_empty_on_sources_and_on_group_dotenv():
    manifest = load(
        HEAD
        + """\
      default:
        allow_empty: true
        dotenv: [a.env, b.env]
        secrets:
          A: {env: A, allow_empty: true}
          B: {file: b.bin}
"""
    )
    layers = manifest.repos[0].groups[0].layers
    assert [
        (type(x).__name__, x.allow_empty if isinstance(x, DotenvSpec) else x.source.allow_empty)
        for x in layers
    ] == [("DotenvSpec", True), ("DotenvSpec", True), ("SecretSpec", True), ("SecretSpec", False)]
    assert [x.key_path for x in layers[:2]] == [
        "repos[0].groups.default.dotenv[0]",
        "repos[0].groups.default.dotenv[1]",
    ]


def test_sets_expand_into_layers_in_precedence_order():
    manifest = load(
        """\
        version: 1
        sets:
          common:
            dotenv: common.env
            secrets:
              SENTRY: {env: SENTRY_DSN}
          payments:
            allow_empty: true
            dotenv: [pay1.env, pay2.env]
            secrets:
              STRIPE: {file: stripe.key}
        repos:
          - repo: acme/app
            groups:
              default:
                dotenv: own.env
                use: [common, payments]
                secrets:
                  SENTRY: {env: OWN_SENTRY}
              staging:
                use: common
        """
    )
    default, staging = manifest.repos[0].groups
    assert [
        (x.ref if isinstance(x, DotenvSpec) else x.source.label, x.key_path) for x in default.layers
    ] == [
        ("own.env", "repos[0].groups.default.dotenv"),
        ("common.env", "sets.common.dotenv"),
        ("env:SENTRY_DSN", "sets.common.secrets.SENTRY"),
        ("pay1.env", "sets.payments.dotenv[0]"),
        ("pay2.env", "sets.payments.dotenv[1]"),
        ("file:stripe.key", "sets.payments.secrets.STRIPE"),
        ("env:OWN_SENTRY", "repos[0].groups.default.secrets.SENTRY"),
    ]
    assert [x.allow_empty for x in default.layers if isinstance(x, DotenvSpec)] == [
        False,
        False,
        True,
        True,
    ]
    # A set's entries point at the set, where the user would fix them.
    assert (default.layers[2].location, default.layers[2].source.location) == (at(6, 7), at(6, 15))
    assert [x.key_path for x in staging.layers] == [
        "sets.common.dotenv",
        "sets.common.secrets.SENTRY",
    ]


def test_org_fan_out_and_repo_id():
    manifest = load(
        """\
        version: 1
        repos:
          - org: acme
            match: "svc-*"
            exclude: [svc-legacy, "svc-old-*"]
            groups: {default: {}}
          - org: acme-two
            match: [a*, b*]
            groups: {default: {}}
          - org: solo
            groups: {default: {}}
          - repo_id: 123E4567-E89B-12D3-A456-426614174000
            groups: {default: {}}
        """
    )
    a, b, c, d = manifest.repos
    assert (a.org, a.match, a.exclude, a.slug, a.repo_id) == (
        "acme",
        ("svc-*",),
        ("svc-legacy", "svc-old-*"),
        None,
        None,
    )
    assert (b.org, b.match, b.exclude) == ("acme-two", ("a*", "b*"), ())
    assert (c.org, c.match, c.label) == ("solo", (), "solo/*")
    assert (d.repo_id, d.slug, d.org, d.label) == (
        "123E4567-E89B-12D3-A456-426614174000",
        None,
        None,
        "id:123E4567-E89B-12D3-A456-426614174000",
    )


def test_file_roots_resolve_relative_and_absolute_inside_the_repository(tmp_path):
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "proj").mkdir()
    (tmp_path / "outside").mkdir()
    inside = tmp_path / "repo" / "certs"
    (tmp_path / "repo" / "proj" / M).write_text(
        f"version: 1\nfile_roots: [../shared, {inside}, ., ../shared]\n"
        "repos: [{repo: a/b, groups: {default: {}}}]\n"
    )
    path = Path("repo") / "proj" / M
    manifest = load_manifest(path, extra_roots=[tmp_path / "outside"])
    real = Path(os.path.realpath(tmp_path))
    assert manifest.root == real / "repo" / "proj"
    assert manifest.file_roots == (
        real / "repo" / "proj",
        real / "repo" / "shared",
        real / "repo" / "certs",
        real / "outside",  # from the pipeline (--file-root), not from the manifest
    )
    assert manifest.path == path


def test_the_manifest_cannot_open_folders_outside_the_repository(tmp_path):
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / M).write_text(
        "version: 1\nfile_roots: [/, ../elsewhere, sub/../..]\n"
        "repos: [{repo: a/b, groups: {default: {}}}]\n"
    )
    with pytest.raises(ManifestError) as info:
        load_manifest(Path("repo") / M)
    real = os.path.realpath(tmp_path / "repo")
    assert [str(p) for p in info.value.problems] == [
        f"repo/{M}:2:{col}: file_roots[{i}]: '{name}' is outside the repository ({real}); a "
        "folder outside it can be allowed only by the pipeline: --file-root or "
        "SECRETSYNC_FILE_ROOTS"
        for i, (col, name) in enumerate([(14, "/"), (17, "../elsewhere"), (31, "sub/../..")])
    ]


def test_without_git_the_manifest_folder_is_the_repository(tmp_path):
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / M).write_text(
        "version: 1\nfile_roots: [../shared]\nrepos: [{repo: a/b, groups: {default: {}}}]\n"
    )
    with pytest.raises(ManifestError, match=re.escape("'../shared' is outside the repository")):
        load_manifest(Path("proj") / M)


def test_a_manifest_symlinked_from_outside_the_repository_is_refused(tmp_path):
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "outside.yaml").write_text("version: 1\nrepos: []\n")
    os.symlink(tmp_path / "outside.yaml", tmp_path / "repo" / M)
    with pytest.raises(ManifestError) as info:
        load_manifest(Path("repo") / M)
    assert str(info.value.problems[0]) == (
        f"repo/{M}: the manifest is a symlink to a file outside the repository"
    )


@pytest.mark.parametrize(
    "url",
    ["https://api.sourcecraft.tech:99999", "https://api.sourcecraft.tech:abc", "https://[::1"],
)
def test_a_malformed_api_url_points_at_its_line(url):
    Path(M).write_text(f"version: 1\napi:\n  url: '{url}'\nrepos: []\n")
    with pytest.raises(ManifestError) as info:
        load_manifest(Path(M))
    assert str(info.value.problems[0]) == (
        f"{M}:3:8: api.url: '{url}' is not a valid URL (check its host and port)"
    )

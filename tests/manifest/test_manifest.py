"""load_manifest: the v1 contract, the extensions, and every broken or hostile input."""

from __future__ import annotations

import json
import os
import re
import textwrap
from importlib import resources
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from secretsync import names
from secretsync.errors import ManifestError, Problem
from secretsync.manifest.loader import load_manifest
from secretsync.manifest.schema import manifest_schema
from secretsync.models import (
    DotenvSpec,
    GroupSpec,
    Location,
    Manifest,
    RepoSpec,
    SecretSpec,
    SourceSpec,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "manifests"
REPO_ROOT = Path(__file__).parent.parent.parent
M = "secretsync.yaml"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    # Problems name the manifest as given; running from its folder gives "secretsync.yaml".
    monkeypatch.chdir(tmp_path)


def load(text: str) -> Manifest:
    Path(M).write_text(textwrap.dedent(text), encoding="utf-8")
    return load_manifest(Path(M))


def problems(text: str | bytes) -> list[Problem]:
    if isinstance(text, bytes):
        Path(M).write_bytes(text)
    else:
        Path(M).write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(ManifestError) as info:
        load_manifest(Path(M))
    found = list(info.value.problems)
    for problem in found:
        assert "\n" not in str(problem)
        assert problem.file == M
    return found


def one_problem(text: str | bytes) -> Problem:
    found = problems(text)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def at(line: int, col: int) -> Location:
    return Location(file=M, line=line, col=col)


HEAD = "version: 1\nrepos:\n  - repo: acme/app\n    groups:\n"


# ---------------------------------------------------------------------------- the contract


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


# ---------------------------------------------------------------------------- extensions


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


# ---------------------------------------------------------------------------- broken input

BAD = [
    pytest.param(
        "version: 1\nrepos: [\n  {repo: a/b\n", 4, 1, "", "invalid YAML", id="invalid-yaml"
    ),
    pytest.param(
        "version: 1\nversion: 1\nrepos: []\n",
        2,
        1,
        "version",
        "duplicate key (first on line 1)",
        id="duplicate-key",
    ),
    pytest.param(
        HEAD + '      default: {prune: "yes"}\n',
        5,
        24,
        "repos[0].groups.default.prune",
        "expected a boolean (true or false), got a string",
        id="wrong-type",
    ),
    pytest.param(
        HEAD + "      default: {prunee: true}\n",
        5,
        17,
        "repos[0].groups.default.prunee",
        "unknown field 'prunee' (did you mean 'prune'?)",
        id="unknown-field",
    ),
    pytest.param(
        HEAD + "      default:\n        secrets:\n          9LIVES: {env: X}\n",
        7,
        11,
        "repos[0].groups.default.secrets.9LIVES",
        "invalid secret key name: must start with",
        id="bad-key-name",
    ),
    pytest.param(
        HEAD + '      "prod eu": {}\n',
        5,
        7,
        "repos[0].groups['prod eu']",
        "invalid group name",
        id="bad-group-name",
    ),
    pytest.param(
        HEAD + "      " + "g" * 65 + ": {}\n",
        5,
        7,
        "repos[0].groups[",
        "at most 64 characters",
        id="long-group-name",
    ),
    pytest.param(
        HEAD + "      default: {secrets: {A: {}}}\n",
        5,
        30,
        "repos[0].groups.default.secrets.A",
        "needs exactly one of 'env', 'file', 'dotenv'",
        id="source-names-nothing",
    ),
    pytest.param(
        HEAD + "      default: {secrets: {A: {env: X, file: y}}}\n",
        5,
        30,
        "repos[0].groups.default.secrets.A",
        "found 'env' and 'file'",
        id="two-sources",
    ),
    pytest.param(
        HEAD + "      default: {secrets: {A: {file: ''}}}\n",
        5,
        37,
        "repos[0].groups.default.secrets.A.file",
        "must not be empty",
        id="empty-path",
    ),
    pytest.param(
        HEAD + "      default: {secrets: {A: {env: ''}}}\n",
        5,
        36,
        "repos[0].groups.default.secrets.A.env",
        "not a valid environment variable name",
        id="empty-env-name",
    ),
    pytest.param(
        HEAD + "      default: {secrets: {A: {env: X, key: Y}}}\n",
        5,
        39,
        "repos[0].groups.default.secrets.A.key",
        "only allowed together with 'dotenv'",
        id="key-without-dotenv",
    ),
    pytest.param(
        HEAD + '      default: {secrets: {A: {file: "a\\0b"}}}\n',
        5,
        37,
        "repos[0].groups.default.secrets.A.file",
        "must not contain control characters",
        id="nul-in-path",
    ),
    pytest.param(
        HEAD + "      default: {use: nope}\n",
        5,
        22,
        "repos[0].groups.default.use",
        "unknown set 'nope' (there is no top-level 'sets:')",
        id="unknown-set",
    ),
    pytest.param(
        "version: 1\nsets: {common: {}}\n" + HEAD[11:] + "      default: {use: [common, comon]}\n",
        6,
        31,
        "repos[0].groups.default.use[1]",
        "unknown set 'comon' (did you mean 'common'?)",
        id="unknown-set-in-list",
    ),
    pytest.param(
        "version: 1\nrepos:\n  - {repo: acme/app, groups: {default: {}}}\n"
        "  - {repo: ACME/App, groups: {default: {}}}\n",
        4,
        12,
        "repos[1].repo",
        "repository 'ACME/App' is already listed at repos[0]",
        id="same-slug-twice",
    ),
    pytest.param(
        "version: 1\nrepos:\n  - {repo_id: 123e4567-e89b-12d3-a456-426614174000, groups: {d: {}}}\n"
        "  - {repo_id: 123E4567-E89B-12D3-A456-426614174000, groups: {d: {}}}\n",
        4,
        15,
        "repos[1].repo_id",
        "is already listed at repos[0]",
        id="same-id-twice",
    ),
    pytest.param(
        "version: 1\nrepos:\n  - {repo: acme/app, org: acme, groups: {d: {}}}\n",
        3,
        5,
        "repos[0]",
        "needs exactly one of 'repo', 'repo_id', 'org', found 'repo' and 'org'",
        id="repo-and-org",
    ),
    pytest.param(
        "version: 1\nrepos:\n  - {repo: acme/app, exclude: x, groups: {d: {}}}\n",
        3,
        22,
        "repos[0].exclude",
        "only allowed together with 'org'",
        id="exclude-without-org",
    ),
    pytest.param(
        "version: 1\nrepos:\n  - {repo: acme, groups: {d: {}}}\n",
        3,
        12,
        "repos[0].repo",
        "not a valid repository: must be 'org_slug/repo_slug'",
        id="bad-slug",
    ),
    pytest.param(
        "version: 1\nrepos:\n  - {repo_id: 1234, groups: {d: {}}}\n",
        3,
        15,
        "repos[0].repo_id",
        "expected a string, got an integer",
        id="repo-id-type",
    ),
    pytest.param(
        "version: 1\nrepos:\n  - {repo_id: not-a-uuid, groups: {d: {}}}\n",
        3,
        15,
        "repos[0].repo_id",
        "must be a UUID",
        id="repo-id-not-uuid",
    ),
    pytest.param(
        "version: 1\nrepos:\n  - {org: -acme, groups: {d: {}}}\n",
        3,
        11,
        "repos[0].org",
        "not a valid organization slug",
        id="bad-org",
    ),
    pytest.param(
        "version: 1\napi: {token_env: 'MY-TOKEN'}\nrepos: [{repo: a/b, groups: {d: {}}}]\n",
        2,
        18,
        "api.token_env",
        "not a valid environment variable name",
        id="bad-token-env",
    ),
    pytest.param(
        "version: 2\nrepos: [{repo: a/b, groups: {d: {}}}]\n",
        1,
        10,
        "version",
        "this secretsync reads version 1",
        id="future-version",
    ),
    pytest.param(
        "repos: [{repo: a/b, groups: {d: {}}}]\n",
        1,
        1,
        "",
        "missing required field 'version'",
        id="no-version",
    ),
    pytest.param("version: 1\nrepos: []\n", 2, 8, "repos", "must not be empty", id="no-repos"),
    pytest.param("- 1\n", 1, 1, "", "expected a mapping, got a list", id="root-not-mapping"),
    pytest.param("", 1, 1, "", "the manifest is empty", id="empty-file"),
    pytest.param("# nothing\n", 1, 1, "", "the manifest is empty", id="only-comments"),
    pytest.param(
        "version: 1\n---\nversion: 1\n", 2, 1, "", "only one YAML document", id="two-documents"
    ),
    pytest.param(
        "version: 1\nrepos: !!binary aGk=\n", 2, 8, "repos", "explicit YAML tags", id="explicit-tag"
    ),
    pytest.param(
        "version: 1\n1: x\nrepos: [{repo: a/b, groups: {d: {}}}]\n",
        2,
        1,
        "",
        "a key must be a string, not an integer",
        id="non-string-key",
    ),
    pytest.param("version: 1\n[a]: x\n", 2, 1, "", "a key must be a plain name", id="complex-key"),
    pytest.param("version: 1\n<<: {repos: []}\n", 2, 1, "", "merge keys", id="merge-key"),
    pytest.param(
        "version: 1\nrepos: [{repo: a/b, groups: {d: {prune: 2001-02-30}}}]\n",
        2,
        41,
        "repos[0].groups.d.prune",
        "this value cannot be read; quote it",
        id="impossible-date",
    ),
    pytest.param(
        "version: 1\nx: " + "[" * 100 + "]" * 100 + "\n",
        2,
        68,
        "",
        "nested too deeply",
        id="deep-flow-nesting",
    ),
    pytest.param(
        "- " * 40 + "a\n",
        1,
        65,
        "[0][0][",
        "nested too deeply (over 32 levels)",
        id="deep-block-nesting",
    ),
    pytest.param(
        "version: 1\nx: \x07\n", 2, 4, "", "character #x0007 is not allowed", id="control-character"
    ),
    pytest.param(b"version: 1\n# caf\xe9\n", 2, 6, "", "not valid UTF-8", id="not-utf8"),
    pytest.param(
        HEAD + "      default: {dotenv: 5}\n",
        5,
        25,
        "repos[0].groups.default.dotenv",
        "expected a string or a list of strings, got an integer",
        id="dotenv-type",
    ),
    pytest.param(
        "version: 1\nsets: {s: {}}\n" + HEAD[11:] + "      default: {use: [s, -x]}\n",
        6,
        26,
        "repos[0].groups.default.use[1]",
        "not a valid set name",
        id="bad-set-name-in-use",
    ),
    pytest.param(
        HEAD + "      default: {prune: 2001-02-03}\n",
        5,
        24,
        "repos[0].groups.default.prune",
        "expected a boolean (true or false), got a date",
        id="date-for-boolean",
    ),
    pytest.param("%YAML 1.1\n---\nversion: 1\n", 2, 1, "", "YAML directives", id="yaml-1.1"),
    pytest.param("version: 1\n1: a\n0x1: b\n", 3, 1, "", "duplicate key", id="same-number-key"),
]


@pytest.mark.parametrize(("text", "line", "col", "key_path", "fragment"), BAD)
def test_bad_input_gives_one_positioned_problem(text, line, col, key_path, fragment):
    problem = one_problem(text)
    assert (problem.line, problem.col) == (line, col), str(problem)
    if key_path.endswith("["):
        assert problem.key_path.startswith(key_path), str(problem)
    else:
        assert problem.key_path == key_path, str(problem)
    assert fragment in problem.message


def test_a_trailing_newline_does_not_sneak_a_name_or_path_past_the_rules():
    # Python's `$` matches before a final "\n"; the rules must not.
    found = problems(
        """\
        version: 1
        repos:
          - org: "acme\\n"
            match: "svc-*\\n"
            groups:
              "default\\n":
                secrets:
                  "KEY\\n": {env: "VAR\\n"}
                  OK: {file: "a\\tb"}
        """
    )
    assert [(p.line, p.key_path) for p in found] == [
        (3, "repos[0].org"),
        (4, "repos[0].match"),
        (6, 'repos[0].groups["default\\n"]'),
        (8, 'repos[0].groups["default\\n"].secrets["KEY\\n"]'),
        (8, 'repos[0].groups["default\\n"].secrets["KEY\\n"].env'),
        (9, 'repos[0].groups["default\\n"].secrets.OK.file'),
    ]


def test_problems_are_capped_at_one_hundred():
    found = problems("version: 1\na: &a x\n" + "".join(f"b{i}: *a\n" for i in range(150)))
    assert len(found) == 101
    assert str(found[-1]) == "secretsync.yaml: too many problems; showing the first 100"
    schema_errors = "".join(
        f"  - {{repo: a/b{i}, groups: {{d: {{prunee: 1}}}}}}\n" for i in range(300)
    )
    found = problems("version: 1\nrepos:\n" + schema_errors)
    assert len(found) == 101
    assert [p.line for p in found[:3]] == [3, 4, 5]


def test_alias_bomb_is_refused_before_it_expands():
    bomb = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    bomb += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    found = problems("\n".join(bomb) + "\n")
    assert len(found) == 10 + 9 * 9  # every anchor and alias, each saying what to use instead
    assert str(found[0]) == (
        "secretsync.yaml:2:5: a0: anchors and aliases (&name, *name) are not supported;"
        " use top-level 'sets:' to reuse"
    )


def test_every_duplicate_key_is_reported_not_only_the_first():
    found = problems(
        "version: 1\nrepos:\n  - repo: a/b\n    repo: a/c\n    groups:\n      d: {}\n      d: {}\n"
    )
    assert [(p.line, p.col, p.key_path, p.message) for p in found] == [
        (4, 5, "repos[0].repo", "duplicate key (first on line 3)"),
        (7, 7, "repos[0].groups.d", "duplicate key (first on line 6)"),
    ]


def test_all_schema_and_rule_problems_at_once_sorted_by_position():
    found = problems(
        """\
        version: 1
        sets: {s: {secrets: {A: {env: A}}}}
        repos:
          - repo: acme/app
            prunee: true
            groups:
              default:
                use: [s, t]
                secrets:
                  bad-key: {env: X}
                  OK: {env: 1}
          - repo: acme/app
            groups: {d: {}}
        """
    )
    assert [str(p) for p in found] == [
        "secretsync.yaml:5:5: repos[0].prunee: unknown field 'prunee' (did you mean 'prune'?)",
        "secretsync.yaml:8:18: repos[0].groups.default.use[1]: unknown set 't'",
        "secretsync.yaml:10:11: repos[0].groups.default.secrets.bad-key: invalid secret key"
        " name: must start with a letter or '_' and contain only letters, digits and '_'",
        "secretsync.yaml:11:21: repos[0].groups.default.secrets.OK.env: expected a string,"
        " got an integer",
        "secretsync.yaml:12:11: repos[1].repo: repository 'acme/app' is already listed at repos[0]",
    ]
    with pytest.raises(ManifestError) as info:
        load_manifest(Path(M))
    assert str(info.value) == "5 problems in the manifest"


def test_messages_do_not_repeat_instance_content():
    # A value pasted where a name belongs must not be echoed back into CI logs.
    pasted = "sk-live-DISTINCTIVE-4f7a"
    found = problems(
        HEAD
        + f"""\
      default:
        secrets:
          A: {{env: "{pasted}"}}
          B: {{file: [{{x: "{pasted}"}}]}}
          C: "{pasted}"
"""
    )
    assert len(found) == 3
    for problem in found:
        assert "DISTINCTIVE" not in str(problem)


def test_too_large_missing_and_folder_manifests(tmp_path):
    Path(M).write_bytes(b"#" * (1024 * 1024 + 1))
    with pytest.raises(ManifestError) as info:
        load_manifest(Path(M))
    assert str(info.value) == "secretsync.yaml: the manifest is larger than the 1 MiB limit"

    with pytest.raises(ManifestError) as info:
        load_manifest(Path("missing.yaml"))
    assert str(info.value) == "missing.yaml: the manifest does not exist"

    os.mkdir("folder.yaml")
    with pytest.raises(ManifestError) as info:
        load_manifest(Path("folder.yaml"))
    assert str(info.value) == "folder.yaml: the manifest is a folder, not a file"


def test_nul_in_the_manifest_path():
    with pytest.raises(ManifestError) as info:
        load_manifest(Path("a\0b.yaml"))
    assert info.value.problems[0].message == "not a valid file name"


def test_manifest_exactly_at_the_size_limit_is_read():
    head = HEAD + "      default: {}\n"
    Path(M).write_text(head + "#" * (1024 * 1024 - len(head) - 1) + "\n")
    assert os.path.getsize(M) == 1024 * 1024
    assert load_manifest(Path(M)).repos[0].slug == "acme/app"


def test_utf8_bom_is_accepted():
    Path(M).write_bytes(b"\xef\xbb\xbf" + (HEAD + "      default: {}\n").encode())
    assert load_manifest(Path(M)).repos[0].slug == "acme/app"


def test_manifest_through_a_symlink_resolves_paths_from_the_link_folder(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "m.yaml").write_text(HEAD + "      default: {}\n")
    os.symlink(tmp_path / "real" / "m.yaml", M)
    manifest = load_manifest(Path(M))
    assert manifest.root == Path(os.path.realpath(tmp_path))


# ---------------------------------------------------------------------------- schema


def test_schema_copies_are_byte_identical():
    packaged = resources.files("secretsync").joinpath("schemas/manifest.schema.json").read_bytes()
    assert packaged == (REPO_ROOT / "schemas" / "manifest.schema.json").read_bytes()


def test_schema_is_valid_draft_2020_12_with_an_id():
    schema = manifest_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://secretsync.dev/schemas/manifest.schema.json"


def _objects(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def test_schema_documents_every_property_and_closes_every_object():
    schema = manifest_schema()
    defs = schema["$defs"]
    for node in _objects(schema):
        if "properties" in node:
            assert node.get("additionalProperties") is False, sorted(node["properties"])
            for name, prop in node["properties"].items():
                target = defs[prop["$ref"].rsplit("/", 1)[1]] if "$ref" in prop else {}
                assert "title" in prop or "title" in target, name
                assert "description" in prop or "description" in target, name


def test_schema_patterns_match_the_loader_rules():
    patterns = {node["pattern"] for node in _objects(manifest_schema()) if "pattern" in node}
    assert patterns == {names.KEY, names.GROUP, names.SLUG, names.ORG, names.UUID}


def test_contract_example_is_valid_against_the_published_schema():
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load((FIXTURES / "contract.yaml").read_text())
    schema = json.loads((REPO_ROOT / "schemas" / "manifest.schema.json").read_text())
    assert list(Draft202012Validator(schema).iter_errors(data)) == []

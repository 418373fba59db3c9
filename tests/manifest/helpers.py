"""Shared data and helpers of the manifest tests: write a manifest in the test's folder, load it,
collect its problems; BAD, the table of broken inputs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from secretsync.errors import ManifestError, Problem
from secretsync.manifest.loader import load_manifest
from secretsync.models import Location, Manifest

FIXTURES = Path(__file__).parent.parent / "fixtures" / "manifests"
REPO_ROOT = Path(__file__).parent.parent.parent
M = "secretsync.yaml"


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


def problem_texts(text: str | bytes) -> list[str]:
    """The problems of a manifest that must fail, as the user reads them."""
    return [str(p) for p in problems(text)]


def one_problem(text: str | bytes) -> Problem:
    found = problems(text)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def at(line: int, col: int) -> Location:
    return Location(file=M, line=line, col=col)


HEAD = "version: 1\nrepos:\n  - repo: acme/app\n    groups:\n"
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
        "version: 1\nrepos: !!binary aGk=\n",
        2,
        8,
        "repos",
        'tag "!!binary" is not',
        id="explicit-tag",
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
    pytest.param(
        "version: 1\n<<: [1]\n", 2, 6, '["<<"]', "a merge key ('<<') takes", id="merge-key"
    ),
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
    pytest.param("%YAML 1.1\n---\nversion: 1\n", 2, 1, "", "%YAML 1.1 is not", id="yaml-1.1"),
    pytest.param("version: 1\n1: a\n0x1: b\n", 3, 1, "", "duplicate key", id="same-number-key"),
]

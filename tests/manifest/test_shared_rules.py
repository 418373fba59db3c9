"""The rules pass looks at a mapping reused through aliases once (rules.py's memos by id): a
problem inside it must still be reported at every path that reaches it, placed at the anchor
and naming the alias; the budgets (suggestions, expanded entries) must count every use."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from secretsync.limits import MAX_SUGGESTIONS
from secretsync.manifest import rules
from secretsync.manifest.loader import load_manifest
from tests.manifest.helpers import problem_texts as problems

M = "secretsync.yaml"

pytestmark = pytest.mark.usefixtures("in_tmp")

CONTROL = "must not contain control characters or lone surrogates (newline, tab, NUL, \\ud800...)"


def test_problems_inside_a_shared_groups_mapping_are_reported_at_every_use():
    found = problems(
        r"""
        version: 1
        sets:
          common:
            secrets:
              LOG: {env: LOG_LEVEL}
        repos:
          - repo: acme/r0
            groups: &groups
              default:
                dotenv: "env/\u0001.env"
                use: [comon]
          - repo: acme/r1
            groups: *groups
          - repo: acme/r2
            groups: *groups
        """
    )
    unknown = "unknown set 'comon' (did you mean 'common'?)"
    assert found == [
        f"secretsync.yaml:11:17: repos[0].groups.default.dotenv: {CONTROL}",
        f"secretsync.yaml:11:17: repos[1].groups.default.dotenv: {CONTROL}"
        " (through *groups at line 14, col 13)",
        f"secretsync.yaml:11:17: repos[2].groups.default.dotenv: {CONTROL}"
        " (through *groups at line 16, col 13)",
        f"secretsync.yaml:12:15: repos[0].groups.default.use[0]: {unknown}",
        f"secretsync.yaml:12:15: repos[1].groups.default.use[0]: {unknown}"
        " (through *groups at line 14, col 13)",
        f"secretsync.yaml:12:15: repos[2].groups.default.use[0]: {unknown}"
        " (through *groups at line 16, col 13)",
    ]


def test_a_list_shared_by_a_path_field_and_another_field_is_checked_as_each():
    # The same list: its strings are paths under `match`/`exclude`, not under `env`.
    found = problems(
        r"""
        version: 1
        repos:
          - org: acme
            match: &m ["svc-\t"]
            exclude: *m
            groups:
              default:
                secrets:
                  K: {env: *m}
        """
    )
    assert [p for p in found if CONTROL in p] == [
        f"secretsync.yaml:5:16: repos[0].exclude[0]: {CONTROL} (through *m at line 6, col 14)",
        f"secretsync.yaml:5:16: repos[0].match[0]: {CONTROL}",
    ]


def test_suggestions_are_counted_at_every_use_of_a_shared_mapping():
    uses = MAX_SUGGESTIONS + 3
    lines = ["version: 1", "sets:", "  common: {secrets: {K: {env: V}}}", "repos:"]
    lines += ["  - repo: acme/r0", "    groups: &groups", "      default: {use: [comon]}"]
    lines += [f"  - {{repo: acme/r{i}, groups: *groups}}" for i in range(1, uses)]
    found = problems("\n".join(lines) + "\n")
    unknown = [p for p in found if "unknown set 'comon'" in p]
    assert len(unknown) == uses
    assert len([p for p in unknown if "did you mean" in p]) == MAX_SUGGESTIONS


GROUPS = """\
    version: 1
    repos:
      - repo: acme/r0
        groups: &groups
          a: {secrets: {A: {env: A}, B: {env: B}}}
          b: {dotenv: env/b.env}
      - repo: acme/r1
        groups: *groups
      - repo: acme/r2
        groups: *groups
    """


@pytest.mark.parametrize(
    ("limit", "where"),
    [
        (5, "repos[1].groups.b"),  # 3 entries a repository: over within the second use
        (6, "repos[2].groups.a"),  # the second use fits whole, the third's first group not
        (8, "repos[2].groups.b"),
    ],
)
def test_the_expansion_limit_is_crossed_at_the_same_group_through_aliases(
    monkeypatch, limit, where
):
    monkeypatch.setattr(rules, "MAX_EXPANDED_ENTRIES", limit)
    found = problems(GROUPS)
    assert len(found) == 1
    assert f": {where}: with the sets it uses, the groups so far hold over {limit:,}" in found[0]


def test_the_expansion_limit_is_not_crossed_by_shared_mappings_that_fit(monkeypatch):
    monkeypatch.setattr(rules, "MAX_EXPANDED_ENTRIES", 9)
    Path(M).write_text(textwrap.dedent(GROUPS), encoding="utf-8")
    assert len(load_manifest(Path(M)).repos) == 3

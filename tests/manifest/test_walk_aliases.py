"""yamlwalk says each alias with its anchor's shown name, worked out once per anchor name
(Walk.shown): every alias must still be said with its own anchor, its own place, and the
anchor's latest definition."""

from __future__ import annotations

import pytest

from tests.manifest.helpers import problem_texts as problems

pytestmark = pytest.mark.usefixtures("in_tmp")

ERR = "expected a string, got an integer"


def test_each_alias_is_said_with_its_own_anchor_and_place_a_redefined_anchor_with_the_last():
    assert problems(
        """\
        version: 1
        repos:
          - repo: acme/r0
            groups:
              a: &g {secrets: {A: {env: 1}}}
              b: &h {secrets: {B: {env: 2}}}
              c: *g
              d: *h
          - repo: acme/r1
            groups:
              a: &g {secrets: {C: {env: 3}}}
              b: *g
        """
    ) == [
        f"secretsync.yaml:5:33: repos[0].groups.a.secrets.A.env: {ERR}",
        f"secretsync.yaml:5:33: repos[0].groups.c.secrets.A.env: {ERR}"
        " (through *g at line 7, col 10)",
        f"secretsync.yaml:6:33: repos[0].groups.b.secrets.B.env: {ERR}",
        f"secretsync.yaml:6:33: repos[0].groups.d.secrets.B.env: {ERR}"
        " (through *h at line 8, col 10)",
        f"secretsync.yaml:11:33: repos[1].groups.a.secrets.C.env: {ERR}",
        f"secretsync.yaml:11:33: repos[1].groups.b.secrets.C.env: {ERR}"
        " (through *g at line 12, col 10)",
    ]


def test_a_long_anchor_name_is_shortened_at_every_alias():
    name = "n" * 50
    found = problems(
        f"""\
        version: 1
        repos:
          - repo: acme/r0
            groups:
              a: &{name} {{secrets: {{A: {{env: 1}}}}}}
              b: *{name}
              c: *{name}
        """
    )
    shown = "n" * 37 + "..."
    assert [p.split(f"{ERR} ", 1)[-1] for p in found[1:]] == [
        f"(through *{shown} at line 6, col 10)",
        f"(through *{shown} at line 7, col 10)",
    ]

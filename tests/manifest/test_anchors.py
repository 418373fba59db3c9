"""Anchors, aliases, merge keys and tags in the manifest: the data, the places, the refusals."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from secretsync.manifest import yamlread, yamlwalk
from secretsync.manifest.loader import load_manifest
from secretsync.manifest.schema import manifest_schema, quick_valid, schema_problems
from secretsync.manifest.yamlread import read_yaml
from secretsync.models import Manifest
from tests.manifest.helpers import problem_texts as problems

M = "secretsync.yaml"
REPO_ROOT = Path(__file__).parent.parent.parent


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def load(text: str) -> Manifest:
    Path(M).write_text(textwrap.dedent(text), encoding="utf-8")
    return load_manifest(Path(M))


def data(text: str) -> object:
    doc, found = read_yaml(textwrap.dedent(text), M)
    assert found == [] and doc is not None, [str(p) for p in found]
    return doc.data


def layers(manifest: Manifest) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    """Each group's secrets as (key, kind, ref), without places: what an alias must not change."""
    out = []
    for repo in manifest.repos:
        for group in repo.groups:
            secrets = [
                (layer.key, layer.source.kind, layer.source.ref)
                for layer in group.layers
                if hasattr(layer, "source")
            ]
            out.append((repo.slug or "", group.name, secrets))
    return out


ANCHORED = """\
    version: 1
    repos:
      - repo: acme/api
        groups:
          default: &base
            secrets:
              DB: {env: DB_URL}
              LOG: {env: LOG_LEVEL}
          prod:
            <<: *base
            prune: true
      - repo: acme/web
        groups:
          default: *base
"""

WRITTEN_OUT = """\
    version: 1
    repos:
      - repo: acme/api
        groups:
          default:
            secrets:
              DB: {env: DB_URL}
              LOG: {env: LOG_LEVEL}
          prod:
            prune: true
            secrets:
              DB: {env: DB_URL}
              LOG: {env: LOG_LEVEL}
      - repo: acme/web
        groups:
          default:
            secrets:
              DB: {env: DB_URL}
              LOG: {env: LOG_LEVEL}
"""


def test_an_anchored_manifest_loads_as_the_same_manifest_written_out():
    anchored = load(ANCHORED)
    written = load(WRITTEN_OUT)
    assert layers(anchored) == layers(written)
    assert [g.prune for r in anchored.repos for g in r.groups] == [False, True, False]
    # Places are where the nodes are written: the reused secrets point into the anchor.
    reused = anchored.repos[1].groups[0].layers[0]
    assert (reused.key_path, reused.location.line) == ("repos[1].groups.default.secrets.DB", 7)


def test_explicit_keys_override_merged_ones_and_earlier_merged_mappings_win():
    assert data(
        """\
        a: &a {p: 1, q: 1}
        b: &b {q: 2, r: 2, s: 2}
        c:
          s: 3
          <<: [*a, *b, {t: 4}]
          p: 3
        """
    )["c"] == {"s": 3, "p": 3, "q": 1, "r": 2, "t": 4}


def test_merged_keys_come_after_the_written_ones_as_in_ruamels_loader():
    merged = data("a: &a {x: 1, y: 1}\nb: {y: 2, <<: *a, z: 2}\n")["b"]
    assert list(merged.items()) == [("y", 2), ("z", 2), ("x", 1)]


def test_a_merged_key_written_again_is_an_override_not_a_duplicate():
    assert data("a: &a {x: 1}\nb: {<<: *a, x: 2}\n")["b"] == {"x": 2}
    assert problems("version: 1\na: &a {x: 1}\nb: {<<: *a, x: 2, x: 3}\n") == [
        "secretsync.yaml:3:19: b.x: duplicate key (first on line 3)"
    ]
    assert problems("version: 1\na: &a {x: 1}\nb: {<<: *a, <<: *a}\n")[0] == (
        'secretsync.yaml:3:13: b["<<"]: duplicate key (first on line 3)'
    )


def test_a_quoted_merge_key_is_an_ordinary_key():
    assert data("a: {'<<': {x: 1}}\n") == {"a": {"<<": {"x": 1}}}


def test_merge_nested_in_an_anchor_is_carried_by_its_aliases():
    text = "b: &b {x: 1}\na: &a {<<: *b, p: 1}\nc: {<<: *a}\nd: *a\n"
    assert data(text)["c"] == {"p": 1, "x": 1} == data(text)["d"]


def test_a_problem_through_an_alias_names_the_anchor_place_and_the_path_it_is_used_at():
    found = problems(
        """\
        version: 1
        repos:
          - repo: acme/a
            groups:
              default: &base
                secrets:
                  BAD: {env: 1}
          - repo: acme/b
            groups:
              prod: *base
              stage: {<<: *base}
        """
    )
    assert found == [
        "secretsync.yaml:7:22: repos[0].groups.default.secrets.BAD.env:"
        " expected a string, got an integer",
        "secretsync.yaml:7:22: repos[1].groups.prod.secrets.BAD.env:"
        " expected a string, got an integer (through *base at line 10, col 13)",
        "secretsync.yaml:7:22: repos[1].groups.stage.secrets.BAD.env:"
        " expected a string, got an integer (through *base at line 11, col 19)",
    ]


def test_a_rule_problem_through_a_merge_of_an_inline_mapping_names_the_merge():
    found = problems(
        """\
        version: 1
        repos:
          - repo: acme/a
            groups:
              default:
                <<: {use: [nope]}
        """
    )
    assert found == [
        "secretsync.yaml:6:20: repos[0].groups.default.use[0]: unknown set 'nope'"
        " (there is no top-level 'sets:') (through '<<' at line 6, col 13)"
    ]


def test_aliases_are_counted_by_expanded_size_not_refused(monkeypatch):
    many = "version: 1\nx: &x [a, b, c]\n" + "".join(f"y{i}: *x\n" for i in range(300))
    assert len(data(many)) == 302
    monkeypatch.setattr(yamlwalk, "MAX_NODES", 1000)  # 300 aliases of 4 nodes each: over
    doc, found = read_yaml(many, M)
    assert doc is None
    assert [str(p) for p in found] == [
        "secretsync.yaml:201:7: y198: aliases expand the document past 1,000 nodes (an alias bomb?)"
    ]


def test_aliases_that_nest_past_the_depth_limit_are_refused():
    chain = "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 40))
    found = problems("version: 1\na0: &a0 [x]\n" + chain)
    assert found == [
        "secretsync.yaml:33:12: a31[0]: nested too deeply through alias *a30 (over 32 levels)"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: &a [1, *a]\n", "2:11: a[1]: alias *a is inside its own anchor (a loop)"),
        ("a: *nope\n", "2:4: a: alias *nope names no anchor (&nope) above it"),
        ("a: {<<: [x]}\n", "2:10: a[\"<<\"]: a merge key ('<<') takes a mapping or a list"),
        ("a: &a [1]\nb: {<<: *a}\n", "2:8: b[\"<<\"]: a merge key ('<<') takes a mapping"),
        ("a: !!binary aGk=\n", '2:4: a: tag "!!binary" is not supported (only the core tags'),
        ("a: !custom x\n", '2:4: a: tag "!custom" is not supported'),
        ("a: !!bool yes\n", '2:4: a: this value is not a valid "!!bool"'),
        ("a: !!null x\n", '2:4: a: this value is not a valid "!!null"'),
        ("a: !!int 1.5\n", '2:4: a: this value is not a valid "!!int"'),
        ("a: !!str {x: 1}\n", '2:4: a: tag "!!str" cannot mark a mapping'),
        ("a: !!map [1]\n", '2:4: a: tag "!!map" cannot mark a list'),
        ("a: ! 12\n", "2:4: a: the tag '!' makes this value ambiguous; quote it instead"),
    ],
)
def test_refusals_are_one_located_line(text, expected):
    found = problems("version: 1\n" + text)
    assert any(p.startswith(f"secretsync.yaml:{expected}") for p in found), found


def test_a_yaml_version_ruamels_parser_does_not_know_is_refused_not_a_crash():
    found = problems("%YAML 1.3\n---\nversion: 1\n")
    assert found == ["secretsync.yaml:1:1: YAML directive %YAML 1.3 is not supported (only 1.2)"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("!!str 3", "3"),
        ("!!str true", "true"),
        ("!!int '3'", 3),
        ("!!int 0x1F", 31),
        ("!!float 1", 1.0),
        ("!!float '.5'", 0.5),
        ("!!bool 'false'", False),
        ("!!null ''", None),
        ("!!null ~", None),
        ("!!map {x: 1}", {"x": 1}),
        ("!!seq [1]", [1]),
        ("! text", "text"),
        ("!<tag:yaml.org,2002:str> 12", "12"),
    ],
)
def test_core_tags_mean_what_yaml_says(text, value):
    got = data(f"a: {text}\n")["a"]
    assert got == value and type(got) is type(value)


def test_tag_directives_name_core_tags_too():
    assert data("%TAG !c! tag:yaml.org,2002:\n---\na: !c!int '7'\n") == {"a": 7}


def test_an_anchor_name_with_a_colon_is_read_as_yaml_1_2_says_whichever_parser(monkeypatch):
    # libyaml ends an anchor name at the `:`; YAML 1.2 and ruamel do not.
    text = "a: &x:y 1\nb: *x:y\n"
    assert data(text) == {"a": 1, "b": 1}
    monkeypatch.setattr(yamlread, "_c_parser", None)
    assert data(text) == {"a": 1, "b": 1}


def test_the_schema_validates_an_anchored_manifest_once_merged():
    # yaml-language-server expands aliases and merge keys before it validates, as the reader
    # does: the schema describes the merged document, where no '<<' is left.
    doc, found = read_yaml((REPO_ROOT / "examples" / "anchors.yaml").read_text(), M)
    assert found == [] and doc is not None
    assert "<<" not in json.dumps(doc.data)
    assert list(Draft202012Validator(manifest_schema()).iter_errors(doc.data)) == []


def test_the_anchors_example_loads():
    manifest = load_manifest(REPO_ROOT / "examples" / "anchors.yaml")
    assert len(manifest.repos) >= 2


def test_the_readme_states_the_budget_the_reader_applies():
    readme = (REPO_ROOT / "README.md").read_text()
    assert f"budget of {yamlwalk.MAX_NODES:,} nodes and {yamlwalk.MAX_DEPTH} levels" in readme


def test_an_anchor_name_is_shown_short_and_on_one_line():
    found = problems("version: 1\na: *" + "n" * 300 + "\n")
    assert found == [
        f"secretsync.yaml:2:4: a: alias *{'n' * 37}... names no anchor (&{'n' * 37}...) above it"
    ]


@pytest.mark.skipif(yamlread._c_parser is None, reason="ruamel.yaml.clib is not installed")
def test_libyaml_and_the_pure_parser_place_anchored_nodes_alike(monkeypatch):
    text = textwrap.dedent(ANCHORED)
    fast, _ = read_yaml(text, M)
    monkeypatch.setattr(yamlread, "_c_parser", None)
    pure, _ = read_yaml(text, M)
    assert fast is not None and pure is not None and fast.exact is False
    assert (fast.data, fast.value_pos, fast.key_pos, fast.links) == (
        pure.data,
        pure.value_pos,
        pure.key_pos,
        pure.links,
    )
    assert pure.links  # the alias and the merged keys


def test_a_shared_mapping_valid_in_one_place_is_still_checked_in_another():
    # The compiled check remembers valid mappings per place in the schema, never across.
    group = {"secrets": {}}
    data = {"version": 1, "repos": [{"repo": "a/b", "groups": {"d": group}}], "api": group}
    assert quick_valid({**data, "api": {}}) is True
    assert quick_valid(data) is False
    doc, found = read_yaml(
        "version: 1\nrepos: [{repo: a/b, groups: {d: &g {secrets: {}}}}]\napi: *g\n", M
    )
    assert doc is not None and found == []
    assert [str(p) for p in schema_problems(doc, M)] == [
        "secretsync.yaml:2:37: api.secrets: unknown field 'secrets' (through *g at line 3, col 6)"
    ]

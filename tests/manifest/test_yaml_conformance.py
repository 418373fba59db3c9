"""The reader against ruamel.yaml's own loader: on every document ruamel reads, the same data
or one located refusal, never an internal error; libyaml's events and the pure parser's agree.

This pins yamlwalk.py (the fast path) to the library's behaviour.
"""

from __future__ import annotations

import json
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.scalarbool import ScalarBoolean

from secretsync.manifest import yamlread
from secretsync.manifest.yamlread import read_yaml
from tests.test_input_properties import YAML_BITS, json_values

FAST = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
LIBYAML = yamlread._c_parser
REFUSED = object()

# Documents people write, and the corners where readers differ.
CORPUS = [
    # anchors, aliases, merge keys
    "a: &a {x: 1, y: 2}\nb: *a\n",
    "a: &a {x: 1, y: 2}\nb:\n  <<: *a\n  y: 3\n",
    "a: &a {x: 1}\nb: &b {x: 2, z: 2}\nc:\n  <<: [*a, *b]\n  w: 0\n",
    "c:\n  <<: [{q: 2}, {q: 3, r: 1}]\n  s: 1\n",
    "c: {<<: {p: 1}, q: 2}\n",
    "b: &b {x: 1}\na: &a {<<: *b, p: 1}\nc: {<<: *a, x: 9}\n",
    "a: &a 1\nb: *a\nc: [*a, *a]\n",
    "a: &a\nb: *a\n",
    "&k key: value\nother: *k\n",
    "a: &a [1, 2]\nb: [*a, *a]\n",
    "a: &a first\nb: &a second\nc: *a\n",
    "list:\n  - &item {name: x}\n  - *item\n  - {<<: *item, name: y}\n",
    "a: {'<<': {x: 1}}\n",
    "a: &x:y 1\nb: *x:y\n",
    "a: &a [x]\nb: &b [*a, *a]\nc: [*b, *b]\n",
    "a: &a {x: 1}\nb:\n  <<: *a\n  x: 2\n",
    # tags
    "a: !!str 3\nb: !!int '3'\nc: !!float 1\nd: !!bool 'true'\ne: !!null ''\n",
    "a: !!map {x: 1}\nb: !!seq [1]\nc: !<tag:yaml.org,2002:str> 12\n",
    "%TAG !c! tag:yaml.org,2002:\n---\na: !c!int '7'\n",
    "a: !!binary aGk=\n",
    "a: !custom 1\n",
    "a: ! 12\n",
    "a: !!bool yes\n",
    # keys and scalars
    "? foo\n: bar\n",
    "? foo\n",
    "a: |\n  x\n\n",
    "a: |-\n  x\n\n",
    "a: |+\n  x\n\n",
    "a: >\n  x\n  y\n\n  z\n",
    "a: >+\n  x\n\n",
    "a: '  q  '\nb: \"\\t\\u00e9\"\n",
    "a: 0x1F\nb: 0o17\nc: 1e3\nd: .inf\ne: ~\nf: 2001-02-03\n",
    "a: yes\nb: on\nc: 017\n",
    "- [a, b]\n- {c: d}\n- ? e\n",
    "%YAML 1.2\n---\na: 1\n...\n",
    "%YAML 1.1\n---\na: yes\n",
    "%YAML 1.3\n---\na: 1\n",
    "a: 1\n---\nb: 2\n",
    "1: a\n",
    "[a]: b\n",
    "a: *nope\n",
    "a: &a [*a]\n",
]


def plain(value: object) -> object:
    if isinstance(value, dict):
        return {_hashable(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, ScalarBoolean):  # an anchored boolean: an int subclass
        return bool(value)
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    if hasattr(value, "tag") and hasattr(value, "value"):  # TaggedScalar
        return str(value.value)
    return value


def _hashable(key: object) -> object:
    return tuple(map(_hashable, key)) if isinstance(key, list) else key


def same(a: object, b: object) -> bool:
    """Equal, with bool, int and float told apart, and the order of keys too."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        assert isinstance(b, list)
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and a != a:
        return b != b
    return a == b


def ruamel_reads(text: str) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reused anchors
        try:
            docs = list(YAML(typ="rt").load_all(text))
        except Exception:  # ruamel raises all sorts; we only ask if it reads
            return REFUSED
    return plain(docs[0]) if len(docs) == 1 else REFUSED


def ours(text: str, libyaml: object, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setattr(yamlread, "_c_parser", libyaml)
    doc, problems = read_yaml(text, "m.yaml")
    if problems:
        for problem in problems:
            assert problem.line is not None and problem.col is not None, str(problem)
            assert "\n" not in str(problem)
        return REFUSED
    assert doc is not None
    return doc.data


def check(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    theirs = ruamel_reads(text)
    pure = ours(text, None, monkeypatch)
    if theirs is not REFUSED and pure is not REFUSED:
        assert same(pure, theirs), (pure, theirs)
    if LIBYAML is not None:
        fast = ours(text, LIBYAML, monkeypatch)
        assert fast is REFUSED if pure is REFUSED else same(fast, pure), (fast, pure)


@pytest.mark.parametrize("text", CORPUS)
def test_the_corpus_reads_as_ruamel_reads_it_or_is_refused_with_a_place(text, monkeypatch):
    check(text, monkeypatch)


# Refused on purpose: not a core tag, not what the tag means, an alias to no anchor or inside
# its own anchor.
ON_PURPOSE = ("!!binary", "!custom", "! 12", "!!bool yes", "*nope", "[*a]")


@pytest.mark.parametrize(
    "text",
    [
        t
        for t in CORPUS
        if ("&" in t or "<<" in t or "!" in t) and not any(r in t for r in ON_PURPOSE)
    ],
)
def test_anchors_merges_and_core_tags_in_the_corpus_are_read_not_refused(text, monkeypatch):
    assert ours(text, None, monkeypatch) is not REFUSED


# ---------------------------------------------------------------------------- generated


def _flow(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


@st.composite
def anchored_documents(draw: st.DrawFn) -> str:
    """Top-level entries that define anchors on JSON values and reuse them: as values, in
    lists, merged (single and list form, with overrides), and as keys."""
    lines: list[str] = []
    maps: list[str] = []  # anchors on mappings: the ones a merge may name
    anchors: list[str] = []
    for index in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["define", "alias", "merge", "list", "key"]))
        key = f"k{index}"
        if kind == "define" or not anchors:
            value = draw(json_values)
            name = f"a{index}"
            lines.append(f"{key}: &{name} {_flow(value)}")
            anchors.append(name)
            if isinstance(value, dict):
                maps.append(name)
        elif kind == "alias":
            lines.append(f"{key}: *{draw(st.sampled_from(anchors))}")
        elif kind == "list":
            names = draw(st.lists(st.sampled_from(anchors), min_size=1, max_size=3))
            lines.append(f"{key}: [{', '.join('*' + n for n in names)}]")
        elif kind == "key":
            lines.append(f"*{draw(st.sampled_from(anchors))} : {index}")
        elif maps:
            names = draw(st.lists(st.sampled_from(maps), min_size=1, max_size=3))
            merged = f"*{names[0]}" if len(names) == 1 else f"[{', '.join('*' + n for n in names)}]"
            extra = draw(st.dictionaries(st.sampled_from(["x", "y", "A", "env"]), json_values))
            body = "".join(f"\n  {json.dumps(k)}: {_flow(v)}" for k, v in extra.items())
            lines.append(f"{key}:\n  <<: {merged}{body}")
    return "\n".join(lines) + "\n"


@FAST
@given(anchored_documents())
def test_generated_anchored_documents_read_as_ruamel_reads_them(monkeypatch, text):
    check(text, monkeypatch)


@FAST
@given(st.lists(st.sampled_from([*YAML_BITS, "&b ", "*b", "!!str ", "!!int ", "? "]), max_size=30))
def test_generated_fragments_read_as_ruamel_reads_them_or_are_refused(monkeypatch, bits):
    check("".join(bits).replace("\udcff", "?"), monkeypatch)


def test_ruamels_parser_failing_inside_is_a_located_refusal_not_a_crash():
    # Valid YAML (yaml-test-suite P94K) on which ruamel's pure parser raises
    # NotImplementedError("overlap in comment"); libyaml reads it.
    text = "key:    # Comment\n        # lines\n  value\n\n\n"
    doc, problems = read_yaml(text, "m.yaml", fast=False)
    assert doc is None
    assert [str(p) for p in problems] == [
        "m.yaml:1:4: invalid YAML: the parser cannot read past here"
    ]

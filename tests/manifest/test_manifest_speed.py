"""The fast paths of loading give exactly what the slow ones give (nothing here measures time;
benchmarks/load_manifest.py does).

- libyaml's events vs ruamel's pure parser (also the path taken without ruamel.yaml.clib);
- the schema check compiled in schemacheck.py vs jsonschema;
- dotenvfile's reader of simple lines vs python-dotenv's parse_stream;
- the resolver's one-realpath-per-folder vs os.path.realpath.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import textwrap
from pathlib import Path

import dotenv.parser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secretsync.errors import ManifestError, SourceError
from secretsync.manifest import yamlread
from secretsync.manifest.loader import load_manifest
from secretsync.manifest.schema import _validator, quick_valid
from secretsync.manifest.schemacheck import UnsupportedSchema, compile_check
from secretsync.manifest.yamlread import read_yaml
from secretsync.sources import dotenvfile
from secretsync.sources.resolve import resolve_sources
from tests.manifest.helpers import BAD, FIXTURES
from tests.test_input_properties import ENV_BITS, YAML_BITS, json_values

FAST = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
LIBYAML = yamlread._c_parser
needs_libyaml = pytest.mark.skipif(LIBYAML is None, reason="ruamel.yaml.clib is not installed")

CONTRACT = (FIXTURES / "contract.yaml").read_text()
# Layouts a person writes: comments, blank lines, quotes, block scalars, CRLF, markers.
LAYOUTS = [
    CONTRACT,
    CONTRACT.replace("\n", "\r\n"),
    "---\n" + CONTRACT + "...\n",
    "%YAML 1.2\n---\n" + CONTRACT,
    textwrap.dedent(
        """\
        # head
        version: 1   # the format
        repos:

          -   repo: 'acme/app'
              prune: true
              groups:
                default:
                  dotenv:
                    - "a.env"
                    - >-
                      b.env
                  secrets:
                    K: { env: E }
                    L:
                      file: |-
                        certs/x.pem
          - {repo_id: 123e4567-e89b-12d3-a456-426614174000, groups: {d: {use: s}}}
        sets: {s: {secrets: {A: {dotenv: a.env, key: B}}}}
        """
    ),
    "version: 1\nrepos: [{repo: a/b, groups: {d: {}}}]\t# a tab in a comment\n",
    "version: 1\nrepos: [{repo: a/b, groups: {d: {}}}]\n# NEL \x85 and LS \u2028 in a comment\n",
]


def load_text(text: str, *, libyaml: object, monkeypatch: pytest.MonkeyPatch) -> object:
    """The Manifest (as a repr, paths made relative) or the problem lines."""
    monkeypatch.setattr(yamlread, "_c_parser", libyaml)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "secretsync.yaml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            return repr(load_manifest(path)).replace(os.path.realpath(folder), "ROOT")
        except ManifestError as err:
            return [str(p).replace(folder, "ROOT") for p in err.problems]


# ---------------------------------------------------------------------------- parsers


@needs_libyaml
@pytest.mark.parametrize("text", [p.values[0] for p in BAD] + LAYOUTS)
def test_libyaml_and_pure_parser_give_the_same_result(text, monkeypatch):
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    pure = load_text(text, libyaml=None, monkeypatch=monkeypatch)
    assert load_text(text, libyaml=LIBYAML, monkeypatch=monkeypatch) == pure


@needs_libyaml
@pytest.mark.parametrize("at", [0, len(CONTRACT) // 2, len(CONTRACT)])
def test_a_byte_order_mark_inside_the_text_reads_the_same_both_ways(monkeypatch, at):
    # Found by hypothesis: libyaml skipped a BOM at the end that ruamel's parser refuses.
    text = CONTRACT[:at] + "\ufeff" + CONTRACT[at:]
    pure = load_text(text, libyaml=None, monkeypatch=monkeypatch)
    assert load_text(text, libyaml=LIBYAML, monkeypatch=monkeypatch) == pure


@needs_libyaml
@FAST
@given(st.lists(st.sampled_from(YAML_BITS), max_size=40))
def test_libyaml_and_pure_parser_agree_on_fragments(monkeypatch, bits):
    text = "".join(bits).replace("\udcff", "?")
    pure = load_text(text, libyaml=None, monkeypatch=monkeypatch)
    assert load_text(text, libyaml=LIBYAML, monkeypatch=monkeypatch) == pure


@needs_libyaml
@FAST
@given(st.integers(0, len(CONTRACT)), st.sampled_from([*YAML_BITS, "", "  ", "x"]))
def test_libyaml_and_pure_parser_agree_on_edited_manifests(monkeypatch, at, bit):
    text = (CONTRACT[:at] + bit + CONTRACT[at:]).replace("\udcff", "?")
    pure = load_text(text, libyaml=None, monkeypatch=monkeypatch)
    assert load_text(text, libyaml=LIBYAML, monkeypatch=monkeypatch) == pure


@needs_libyaml
def test_libyaml_is_used_for_valid_text_and_its_places_are_not_trusted_for_problems():
    doc, problems = read_yaml(CONTRACT, "m.yaml")
    assert problems == [] and doc is not None and doc.exact is False
    exact, _ = read_yaml(CONTRACT, "m.yaml", fast=False)
    assert exact is not None and exact.exact is True
    assert (doc.data, doc.value_pos, doc.key_pos) == (exact.data, exact.value_pos, exact.key_pos)
    # libyaml puts an empty value right after its `:`, ruamel on the next token; the schema
    # problem must come out where the pure parser puts it.
    Path_ = Path(tempfile.mkdtemp()) / "m.yaml"
    Path_.write_text("version: 1\nrepos:\n")
    with pytest.raises(ManifestError) as info:
        load_manifest(Path_)
    assert [(p.line, p.col, p.message) for p in info.value.problems] == [
        (3, 1, "expected a list, got null")
    ]


def test_without_libyaml_everything_goes_through_the_pure_parser(monkeypatch):
    monkeypatch.setattr(yamlread, "_c_parser", None)
    doc, problems = read_yaml(CONTRACT, "m.yaml")
    assert problems == [] and doc is not None and doc.exact is True
    assert doc.data["repos"][0]["groups"]["default"]["secrets"]["TLS_KEY"] == {
        "file": "certs/tls.key"
    }
    assert doc.key_at(("repos", 0, "groups", "default", "secrets", "TLS_KEY")) == (13, 11)
    _, problems = read_yaml("version: 1\nversion: 2\n", "m.yaml")
    assert [str(p) for p in problems] == ["m.yaml:2:1: version: duplicate key (first on line 1)"]


@pytest.mark.parametrize("libyaml", [None, LIBYAML], ids=["pure", "libyaml"])
def test_a_plain_scalar_ruamel_cannot_build_is_a_problem_not_a_crash(libyaml, monkeypatch):
    # `0x_` makes ruamel's own int constructor raise IndexError.
    found = load_text(
        "version: 1\nrepos: [{repo: a/b, groups: {d: {prune: 0x_}}}]\n",
        libyaml=libyaml,
        monkeypatch=monkeypatch,
    )
    assert found == [
        "ROOT/secretsync.yaml:2:41: repos[0].groups.d.prune: this value cannot be read; quote it"
    ]


@pytest.mark.parametrize("libyaml", [None, LIBYAML], ids=["pure", "libyaml"])
def test_a_value_error_after_a_duplicate_number_key_wins_as_in_ruamel(libyaml, monkeypatch):
    # ruamel builds a key's value before checking the key for duplicates.
    found = load_text("1: a\n0x1: [2001-02-30]\n", libyaml=libyaml, monkeypatch=monkeypatch)
    assert found == ["ROOT/secretsync.yaml:2:7: 0x1[0]: this value cannot be read; quote it"]


# ---------------------------------------------------------------------------- schema check


def _valid_manifest() -> dict:
    doc, _ = read_yaml(CONTRACT, "m.yaml", fast=False)
    assert doc is not None
    data = copy.deepcopy(doc.data)
    data["sets"] = {"common": {"dotenv": ["a.env"], "allow_empty": True, "secrets": {}}}
    data["repos"].append({"org": "acme", "match": ["svc-*"], "exclude": "x", "groups": {"d": {}}})
    data["file_roots"] = ["../shared"]
    return data


def _paths(value: object, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*path, index))
    return out


def test_quick_check_accepts_the_valid_manifests_jsonschema_accepts():
    data = _valid_manifest()
    assert _validator().is_valid(data)
    assert quick_valid(data)


@FAST
@given(st.data())
def test_quick_check_and_jsonschema_agree_on_edited_manifests(data):
    manifest = _valid_manifest()
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(manifest) if p]
        path = data.draw(st.sampled_from(paths))
        parent = manifest
        for part in path[:-1]:
            parent = parent[part]
        if data.draw(st.booleans()):
            parent[path[-1]] = data.draw(json_values)
        elif isinstance(parent, dict):
            parent[data.draw(st.sampled_from(["env", "file", "key", "x", "org", "9"]))] = (
                parent.pop(path[-1])
            )
    assert quick_valid(manifest) == _validator().is_valid(manifest), json.dumps(manifest)


@FAST
@given(json_values)
def test_quick_check_and_jsonschema_agree_on_any_data(value):
    assert quick_valid(value) == _validator().is_valid(value)


def test_quick_check_refuses_keywords_it_does_not_know():
    for schema in ({"anyOf": [{}]}, {"type": "object", "format": "uri"}, {"$ref": "#/x"}):
        with pytest.raises(UnsupportedSchema):
            compile_check(schema, lambda p: __import__("re").compile(p))


# ---------------------------------------------------------------------------- .env files


def _read_by_python_dotenv(data: bytes, monkeypatch: pytest.MonkeyPatch) -> dotenvfile.EnvFile:
    with monkeypatch.context() as patch:
        patch.setattr(dotenvfile, "_parse_simple", lambda text: None)
        return dotenvfile.parse_env(data)


ENV_LINES = [
    "A=1", "B=", "C=x=y", "export D=4", "export  E = 5 ", "F='q' # c", 'G="q"', "H=a #c",
    "I=a#b", "J= #c", "K=#c", "L=  v  ", "M=\xa0v\x0b", "N='a\"b'", "O=é", "# c", "  # c",
    "", "  ", "P='x", 'Q="y\\n"', "bad-key=1", "R", "export =1", "S=a\\b", "T='a' b",
    "\x0bU=1", "V=${HOME}", "W=1\x85",
]  # fmt: skip


@FAST
@given(
    st.lists(st.sampled_from(ENV_LINES), max_size=10),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.booleans(),
)
def test_simple_env_reader_equals_python_dotenv(monkeypatch, lines, newline, final):
    text = newline.join(lines) + (newline if final else "")
    data = text.encode()
    assert dotenvfile.parse_env(data) == _read_by_python_dotenv(data, monkeypatch)


@FAST
@given(st.lists(st.sampled_from(ENV_BITS), max_size=12))
def test_env_reader_equals_python_dotenv_on_odd_bits(monkeypatch, bits):
    data = "".join(bits).encode("utf-8", "surrogatepass")
    assert dotenvfile.parse_env(data) == _read_by_python_dotenv(data, monkeypatch)


def test_plain_env_file_is_read_without_python_dotenv(monkeypatch):
    def refuse(stream):
        raise AssertionError("parse_stream was called")

    monkeypatch.setattr(dotenv.parser, "parse_stream", refuse)
    got = dotenvfile.parse_env(b"A=1\nB=x=y\n\nexport C='two words' # note\nD=\n")
    assert got.values == {"A": "1", "B": "x=y", "C": "two words", "D": ""}
    assert got.lines == {"A": 1, "B": 2, "C": 4, "D": 5}


# ---------------------------------------------------------------------------- files


def test_one_folder_many_files_a_symlink_among_them_still_resolved(tmp_path, monkeypatch):
    # The resolver resolves each folder once, then looks at each file: a symlinked file in
    # an already-seen folder must still be followed, and refused when it leads outside.
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "x.env").write_text("X=1\n")
    env = tmp_path / "proj" / "env"
    env.mkdir(parents=True)
    (env / "a.env").write_text("A=1\n")
    (env / "b.env").write_text("B=2\n")
    os.symlink(tmp_path / "outside" / "x.env", env / "x.env")
    os.symlink(env / "b.env", env / "inside-link.env")
    monkeypatch.chdir(tmp_path / "proj")
    head = "version: 1\nrepos:\n  - repo: a/b\n    groups:\n"
    inside = "      d: {dotenv: [env/a.env, env/../env/b.env, env/inside-link.env]}\n"
    Path("secretsync.yaml").write_text(head + inside + "      e: {dotenv: env/x.env}\n")
    with pytest.raises(SourceError) as info:
        resolve_sources(load_manifest(Path("secretsync.yaml")), {})
    assert [p.message for p in info.value.problems] == [
        "dotenv file env/x.env is outside the manifest's folder; list its folder under"
        " file_roots: to allow it (in a/b, group e)"
    ]
    Path("secretsync.yaml").write_text(head + inside)
    repos = resolve_sources(load_manifest(Path("secretsync.yaml")), {})
    secrets = repos[0].groups[0].secrets
    assert [(s.key, s.value.reveal(), s.source) for s in secrets] == [
        ("A", b"1", "dotenv:env/a.env#A"),
        ("B", b"2", "dotenv:env/inside-link.env#B"),
    ]


def test_other_lines_still_go_to_python_dotenv(monkeypatch):
    calls = []
    real = dotenv.parser.parse_stream

    def spy(stream):
        calls.append(1)
        return real(stream)

    monkeypatch.setattr(dotenv.parser, "parse_stream", spy)
    got = dotenvfile.parse_env(b'A="multi\nline"\nB=2\n')
    assert calls == [1]
    assert got.values == {"A": "multi\nline", "B": "2"}


def test_a_long_run_of_spaces_is_read_in_one_pass():
    # python-dotenv's comment regex is quadratic in such a run: 200,000 spaces took minutes.
    spaces = " " * 200_000
    got = dotenvfile.parse_env(f"A=x{spaces}y#\nB=x{spaces}#c\n".encode())
    assert got.values == {"A": f"x{spaces}y#", "B": "x"}


def test_a_file_for_python_dotenv_with_a_long_run_of_spaces_is_refused_not_parsed(monkeypatch):
    def refuse(stream):
        raise AssertionError("parse_stream was called")

    monkeypatch.setattr(dotenv.parser, "parse_stream", refuse)
    run = " " * (dotenvfile.MAX_WS_RUN + 1)
    got = dotenvfile.parse_env(f'A="multi\nline"\nB=x{run}y#\n'.encode())
    assert got.problems == ((3, "this line has over 256 spaces or tabs in a row"),)
    assert got.values == {}

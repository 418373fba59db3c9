"""A block scalar at the document's root reads as ruamel's loader reads it.

libyaml (the fast path's events) takes a line that starts with `#` at column 0 inside a root
block scalar for a comment; YAML and ruamel take it for content. Found by
test_yaml_conformance.py's generated fragments (`|` then `#`).
"""

from __future__ import annotations

import io

import pytest
from ruamel.yaml import YAML

from secretsync.manifest import yamlread
from secretsync.manifest.yamlread import read_yaml

CASES = [
    "|\n#",
    "|\n#\n",
    "|-\n#\n",
    ">\n#",
    "|\n\n#",
    "--- |\n#",
    "|\n # indented\n",
    "|\n#a\n#b\n",
    ">-\n#x\n\n#y\n",
]


@pytest.mark.parametrize("text", CASES)
def test_a_root_block_scalar_reads_as_ruamel_reads_it(text: str) -> None:
    expected = YAML(typ="rt").load(io.StringIO(text))
    doc, problems = read_yaml(text, "m.yaml")
    assert not problems
    assert doc is not None
    assert doc.data == expected


@pytest.mark.skipif(yamlread._c_parser is None, reason="libyaml is not installed")
def test_libyaml_alone_reads_the_hash_line_as_a_comment() -> None:
    # Why the reader hands these to the pure parser: if libyaml ever reads them as YAML does,
    # this fails, and the exception in _c_events can go.
    parser = yamlread._c_parser("|\n#")
    try:
        events = []
        while (event := parser.get_event()) is not None:
            events.append(event)
    finally:
        parser.dispose()
    values = [e.value for e in events if type(e).__name__ == "ScalarEvent"]
    assert values == [""]


@pytest.mark.parametrize("text", ["a: |\n  #x\n", "- |\n #\n", "a:\n  b: |\n   #\n"])
def test_nested_block_scalars_stay_on_the_fast_path(text: str) -> None:
    expected = YAML(typ="rt").load(io.StringIO(text))
    doc, problems = read_yaml(text, "m.yaml")
    assert not problems and doc is not None
    assert doc.data == expected
    assert doc.exact is (yamlread._c_parser is None)  # libyaml's events were used

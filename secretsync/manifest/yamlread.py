"""Read one YAML document into plain data plus the 1-based position of every node.

One pass over the parser's events (yamlwalk.py) builds the plain data and the positions
together, expands anchors, aliases and merge keys, and finds every refusal (tags other than
the core ones, alias bombs, duplicate keys, depth...).

The events come from libyaml (ruamel.yaml.clib) when it is installed: ~25x faster than
ruamel's pure-Python parser. The two word syntax errors differently, so when libyaml refuses
the text it is read again with the pure parser, whose messages and positions are the ones
users see. Without the C extension the pure parser does everything, only slower.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import DocumentStartEvent, Event, ScalarEvent
from ruamel.yaml.main import CParser  # type: ignore[attr-defined]  # None without the C extension

from secretsync.errors import Problem
from secretsync.manifest.yamldoc import (
    Document,
    Pos,
    Problems,
    yaml_error_message,
    yaml_error_place,
)
from secretsync.manifest.yamlwalk import MAX_DEPTH, MAX_NODES, Walk

__all__ = ["MAX_DEPTH", "MAX_FLOW_BRACKETS", "MAX_NODES", "Document", "Pos", "read_yaml"]

log = logging.getLogger(__name__)

# Scanners are quadratic in the depth of flow collections (`[[[[...`): 8000 brackets take
# half a minute in ruamel's. Counting brackets first is crude (it also counts brackets inside
# quoted strings) but no real manifest nests anywhere near this deep.
MAX_FLOW_BRACKETS = 64

# libyaml takes these as line breaks (so its lines differ), accepts tabs where ruamel's
# parser refuses them, and skips a byte order mark anywhere: such text goes to the pure
# parser only. So does an anchor or alias name with characters other than letters, digits,
# `-` and `_`: YAML 1.2 and ruamel allow them (`&a:b`), libyaml ends the name there.
_LIBYAML_DIFFERS = re.compile(
    "[\t\x85\u2028\u2029\ufeff]|(?:^|[\\s,\\[\\]{}])[&*][\\w-]*[^\\w\\s,\\[\\]{}-]",
    re.ASCII | re.MULTILINE,
)

# None when ruamel.yaml.clib is not installed; a test sets it to None to cover that path.
_c_parser: Any = CParser


class _LibyamlRefused(Exception):
    """Internal: libyaml stopped on the text; the pure parser reads it again."""


def read_yaml(text: str, file: str, *, fast: bool = True) -> tuple[Document | None, list[Problem]]:
    """`fast`: use libyaml if it is installed; a Document it gives has `exact` False, and any
    problem found in it should be looked for again with fast=False, for the exact places."""
    problems = Problems(file)
    _check_brackets(text, problems)
    if problems.items:
        return None, problems.items
    if fast and _c_parser is not None and not _LIBYAML_DIFFERS.search(text):
        try:
            doc, found = Walk(file).read(_c_events(text))
        except _LibyamlRefused:
            log.debug("libyaml refused the manifest; reading it again with the pure parser")
        else:
            if doc is not None and not found:
                return replace(doc, exact=False), []
    return Walk(file).read(_pure_events(text, problems), problems)


def _c_events(text: str) -> Iterator[Event]:
    parser = _c_parser(text)
    root = False  # the next event is the document's root node
    try:
        while True:
            try:
                event = parser.get_event()
            except (YAMLError, ValueError) as err:
                raise _LibyamlRefused from err
            if event is None:
                return
            if isinstance(event, DocumentStartEvent) and (event.version or event.tags):
                # libyaml marks the directive, ruamel the `---`; rare enough to read twice.
                raise _LibyamlRefused
            if root and isinstance(event, ScalarEvent) and event.style in ("|", ">"):
                # A block scalar at the root may hold lines at column 0, and libyaml takes one
                # that starts with `#` for a comment (`|` then `#` is '' to it, '#' to
                # ruamel). Never a manifest (that is a mapping), so the pure parser may have it.
                raise _LibyamlRefused
            root = isinstance(event, DocumentStartEvent)
            yield event
    finally:
        parser.dispose()


def _pure_events(text: str, problems: Problems) -> Iterator[Event]:
    stream = iter(YAML(typ="rt", pure=True).parse(text))
    last: Pos = (1, 1)
    while True:
        try:
            event = next(stream)
        except StopIteration:
            return
        except YAMLError as err:
            problems.add(*yaml_error_place(err, text), yaml_error_message(err))
            return
        except AssertionError:  # ruamel's parser asserts a %YAML version it knows (1.1, 1.2)
            found = re.search(r"^%YAML[ \t]+(\S{1,20})", text, re.MULTILINE)
            line = text.count("\n", 0, found.start()) + 1 if found else 1
            version = found.group(1) if found else "?"
            message = f"YAML directive %YAML {version} is not supported (only 1.2)"
            problems.add((line, 1), (), message)
            return
        except Exception as err:  # only ruamel's parser runs in next()
            # e.g. NotImplementedError("overlap in comment") on comments after a block scalar.
            log.debug("ruamel's parser failed: %s", type(err).__name__)
            problems.add(last, (), "invalid YAML: the parser cannot read past here")
            return
        last = (event.end_mark.line + 1, event.end_mark.column + 1)
        yield event


def _check_brackets(text: str, problems: Problems) -> None:
    depth = 0
    for match in re.finditer(r"[\[\]{}]", text):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        if depth > MAX_FLOW_BRACKETS:
            line = text.count("\n", 0, match.start()) + 1
            col = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
            problems.add((line, col), (), f"nested too deeply (over {MAX_FLOW_BRACKETS} levels)")
            return

"""Read one YAML document into plain data plus the 1-based position of every node.

Two passes over hostile text. First the event stream (cheap, never builds anything) refuses
what a reviewed manifest has no use for and what makes loaders blow up: anchors and aliases
(alias bombs), explicit tags, merge keys, several documents, deep nesting; it also reports
every duplicate key, where the loader would stop at the first. Only then ruamel's round-trip
loader builds the data, and its `.lc` positions are copied next to the plain values.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    DocumentStartEvent,
    Event,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
    SequenceStartEvent,
)
from ruamel.yaml.reader import ReaderError

from secretsync.errors import Problem
from secretsync.names import MAX_PROBLEMS, NodePath, key_path, type_name

log = logging.getLogger(__name__)

MAX_DEPTH = 32
# ruamel's scanner is quadratic in the depth of flow collections (`[[[[...`): 8000 brackets
# take half a minute. Counting brackets first is crude (it also counts brackets inside quoted
# strings) but no real manifest nests anywhere near this deep.
MAX_FLOW_BRACKETS = 64

Pos = tuple[int, int]

_ALIAS_HINT = "anchors and aliases (&name, *name) are not supported; use top-level 'sets:' to reuse"
_NUMBERISH = re.compile(r"^[-+.0-9]")


@dataclass(frozen=True, slots=True)
class Document:
    data: object
    value_pos: dict[NodePath, Pos] = field(default_factory=dict)
    key_pos: dict[NodePath, Pos] = field(default_factory=dict)

    def pos(self, path: NodePath) -> Pos:
        """Where the value at `path` starts (or its nearest known ancestor)."""
        while path not in self.value_pos and path:
            path = path[:-1]
        return self.value_pos.get(path, (1, 1))

    def key_at(self, path: NodePath) -> Pos:
        """Where the key of the mapping entry at `path` is (the value's place otherwise)."""
        return self.key_pos.get(path) or self.pos(path)


class _Problems:
    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[Problem] = []

    def add(self, pos: Pos | None, path: NodePath, message: str) -> None:
        line, col = pos if pos else (None, None)
        self.items.append(
            Problem(file=self.file, line=line, col=col, key_path=key_path(path), message=message)
        )

    @property
    def full(self) -> bool:
        return len(self.items) > MAX_PROBLEMS  # one more than shown, so the cap is announced


def read_yaml(text: str, file: str) -> tuple[Document | None, list[Problem]]:
    problems = _Problems(file)
    _check_brackets(text, problems)
    numberish: list[tuple[NodePath, Pos, str]] = []
    if not problems.items:
        _check_events(text, problems, numberish)
    if problems.items:
        return None, problems.items
    try:
        data = YAML(typ="rt").load(text)
    except YAMLError as err:
        problems.add(*_yaml_error_place(err, text), _yaml_error_message(err))
        return None, problems.items
    except (ValueError, OverflowError, TypeError) as err:
        # A plain scalar the resolver typed but could not build (2001-02-30, a 5000-digit int).
        problems.add(*_bad_scalar_place(numberish), "this value cannot be read; quote it")
        log.debug("YAML value construction failed: %s", type(err).__name__)
        return None, problems.items
    if data is None:
        problems.add((1, 1), (), "the manifest is empty")
        return None, problems.items
    doc = Document(data=None, value_pos={(): _root_pos(data)})
    plain = _plain(data, (), doc, problems)
    return Document(data=plain, value_pos=doc.value_pos, key_pos=doc.key_pos), problems.items


def _check_brackets(text: str, problems: _Problems) -> None:
    depth = 0
    for match in re.finditer(r"[\[\]{}]", text):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        if depth > MAX_FLOW_BRACKETS:
            line = text.count("\n", 0, match.start()) + 1
            col = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
            problems.add((line, col), (), f"nested too deeply (over {MAX_FLOW_BRACKETS} levels)")
            return


@dataclass(slots=True)
class _Frame:
    path: NodePath
    is_map: bool
    expect_key: bool = True
    key: str | int = 0
    seen: dict[str, int] = field(default_factory=dict)


def _events(text: str, problems: _Problems) -> Iterator[Event]:
    stream = iter(YAML(typ="rt").parse(text))
    while True:
        try:
            event = next(stream)
        except StopIteration:
            return
        except YAMLError as err:
            problems.add(*_yaml_error_place(err, text), _yaml_error_message(err))
            return
        yield event


def _check_events(
    text: str, problems: _Problems, numberish: list[tuple[NodePath, Pos, str]]
) -> None:
    stack: list[_Frame] = []
    documents = 0
    for event in _events(text, problems):
        if problems.full:
            return
        pos = (event.start_mark.line + 1, event.start_mark.column + 1)
        if isinstance(event, DocumentStartEvent):
            documents += 1
            if documents > 1:
                problems.add(pos, (), "only one YAML document is allowed (remove '---')")
                return
            if event.tags or event.version not in (None, (1, 2)):
                problems.add(
                    pos, (), "YAML directives (%YAML other than 1.2, %TAG) are not supported"
                )
            continue
        if isinstance(event, CollectionEndEvent):
            stack.pop()
            continue
        if not isinstance(event, NodeEvent):
            continue
        path = _node_path(stack, event, pos, problems)
        if isinstance(event, AliasEvent) or event.anchor is not None:
            problems.add(pos, path, _ALIAS_HINT)
        if getattr(event, "tag", None) is not None:
            problems.add(pos, path, "explicit YAML tags (!tag) are not supported")
        if _is_numberish(event):
            numberish.append((path, pos, str(getattr(event, "value", ""))))
        if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
            if len(stack) >= MAX_DEPTH:
                problems.add(pos, path, f"nested too deeply (over {MAX_DEPTH} levels)")
                return
            stack.append(_Frame(path=path, is_map=isinstance(event, MappingStartEvent)))


def _is_numberish(event: NodeEvent) -> bool:
    # Plain scalars the resolver may turn into numbers or dates, whose building can fail.
    if not isinstance(event, ScalarEvent) or event.style is not None:
        return False
    return bool(_NUMBERISH.match(event.value or ""))


def _node_path(stack: list[_Frame], event: NodeEvent, pos: Pos, problems: _Problems) -> NodePath:
    if not stack:
        return ()
    parent = stack[-1]
    if not parent.is_map:
        assert isinstance(parent.key, int)
        index = parent.key
        parent.key = index + 1
        return (*parent.path, index)
    if not parent.expect_key:
        parent.expect_key = True
        return (*parent.path, parent.key)
    parent.expect_key = False
    if not isinstance(event, ScalarEvent):
        parent.key = "?"
        if not isinstance(event, AliasEvent):
            problems.add(pos, parent.path, "a key must be a plain name, not a list or mapping")
        return (*parent.path, "?")
    name = event.value
    parent.key = name
    if name == "<<" and event.style is None:
        problems.add(pos, parent.path, "merge keys ('<<') are not supported; use top-level 'sets:'")
    elif name in parent.seen:
        problems.add(
            pos, (*parent.path, name), f"duplicate key (first on line {parent.seen[name]})"
        )
    else:
        parent.seen[name] = pos[0]
    return (*parent.path, name)


def _plain(node: object, path: NodePath, doc: Document, problems: _Problems) -> object:
    """Copy the loaded tree into plain dict/list/scalars, recording positions on the way."""
    if isinstance(node, CommentedMap):
        out: dict[str, object] = {}
        for key in node:
            kpos = _lc(node.lc.key, key)
            if not isinstance(key, str):
                problems.add(kpos, path, f"a key must be a string, not {type_name(key)}")
                continue
            child = (*path, key)
            if kpos:
                doc.key_pos[child] = kpos
            vpos = _lc(node.lc.value, key)
            if vpos:
                doc.value_pos[child] = vpos
            out[key] = _plain(node[key], child, doc, problems)
        return out
    if isinstance(node, CommentedSeq):
        items: list[object] = []
        for index, item in enumerate(node):
            child = (*path, index)
            ipos = _lc(node.lc.item, index)
            if ipos:
                doc.value_pos[child] = ipos
            items.append(_plain(item, child, doc, problems))
        return items
    # ruamel keeps formatting in subclasses (ScalarFloat, ScalarInt...); plain types only here.
    for plain_type in (bool, str, int, float):
        if isinstance(node, plain_type):
            return plain_type(node)
    return node


def _lc(lookup: object, arg: object) -> Pos | None:
    try:
        line, col = lookup(arg)  # type: ignore[operator]
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return (int(line) + 1, int(col) + 1)


def _root_pos(data: object) -> Pos:
    lc = getattr(data, "lc", None)
    if lc is None or lc.line is None:
        return (1, 1)
    return (lc.line + 1, lc.col + 1)


def _yaml_error_place(err: YAMLError, text: str) -> tuple[Pos | None, NodePath]:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    if mark is not None and getattr(mark, "line", None) is not None:
        return (mark.line + 1, mark.column + 1), ()
    if isinstance(err, ReaderError) and isinstance(err.position, int):
        at = min(err.position, len(text))
        line = text.count("\n", 0, at) + 1
        return (line, at - (text.rfind("\n", 0, at) + 1) + 1), ()
    return None, ()


def _yaml_error_message(err: YAMLError) -> str:
    """ruamel's own wording, minus the source excerpt its str() adds (it may quote values)."""
    if isinstance(err, ReaderError):
        code = err.character if isinstance(err.character, int) else 0
        return f"invalid YAML: character #x{code:04x} is not allowed"
    text = ""
    if isinstance(err, MarkedYAMLError):
        text = err.problem or err.context or ""
        if err.problem and err.context:
            text += f" ({err.context})"
    if "duplicate key" in text:
        return "duplicate key"
    text = " ".join(text.split())
    if len(text) > 120:
        text = text[:117] + "..."
    return f"invalid YAML: {text}" if text else "invalid YAML"


def _bad_scalar_place(numberish: list[tuple[NodePath, Pos, str]]) -> tuple[Pos | None, NodePath]:
    for path, pos, value in numberish:
        try:
            YAML(typ="rt").load(value)
        except (ValueError, OverflowError, YAMLError):
            return pos, path
    return None, ()

"""One pass over YAML parser events: plain data, the position of every node, and problems.

The walk refuses what a reviewed manifest has no use for and what makes loaders blow up:
anchors and aliases (alias bombs), explicit tags, merge keys, several documents, deep
nesting; it reports every duplicate key, not only the first. Nothing is ever composed into a
node graph. Plain scalars are typed by ruamel's own YAML 1.2 resolver and built by its
round-trip constructor, so `prune: yes` stays a string and `2001-02-30` cannot be read.

The events may come from libyaml or from ruamel's pure parser (yamlread.py chooses).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ruamel.yaml import YAML
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
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.reader import ReaderError

from secretsync.errors import Problem
from secretsync.names import MAX_PROBLEMS, NodePath, key_path, type_name

log = logging.getLogger(__name__)

MAX_DEPTH = 32

Pos = tuple[int, int]

_ALIAS_HINT = "anchors and aliases (&name, *name) are not supported; use top-level 'sets:' to reuse"
_VALUE_TAG = "tag:yaml.org,2002:value"  # a plain `=`: ruamel reads it as a string when a key
_UNREADABLE = "this value cannot be read; quote it"


@dataclass(frozen=True, slots=True)
class Document:
    """A YAML document as plain values, with the position of every node."""

    data: object
    value_pos: dict[NodePath, Pos] = field(default_factory=dict)
    key_pos: dict[NodePath, Pos] = field(default_factory=dict)
    # False when libyaml placed the nodes: right for every node a valid manifest can hold,
    # but not always for the empty values and odd layouts that come with problems.
    exact: bool = True

    def pos(self, path: NodePath) -> Pos:
        """Where the value at `path` starts (or its nearest known ancestor)."""
        while path not in self.value_pos and path:
            path = path[:-1]
        return self.value_pos.get(path, (1, 1))

    def key_at(self, path: NodePath) -> Pos:
        """Where the key of the mapping entry at `path` is (the value's place otherwise)."""
        return self.key_pos.get(path) or self.pos(path)


class Problems:
    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[Problem] = []

    def add(self, pos: Pos | None, path: NodePath, message: str) -> None:
        line, col = pos if pos else (None, None)
        self.items.append(
            Problem(file=self.file, line=line, col=col, key_path=key_path(path), message=message)
        )


@dataclass(slots=True)
class _Frame:
    """A mapping or sequence being built while walking the events."""

    path: NodePath
    is_map: bool
    box: dict[str, object] | list[object] | None  # None: not kept (under a non-string key)
    expect_key: bool = True
    key: str | int = 0  # a mapping's current key, a sequence's next index
    keep: bool = True  # whether the current entry is kept
    seen: dict[str, int] = field(default_factory=dict)  # key as written -> its line
    typed: dict[object, None] = field(default_factory=dict)  # keys that are not strings
    duplicate: Pos | None = None  # of the current key: reported once its value is built


class Walk:
    """Events -> plain data, positions and problems, in three tiers as a two-pass reader had:
    refusals of the event stream first (all of them); else the first value that cannot be built;
    else the data, with keys that are not strings reported and left out."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.doc = Document(data=None, value_pos={(): (1, 1)})
        self.stack: list[_Frame] = []
        self.root: object = None
        self.documents = 0
        self.fatal: Problem | None = None
        self.key_problems = Problems(file)
        self.construct: Callable[..., object] | None = None

    def read(
        self, events: Iterator[Event], problems: Problems | None = None
    ) -> tuple[Document | None, list[Problem]]:
        self.problems = problems if problems is not None else Problems(self.file)
        items, step = self.problems.items, self.step
        for event in events:
            if len(items) > MAX_PROBLEMS or not step(event):  # one more than shown: capped
                break
        if self.problems.items:
            return None, self.problems.items
        if self.fatal is not None:
            return None, [self.fatal]
        if self.root is None:
            return None, [Problem(file=self.file, line=1, col=1, message="the manifest is empty")]
        doc = Document(data=self.root, value_pos=self.doc.value_pos, key_pos=self.doc.key_pos)
        return doc, self.key_problems.items

    def step(self, event: Event) -> bool:
        """Take one event; False to stop reading. (Most are scalars: they go first.)"""
        if isinstance(event, ScalarEvent):
            collection = False
        elif isinstance(event, CollectionEndEvent):
            self.stack.pop()
            if self.stack:
                self.value_done(self.stack[-1])
            return True
        elif isinstance(event, (MappingStartEvent, SequenceStartEvent)):
            collection = True
        elif isinstance(event, DocumentStartEvent):
            return self.document(event)
        elif not isinstance(event, AliasEvent):
            return True  # stream start and end, document end
        else:
            collection = False
        mark = event.start_mark
        pos = (mark.line + 1, mark.column + 1)
        parent = self.stack[-1] if self.stack else None
        value: object = None
        if parent is not None and parent.is_map and parent.expect_key:
            path, keep = self.key(parent, event, pos)  # never kept as a value
        else:
            path, keep = self.place(parent, pos, collection)
            if isinstance(event, ScalarEvent):
                value = self.scalar(event, pos, path)
        if event.anchor is not None or isinstance(event, AliasEvent):
            self.problems.add(pos, path, _ALIAS_HINT)
        if getattr(event, "tag", None) is not None:
            self.problems.add(pos, path, "explicit YAML tags (!tag) are not supported")
        if collection:
            if len(self.stack) >= MAX_DEPTH:
                self.problems.add(pos, path, f"nested too deeply (over {MAX_DEPTH} levels)")
                return False
            is_map = isinstance(event, MappingStartEvent)
            box: dict[str, object] | list[object] | None = None
            if keep:
                value = box = {} if is_map else []
            self.stack.append(_Frame(path=path, is_map=is_map, box=box))
        if keep:
            self.attach(parent, value)
        if parent is not None and parent.is_map:
            parent.expect_key = not parent.expect_key
            if not collection:
                self.value_done(parent)
        return True

    def document(self, event: DocumentStartEvent) -> bool:
        pos = (event.start_mark.line + 1, event.start_mark.column + 1)
        self.documents += 1
        if self.documents > 1:
            self.problems.add(pos, (), "only one YAML document is allowed (remove '---')")
            return False
        if event.tags or event.version not in (None, (1, 2)):
            message = "YAML directives (%YAML other than 1.2, %TAG) are not supported"
            self.problems.add(pos, (), message)
        return True

    def value_done(self, parent: _Frame) -> None:
        # ruamel checks a key for duplicates after building its value, as here.
        if parent.expect_key and parent.duplicate is not None:
            self.fail(parent.duplicate, (), "duplicate key")
            parent.duplicate = None

    def place(self, parent: _Frame | None, pos: Pos, collection: bool) -> tuple[NodePath, bool]:
        """The path of a value or sequence item; records where it starts if it is kept."""
        if parent is None:
            # The loader knew where a root mapping or list starts, not where a root scalar does.
            self.doc.value_pos[()] = pos if collection else (1, 1)
            return (), True
        if parent.is_map:
            path, keep = (*parent.path, parent.key), parent.keep and parent.box is not None
        else:
            index = parent.key
            assert isinstance(index, int)
            parent.key = index + 1
            path, keep = (*parent.path, index), parent.box is not None
        if keep:
            self.doc.value_pos[path] = pos
        return path, keep

    def attach(self, parent: _Frame | None, value: object) -> None:
        if parent is None:
            self.root = value
        elif isinstance(parent.box, dict):
            parent.box[str(parent.key)] = value
        elif parent.box is not None:
            parent.box.append(value)

    def key(self, parent: _Frame, event: NodeEvent, pos: Pos) -> tuple[NodePath, bool]:
        kept = parent.box is not None
        if not isinstance(event, ScalarEvent):
            parent.key, parent.keep = "?", False
            if not isinstance(event, AliasEvent):
                message = "a key must be a plain name, not a list or mapping"
                self.problems.add(pos, parent.path, message)
            return (*parent.path, "?"), False
        name = event.value
        parent.key, parent.keep = name, kept
        if name == "<<" and not event.style:
            message = "merge keys ('<<') are not supported; use top-level 'sets:'"
            self.problems.add(pos, parent.path, message)
        elif name in parent.seen:
            first = parent.seen[name]
            self.problems.add(pos, (*parent.path, name), f"duplicate key (first on line {first})")
        else:
            parent.seen[name] = pos[0]
        key = self.scalar(event, pos, (*parent.path, name), as_key=True)
        if not isinstance(key, str):
            parent.keep = False
            if key in parent.typed:  # `1` and `0x1`: the same key once built
                parent.duplicate = pos
            parent.typed[key] = None
            if kept:
                message = f"a key must be a string, not {type_name(key)}"
                self.key_problems.add(pos, parent.path, message)
        path: NodePath = (*parent.path, name)
        if kept and isinstance(key, str):
            self.doc.key_pos[path] = pos
        return path, False

    def scalar(
        self, event: ScalarEvent, pos: Pos, path: NodePath, *, as_key: bool = False
    ) -> object:
        """The scalar's value as ruamel's round-trip loader builds it, as a plain type."""
        value: str = event.value
        if event.style == ">":
            value = value.replace("\a", "")  # ruamel's marks of where it folded lines
        if event.style or not event.implicit[0] or value[:1] not in _TYPED_FIRST:
            return value
        if self.problems.items or self.fatal is not None:
            return value  # only the refusals will be shown: skip the work
        tag = _resolve(value)
        if tag == _STR_TAG or (as_key and tag == _VALUE_TAG):
            return value
        if self.construct is None:
            self.construct = YAML(typ="rt", pure=True).constructor.construct_object
        node = ScalarNode(tag, value, event.start_mark, event.end_mark)
        try:
            built = self.construct(node, deep=True)
        except (ValueError, OverflowError, TypeError, IndexError) as err:
            # 2001-02-30, a 5000-digit int, `0x_` (which ruamel itself trips over).
            log.debug("YAML value construction failed: %s", type(err).__name__)
            self.fail(pos, path, _UNREADABLE)
            return value
        except YAMLError as err:
            place, _ = yaml_error_place(err, "")
            self.fail(place or pos, (), yaml_error_message(err))
            return value
        # ruamel keeps formatting in subclasses (ScalarFloat, ScalarInt...); plain types only.
        for plain_type in (bool, str, int, float):
            if isinstance(built, plain_type):
                return plain_type(built)
        return built

    def fail(self, pos: Pos, path: NodePath, message: str) -> None:
        if self.fatal is None:
            line, col = pos
            self.fatal = Problem(
                file=self.file, line=line, col=col, key_path=key_path(path), message=message
            )


def _resolver_table() -> tuple[frozenset[str] | None, Callable[[str], str]]:
    resolver = YAML(typ="rt", pure=True).resolver
    table = resolver.versioned_resolver  # first character -> [(tag, regexp)], for YAML 1.2
    first = None if None in table else frozenset(table)  # None: some resolver takes any start

    def resolve(value: str) -> str:
        return str(resolver.resolve(ScalarNode, value, (True, False)))

    return first, resolve


class _Everything(frozenset[str]):
    def __contains__(self, item: object) -> bool:
        return True


_first, _resolve = _resolver_table()
# Plain scalars that start with any other character are strings: no resolver to ask.
_TYPED_FIRST: frozenset[str] = _Everything() if _first is None else _first
_STR_TAG = "tag:yaml.org,2002:str"


def yaml_error_place(err: YAMLError, text: str) -> tuple[Pos | None, NodePath]:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    if mark is not None and getattr(mark, "line", None) is not None:
        return (mark.line + 1, mark.column + 1), ()
    if isinstance(err, ReaderError) and isinstance(err.position, int):
        at = min(err.position, len(text))
        line = text.count("\n", 0, at) + 1
        return (line, at - (text.rfind("\n", 0, at) + 1) + 1), ()
    return None, ()


def yaml_error_message(err: YAMLError) -> str:
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

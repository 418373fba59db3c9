"""One pass over YAML parser events: plain data, the position of every node, and problems.

FENCED FAST PATH.
- Replaces: ruamel.yaml's composer and round-trip constructor (`YAML(typ="rt").load`), which
  build a node graph and then CommentedMap/CommentedSeq objects, and a second walk over them
  to collect positions. Here the parser's events (libyaml's when ruamel.yaml.clib is there,
  see yamlread.py) become plain dicts, lists and scalars, with every node's position, at once.
- Gains: the reader alone, `.venv/bin/python benchmarks/yaml_reader.py` (2 shared cores, one
  run, median of 3): the 1 MiB manifest in 1.2 s on libyaml's events, 15.6 s on the pure
  parser, 31.7 s with ruamel's loader plus a position walk (~25x); issue 13's anchored
  manifest (1,000 repos reusing one group) in 0.13 s, 1.6 s and 2.8 s (~22x). Aliases share
  the anchor's objects as ruamel's do, so a reused group costs a dict lookup, not a copy.
  Fewer calls per event since (value_done only after values, an anchor's shown name worked
  out once): read_yaml of that anchored manifest 185 -> 173 million instructions (-6.5%;
  `valgrind --tool=callgrind` of 0 and 3 read_yaml calls after a warm-up load, difference / 3).
- Pinned by: tests/manifest/test_yaml_conformance.py (the data equals ruamel's loader's on a
  corpus of tricky documents and on generated ones, or the reader refuses with a located
  problem) and tests/manifest/test_manifest_speed.py (libyaml's events == the pure parser's);
  benchmarks/yaml_conformance.py SUITE_DIR measures the same against yaml-test-suite.
- Delete when: ruamel's own loader plus a position map comes within 2x of this walk on those
  two manifests, or keeping the walk equal to ruamel's semantics costs more than it saves.

What it refuses, each as one located problem: tags other than YAML's core ones (yamlscalar.py),
aliases to no anchor or to a node still open (recursion), a document whose aliases expand past
MAX_NODES nodes or MAX_DEPTH levels (alias bombs), several documents, `%YAML` other than 1.2,
duplicate keys (every one, not only the first; a key merged with `<<` and written again is an
override, not a duplicate), merge keys whose value is not a mapping or a list of mappings.
Merge keys follow ruamel's round-trip loader (YAML 1.1's merge): keys written in the mapping
win and come first, then the merged ones; among merged mappings the earlier wins.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
    SequenceStartEvent,
)

from secretsync.errors import Problem
from secretsync.manifest import yamlscalar as ys
from secretsync.manifest.yamldoc import Document, Link, Pos, Problems, at
from secretsync.names import MAX_PROBLEMS, NodePath, key_path, one_line, type_name

MAX_DEPTH = 32
# Nodes once every alias is expanded. Everything after the reader (schema, rules, records)
# walks the expanded data: a 1 MiB manifest written out holds ~100,000 nodes; 10,000 repos
# reusing one anchored pair of groups (630 KB) expand to 930,005 and load in 2.5 s of CPU.
MAX_NODES = 1_000_000

_MERGE_TYPE = "a merge key ('<<') takes a mapping or a list of mappings"


@dataclass(slots=True)
class _Anchor:
    value: object
    path: NodePath  # where it is written
    size: int  # nodes, aliases inside expanded
    height: int  # levels of collections, aliases inside expanded


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
    typed: dict[object, None] | None = None  # keys that are not strings (made when one is)
    duplicate: Pos | None = None  # of the current key: reported once its value is built
    anchor: str | None = None
    start: int = 0  # nodes read when it began
    height: int = 0  # of its deepest child
    merging: bool = False  # the current entry is a merge key's
    merges: list[tuple[NodePath, object]] | None = None  # (path, value) of each `<<` value


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
        self.anchors: dict[str, _Anchor] = {}
        self.size = 0
        self.stopped = False  # by an alias past the budget: reading on would only repeat it
        self.scalars = ys.Scalars()
        self.shown: dict[str, str] = {}  # anchor -> _shown(anchor): each alias is said with it

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
        doc = Document(
            data=self.root,
            value_pos=self.doc.value_pos,
            key_pos=self.doc.key_pos,
            links=self.doc.links,
        )
        return doc, self.key_problems.items

    def step(self, event: Event) -> bool:
        """Take one event; False to stop reading. (Most are scalars: they go first.)"""
        if isinstance(event, ScalarEvent):
            collection = False
        elif isinstance(event, CollectionEndEvent):
            return self.end()
        elif isinstance(event, (MappingStartEvent, SequenceStartEvent)):
            collection = True
        elif isinstance(event, DocumentStartEvent):
            return self.document(event)
        elif not isinstance(event, AliasEvent):
            return True  # stream start and end, document end
        else:
            collection = False
        self.size += 1
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
                if event.anchor is not None:
                    self.anchors[event.anchor] = _Anchor(value, path, 1, 0)
            elif isinstance(event, AliasEvent):
                found = self.alias(event, pos, path, parent)
                value = found.value if found is not None else None
                if keep and found is not None:
                    shown = self.shown.get(event.anchor)
                    if shown is None:
                        shown = self.shown[event.anchor] = _shown(event.anchor)
                    via = f"*{shown} {at(pos)}"
                    self.doc.link(path, Link(found.path, via, True))
        if collection:
            if len(self.stack) >= MAX_DEPTH:
                self.problems.add(pos, path, f"nested too deeply (over {MAX_DEPTH} levels)")
                return False
            assert isinstance(event, CollectionStartEvent)
            is_map = isinstance(event, MappingStartEvent)
            refused = ys.collection_tag_problem(event.tag, is_map)
            if refused is not None:
                self.problems.add(pos, path, refused)
            box: dict[str, object] | list[object] | None = None
            if keep or event.anchor is not None:  # an anchor may be used where it is kept
                value = box = {} if is_map else []
            self.stack.append(
                _Frame(path=path, is_map=is_map, box=box, anchor=event.anchor, start=self.size)
            )
        if keep:
            self.attach(parent, value)
        if parent is not None and parent.is_map:
            parent.expect_key = not parent.expect_key
            if not collection and parent.expect_key:  # a value, not a key, is done
                self.value_done(parent)
        return not self.stopped

    def end(self) -> bool:
        frame = self.stack.pop()
        height = frame.height + 1
        if frame.merges:
            self.merge(frame)
        if frame.anchor is not None:
            self.anchors[frame.anchor] = _Anchor(
                frame.box, frame.path, self.size - frame.start + 1, height
            )
        if self.stack:
            parent = self.stack[-1]
            parent.height = max(parent.height, height)
            if parent.expect_key:
                self.value_done(parent)
        return True

    def alias(
        self, event: AliasEvent, pos: Pos, path: NodePath, parent: _Frame | None
    ) -> _Anchor | None:
        """The anchor an alias names, counted in the budget; None (and a problem) if refused."""
        anchor = event.anchor
        found = self.anchors.get(anchor)
        looped = False
        for frame in self.stack:
            if frame.anchor == anchor:
                looped = True
                break
        if looped:
            name = _shown(anchor)
            self.problems.add(pos, path, f"alias *{name} is inside its own anchor (a loop)")
        elif found is None:
            name = _shown(anchor)
            self.problems.add(pos, path, f"alias *{name} names no anchor (&{name}) above it")
        elif len(self.stack) + found.height > MAX_DEPTH:
            message = f"nested too deeply through alias *{_shown(anchor)} (over {MAX_DEPTH} levels)"
            self.problems.add(pos, path, message)
            self.stopped = True
        elif self.size + found.size > MAX_NODES:
            message = f"aliases expand the document past {MAX_NODES:,} nodes (an alias bomb?)"
            self.problems.add(pos, path, message)
            self.stopped = True
        else:
            self.size += found.size - 1
            if parent is not None:
                parent.height = max(parent.height, found.height)
            return found
        return None

    def document(self, event: DocumentStartEvent) -> bool:
        pos = (event.start_mark.line + 1, event.start_mark.column + 1)
        self.documents += 1
        if self.documents > 1:
            self.problems.add(pos, (), "only one YAML document is allowed (remove '---')")
            return False
        if event.version not in (None, (1, 2)):
            version = ".".join(map(str, event.version or ()))
            message = f"YAML directive %YAML {version} is not supported (only 1.2)"
            self.problems.add(pos, (), message)
        return True

    def value_done(self, parent: _Frame) -> None:
        """After a mapping's value (its callers look at `expect_key` first: one call less a
        key). ruamel checks a key for duplicates after building its value, as here."""
        parent.merging = False
        if parent.duplicate is not None:
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
            if parent.merging:
                parent.merges = [*(parent.merges or ()), ((*parent.path, "<<"), value)]
            else:
                parent.box[str(parent.key)] = value
        elif parent.box is not None:
            parent.box.append(value)

    def merge(self, frame: _Frame) -> None:
        assert isinstance(frame.box, dict) and frame.merges
        for path, value in frame.merges:
            refused = self.doc.merge(frame.box, frame.path, path, value)
            if refused is not None:
                self.problems.add(self.doc.pos(refused), path, _MERGE_TYPE)
                return

    def key(self, parent: _Frame, event: NodeEvent, pos: Pos) -> tuple[NodePath, bool]:
        kept = parent.box is not None
        if isinstance(event, AliasEvent):
            found = self.alias(event, pos, parent.path, None)
            key: object = found.value if found is not None else None
            if not isinstance(key, str):
                parent.key, parent.keep = "?", False
                if isinstance(key, (dict, list)):
                    message = "a key must be a plain name, not a list or mapping"
                    self.problems.add(pos, parent.path, message)
                elif found is not None and kept:
                    message = f"a key must be a string, not {type_name(key)}"
                    self.key_problems.add(pos, parent.path, message)
                return (*parent.path, "?"), False
            name = key
        elif not isinstance(event, ScalarEvent):
            parent.key, parent.keep = "?", False
            self.problems.add(pos, parent.path, "a key must be a plain name, not a list or mapping")
            return (*parent.path, "?"), False
        else:
            name = event.value
        parent.key, parent.keep = name, kept
        if isinstance(event, ScalarEvent) and (
            event.tag == ys.MERGE or (name == "<<" and not event.style and event.tag is None)
        ):
            parent.merging = True
        if name in parent.seen:
            first = parent.seen[name]
            self.problems.add(pos, (*parent.path, name), f"duplicate key (first on line {first})")
        else:
            parent.seen[name] = pos[0]
        path: NodePath = (*parent.path, name)
        if parent.merging:
            return path, False
        if isinstance(event, ScalarEvent):
            key = self.scalar(event, pos, path, as_key=True)
            if event.anchor is not None:
                self.anchors[event.anchor] = _Anchor(key, path, 1, 0)
        if not isinstance(key, str):
            parent.keep = False
            if parent.typed is None:
                parent.typed = {}
            if key in parent.typed:  # `1` and `0x1`: the same key once built
                parent.duplicate = pos
            parent.typed[key] = None
            if kept:
                message = f"a key must be a string, not {type_name(key)}"
                self.key_problems.add(pos, parent.path, message)
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
        tag = event.tag
        if tag is None and (
            event.style or not event.implicit[0] or value[:1] not in ys.TYPED_FIRST
        ):
            return value
        if self.problems.items or self.fatal is not None:
            return value  # only the refusals will be shown: skip the work
        try:
            if tag is not None:
                return self.scalars.tagged(value, tag)
            tag = ys.resolve(value)
            if tag == ys.STR or (as_key and tag == ys.VALUE):
                return value
            return self.scalars.build(value, tag)
        except ys.ScalarError as err:
            if event.tag is not None:
                self.problems.add(pos, path, err.message)
            else:
                self.fail(pos, path, err.message)
            return value

    def fail(self, pos: Pos, path: NodePath, message: str) -> None:
        if self.fatal is None:
            line, col = pos
            self.fatal = Problem(
                file=self.file, line=line, col=col, key_path=key_path(path), message=message
            )


def _shown(name: str) -> str:
    """An anchor's name for a one-line message (YAML allows almost any character in it)."""
    name = one_line(name)
    return name if len(name) <= 40 else name[:37] + "..."


__all__ = ["MAX_DEPTH", "MAX_NODES", "Document", "Pos", "Problems", "Walk"]

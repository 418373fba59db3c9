"""A read YAML document: plain data, where each node is written, and how aliases reach them.

Paths are the ones the user sees (`repos[3].groups.prod.secrets.DB`). A path that goes through
an alias (`prod: *base`) or a merge key (`<<: *base`) has no place of its own: `links` says
where its nodes are written instead, so a problem there names the anchor's file:line:col and
the alias it was reached through.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from secretsync.errors import Problem
from secretsync.names import NodePath, key_path

Pos = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Link:
    """The nodes under a path are written under `target` (a path as written, no links)."""

    target: NodePath
    via: str  # "*base at line 12, col 9": said with every problem found through it
    named: bool  # through an alias (rather than an inline mapping merged with `<<`)


@dataclass(frozen=True, slots=True)
class Document:
    """A YAML document as plain values, with the position of every node."""

    data: object
    value_pos: dict[NodePath, Pos] = field(default_factory=dict)
    key_pos: dict[NodePath, Pos] = field(default_factory=dict)
    links: dict[NodePath, Link] = field(default_factory=dict)
    # False when libyaml placed the nodes: right for every node a valid manifest can hold,
    # but not always for the empty values and odd layouts that come with problems.
    exact: bool = True

    # written() of every path asked so far: the records ask for each secret's place twice.
    _written: dict[NodePath, tuple[NodePath, Link | None]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def written(self, path: NodePath) -> tuple[NodePath, Link | None]:
        """Where the node at `path` is written, and the first alias (else merge) on the way."""
        if not self.links or not path:
            return path, None
        known = self._written.get(path)
        if known is not None:
            return known
        here, first = self.written(path[:-1])
        here = (*here, path[-1])
        link = self.links.get(here)
        if link is not None:
            if first is None or (link.named and not first.named):
                first = link
            here = link.target
        self._written[path] = (here, first)
        return here, first

    def pos(self, path: NodePath) -> Pos:
        """Where the value at `path` starts (or its nearest known ancestor)."""
        if self.links:
            path, _ = self.written(path)
        while path not in self.value_pos and path:
            path = path[:-1]
        return self.value_pos.get(path, (1, 1))

    def key_at(self, path: NodePath) -> Pos:
        """Where the key of the mapping entry at `path` is (the value's place otherwise)."""
        if not self.links:
            return self.key_pos.get(path) or self.pos(path)
        if path:
            parent, _ = self.written(path[:-1])
            found = self.key_pos.get((*parent, path[-1]))
            if found is None:  # a merged key: written in the mapping merged in
                found = self.key_pos.get(self.written(path)[0])
            if found is not None:
                return found
        return self.pos(path)

    def via(self, path: NodePath) -> str:
        """ " (through *base at line 12, col 9)" when `path` is reached through an alias."""
        _, link = self.written(path)
        return f" (through {link.via})" if link is not None else ""

    def link(self, path: NodePath, link: Link) -> None:
        self.links[path] = link
        self._written.clear()  # while reading: a place asked for before may now be linked

    def merge(
        self, box: dict[str, object], path: NodePath, merge_path: NodePath, value: object
    ) -> NodePath | None:
        """Merge `value` (the `<<` value at `merge_path`) into the mapping `box` at `path`:
        the keys it does not write itself, after its own, the earlier mapping winning, as
        ruamel's loader does. The path of a value that is not a mapping, if one is."""
        sources = [(merge_path, value)]
        if isinstance(value, list):
            sources = [((*merge_path, index), item) for index, item in enumerate(value)]
        for source_path, source in sources:
            if not isinstance(source, dict):
                return source_path
            _, link = self.written(source_path)
            via = link.via if link else f"'<<' {at(self.value_pos[merge_path])}"
            for key, item in source.items():
                if key not in box:
                    box[key] = item
                    target, _ = self.written((*source_path, key))
                    self.link((*path, key), Link(target, via, link is not None))
        return None


def at(pos: Pos) -> str:
    return f"at line {pos[0]}, col {pos[1]}"


class Problems:
    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[Problem] = []

    def add(self, pos: Pos | None, path: NodePath, message: str) -> None:
        line, col = pos if pos else (None, None)
        self.items.append(
            Problem(file=self.file, line=line, col=col, key_path=key_path(path), message=message)
        )


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

"""The records of a structural plan (`plan --base`): what changed between the manifest at a base
revision and the one in the working tree. Names, labels and marks only: never a value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

KeyChangeKind = Literal["added", "removed", "source", "content", "unchanged"]
# How the values of a key compare between the revisions, never the values themselves:
Content = Literal["changed", "unchanged", "outside", "environment", "unreadable"]
Change = Literal["added", "removed", "changed", "unchanged"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BaseInfo:
    ref: str
    commit: str
    manifest: str  # the manifest's path in the repository, '/'-separated
    status: Literal["ok", "missing", "invalid"]
    problems: tuple[str, ...] = ()  # why the base manifest is invalid, or its files unusable


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryChange:
    """A repository entry: one repository, or an org selector."""

    repo: str  # the entry's label at the head (at the base when removed)
    change: Literal["added", "removed", "changed", "unchanged"]
    org: str | None = None  # selectors only
    before: tuple[tuple[str, ...], tuple[str, ...]] | None = None  # (match, exclude)
    after: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    selects: str = ""  # in words, as far as the manifest alone says


@dataclass(frozen=True, slots=True, kw_only=True)
class SetChange:
    """A named set that some group uses, at either revision."""

    name: str
    change: Literal["added", "removed", "changed", "unchanged"]  # its declaration
    used_by: tuple[str, ...]  # "repo · group" at the head (at the base when removed)
    uses_changed: bool  # a group started or stopped using it


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupChange:
    repo: str
    group: str
    change: Literal["added", "removed", "unchanged"]
    prune_before: bool | None
    prune_after: bool | None
    unlisted: tuple[str, ...] = ()  # whole .env files outside the repository (keys unknown)

    @property
    def prune_switched(self) -> bool:
        return None not in (self.prune_before, self.prune_after) and (
            self.prune_before != self.prune_after
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyChange:
    repo: str
    group: str
    key: str
    change: KeyChangeKind
    before: str | None  # source label at the base
    after: str | None  # source label at the head
    content: Content | None  # None when the key is on one side only
    deletes: bool = False  # removed from a group that prunes: apply deletes the stored key


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class StructuralPlan:
    base: BaseInfo
    entries: tuple[EntryChange, ...]
    groups: tuple[GroupChange, ...]
    keys: tuple[KeyChange, ...]
    sets: tuple[SetChange, ...] = ()
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"StructuralPlan({self.base.ref}, {len(self.keys)} keys)"

    @property
    def has_changes(self) -> bool:
        return (
            any(k.change != "unchanged" for k in self.keys)
            or any(g.change != "unchanged" or g.prune_switched for g in self.groups)
            or any(e.change != "unchanged" for e in self.entries)
            or any(s.change != "unchanged" or s.uses_changed for s in self.sets)
        )

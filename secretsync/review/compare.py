"""The structural plan: what a pull request changes in the manifest, compared with a base
revision, per (repository entry, group, key). Offline by construction: this module and the
ones it imports never build an HTTP client, read a token or an environment value.

    structural_plan(manifest_path, "origin/main", environ) -> StructuralPlan

`environ` only tells git where it is (PATH, HOME): see `gitrev`.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from secretsync.errors import ManifestError, SourceError
from secretsync.manifest.loader import load_manifest, manifest_from_bytes
from secretsync.models import RepoSpec
from secretsync.names import capped
from secretsync.review.gitrev import Outside, Revision, repository_top
from secretsync.review.sides import (
    RevisionReader,
    SideGroup,
    SideRepo,
    Value,
    WorkTreeReader,
    read_side,
    source_refs,
)

KeyChangeKind = Literal["added", "removed", "source", "content", "unchanged"]
# How the values of a key compare between the revisions, never the values themselves:
Content = Literal["changed", "unchanged", "outside", "environment", "unreadable"]


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
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"StructuralPlan({self.base.ref}, {len(self.keys)} keys)"

    @property
    def has_changes(self) -> bool:
        return (
            any(k.change != "unchanged" for k in self.keys)
            or any(g.change != "unchanged" or g.prune_switched for g in self.groups)
            or any(e.change != "unchanged" for e in self.entries)
        )


def structural_plan(
    manifest_path: Path,
    ref: str,
    environ: Mapping[str, str],
    *,
    extra_roots: Sequence[Path] = (),
) -> StructuralPlan:
    """Compare the manifest in the working tree with the one at `ref`. The head must be valid
    (ManifestError, SourceError otherwise: the pull request needs fixing); a base that is
    missing or invalid is said in the plan, and every head key then reads as added."""
    head = load_manifest(manifest_path, extra_roots=extra_roots)
    top = repository_top(head.root, environ)
    revision = Revision(top, ref, environ)
    head_repos, problems = read_side(head, WorkTreeReader(head, top))
    if problems:
        raise SourceError(capped(problems, str(manifest_path)))
    real_manifest = Path(os.path.realpath(manifest_path))
    info, base_repos = _read_base(revision, real_manifest, top)
    return compare(info, base_repos, head_repos)


def _read_base(revision: Revision, manifest: Path, top: Path) -> tuple[BaseInfo, list[SideRepo]]:
    """The manifest at the base revision, at the same place in the repository as the head's,
    and its keys; what went wrong is said in BaseInfo, never raised."""
    relative = os.path.relpath(manifest, top).replace(os.sep, "/")
    info = BaseInfo(ref=revision.ref, commit=revision.commit, manifest=relative, status="ok")
    shown = f"{revision.ref}:{relative}"
    located = revision.resolve(relative.split("/"))
    data = revision.read(located) if isinstance(located, tuple) else located
    if isinstance(data, Outside):
        data = "is a symlink to a file outside the repository"
    if data == "does not exist":
        return replace(info, status="missing"), []
    if isinstance(data, str):
        return replace(info, status="invalid", problems=(f"{shown}: the manifest {data}",)), []
    try:
        base = manifest_from_bytes(data, manifest, shown=shown)
    except ManifestError as err:
        return replace(info, status="invalid", problems=tuple(str(p) for p in err.problems)), []
    reader = RevisionReader(base, top, revision)
    reader.prefetch(source_refs(base))
    repos, problems = read_side(base, reader)
    return replace(info, problems=tuple(f"at {revision.ref}: {p}" for p in problems)), repos


def compare(base: BaseInfo, before: list[SideRepo], after: list[SideRepo]) -> StructuralPlan:
    old = {repo.identity: repo for repo in before}
    new_ids = {repo.identity for repo in after}
    entries: list[EntryChange] = []
    groups: list[GroupChange] = []
    keys: list[KeyChange] = []
    explicit = [r.spec.slug for r in after if r.spec.slug]
    for repo in after:
        was = old.get(repo.identity)
        entries.append(_entry(was, repo, explicit))
        label = repo.spec.label
        for name, group in repo.groups.items():
            previous = was.groups.get(name) if was else None
            groups.append(_group(label, previous, group))
            keys += _keys(label, previous, group)
        for name, gone in was.groups.items() if was else ():
            if name not in repo.groups:
                groups.append(_group(label, gone, None))
                keys += _keys(label, gone, None)
    for repo in before:
        if repo.identity not in new_ids:
            entries.append(_entry(repo, None, explicit))
            for group in repo.groups.values():
                groups.append(_group(repo.spec.label, group, None))
                keys += _keys(repo.spec.label, group, None)
    warnings = [
        f"{g.repo} · {g.group}: the keys of {source} are not listed (outside the repository: "
        "not compared)"
        for g in groups
        for source in g.unlisted
    ]
    return StructuralPlan(
        base=base,
        entries=tuple(entries),
        groups=tuple(groups),
        keys=tuple(keys),
        warnings=tuple(warnings),
    )


def _selector(spec: RepoSpec) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return spec.match, spec.exclude


def _entry(was: SideRepo | None, now: SideRepo | None, explicit: list[str]) -> EntryChange:
    spec = now.spec if now else was.spec if was else None
    assert spec is not None
    change: Literal["added", "removed", "changed", "unchanged"]
    if was is None:
        change = "added"
    elif now is None:
        change = "removed"
    elif spec.org and _selector(was.spec) != _selector(spec):
        change = "changed"
    else:
        change = "unchanged"
    if not spec.org:
        return EntryChange(repo=spec.label, change=change)
    return EntryChange(
        repo=spec.label,
        change=change,
        org=spec.org,
        before=_selector(was.spec) if was else None,
        after=_selector(now.spec) if now else None,
        selects=_selects(spec, explicit) if now else "",
    )


def _selects(spec: RepoSpec, explicit: list[str]) -> str:
    """What an org selector picks, in words; the org's repositories are not listed offline,
    but the manifest's own entries it would also pick are named (each repository may be
    managed once)."""
    words = f"every repository of {spec.org}"
    if spec.match:
        words += " whose name matches " + " or ".join(spec.match)
    if spec.exclude:
        words += ", except " + ", ".join(spec.exclude)
    also = [
        slug
        for slug in explicit
        if slug.lower().startswith(f"{(spec.org or '').lower()}/")
        and (not spec.match or any(fnmatch.fnmatchcase(slug.split("/")[1], g) for g in spec.match))
        and not any(fnmatch.fnmatchcase(slug.split("/")[1], g) for g in spec.exclude)
    ]
    if also:
        words += "; it also matches " + ", ".join(also) + ", listed on its own"
    return words


def _group(repo: str, was: SideGroup | None, now: SideGroup | None) -> GroupChange:
    some = now or was
    assert some is not None
    return GroupChange(
        repo=repo,
        group=some.name,
        change="added" if was is None else "removed" if now is None else "unchanged",
        prune_before=was.prune if was else None,
        prune_after=now.prune if now else None,
        unlisted=now.unlisted if now else (),
    )


def _keys(repo: str, was: SideGroup | None, now: SideGroup | None) -> list[KeyChange]:
    before = was.keys if was else {}
    after = now.keys if now else {}
    out = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        kind: KeyChangeKind
        content = _content(old, new) if old and new else None
        if old is None:
            kind = "added"
        elif new is None:
            kind = "removed"
        elif old.label != new.label:
            kind = "source"
        elif content == "changed":
            kind = "content"
        else:
            kind = "unchanged"
        # Deleted by apply only if the group is still managed and prunes: a group or an
        # entry that left the manifest is no longer managed, its keys stay as stored.
        deletes = kind == "removed" and now is not None and now.prune
        out.append(
            KeyChange(
                repo=repo,
                group=(now or was).name,  # type: ignore[union-attr]
                key=key,
                change=kind,
                before=old.label if old else None,
                after=new.label if new else None,
                content=content,
                deletes=deletes,
            )
        )
    return out


def _content(old: Value, new: Value) -> Content:
    for side in (old, new):
        if side.where != "repository":
            return side.where
    assert old.content is not None and new.content is not None
    return "unchanged" if old.content == new.content else "changed"

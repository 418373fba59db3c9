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
from dataclasses import replace
from pathlib import Path

from secretsync.errors import ManifestError, SourceError
from secretsync.manifest.loader import load_manifest, manifest_from_bytes
from secretsync.models import RepoSpec
from secretsync.names import capped
from secretsync.review.gitrev import Outside, Revision, repository_top
from secretsync.review.records import (
    BaseInfo,
    Change,
    Content,
    EntryChange,
    GroupChange,
    KeyChange,
    KeyChangeKind,
    SetChange,
    StructuralPlan,
)
from secretsync.review.sides import (
    RevisionReader,
    SetUse,
    SideGroup,
    SideRepo,
    Value,
    WorkTreeReader,
    read_side,
    set_uses,
    source_refs,
)

__all__ = ["StructuralPlan", "compare", "compare_sets", "structural_plan"]


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
    info, base_repos, base_sets = _read_base(revision, real_manifest, top)
    planned = compare(info, base_repos, head_repos)
    return replace(planned, sets=compare_sets(base_sets, set_uses(head)))


def _read_base(
    revision: Revision, manifest: Path, top: Path
) -> tuple[BaseInfo, list[SideRepo], dict[str, SetUse]]:
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
        return replace(info, status="missing"), [], {}
    if isinstance(data, str):
        return replace(info, status="invalid", problems=(f"{shown}: the manifest {data}",)), [], {}
    try:
        base = manifest_from_bytes(data, manifest, shown=shown)
    except ManifestError as err:
        said = tuple(str(p) for p in err.problems)
        return replace(info, status="invalid", problems=said), [], {}
    reader = RevisionReader(base, top, revision)
    reader.prefetch(source_refs(base))
    repos, problems = read_side(base, reader)
    info = replace(info, problems=tuple(f"at {revision.ref}: {p}" for p in problems))
    return info, repos, set_uses(base)


def compare_sets(before: dict[str, SetUse], after: dict[str, SetUse]) -> tuple[SetChange, ...]:
    out = []
    for name in [*after, *(n for n in before if n not in after)]:
        was, now = before.get(name), after.get(name)
        change: Change
        if was is None:
            change = "added"
        elif now is None:
            change = "removed"
        else:
            change = "changed" if was.declares != now.declares else "unchanged"
        out.append(
            SetChange(
                name=name,
                change=change,
                used_by=(now or was).used_by,  # type: ignore[union-attr]
                uses_changed=was is None or now is None or set(was.used_by) != set(now.used_by),
            )
        )
    return tuple(out)


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
    change: Change
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

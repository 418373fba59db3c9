"""Compare desired and remote state: pure functions from values to a Plan (no I/O), one
group at a time (plan_group), then joined (join_plan)."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from secretsync.models import Action, Change, DesiredGroup, IgnoredKey, Plan, Target
from secretsync.names import KEY_RE, quote


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    """`--repo/--group/--key` globs; empty means everything."""

    repos: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        return bool(self.repos or self.groups or self.keys)

    def describe(self) -> tuple[str, ...]:
        return (
            tuple(f"--repo {g}" for g in self.repos)
            + tuple(f"--group {g}" for g in self.groups)
            + tuple(f"--key {g}" for g in self.keys)
        )

    def wants_target(self, target: Target) -> bool:
        return _any_match(_repo_names(target), self.repos) and _any_match(
            (target.group,), self.groups
        )

    def wants_key(self, key: str) -> bool:
        return _any_match((key,), self.keys)


def unmatched_filters(selection: Selection, targets: Sequence[Target], plan: Plan) -> list[str]:
    """A warning per --repo/--group/--key glob that selected nothing: a typo in a filter must
    not look like "no changes". `targets` are all the manifest's, before --repo/--group."""
    out = []
    for glob in selection.repos:
        if not any(_any_match(_repo_names(t), (glob,)) for t in targets):
            out.append(f"--repo {glob} matched no repository of the manifest")
    in_repos = [t for t in targets if _any_match(_repo_names(t), selection.repos)]
    for glob in selection.groups:
        if not any(fnmatch.fnmatchcase(t.group, glob) for t in in_repos):
            out.append(f"--group {glob} matched no group of the selected repositories")
    for glob in selection.keys:
        if not any(fnmatch.fnmatchcase(c.key, glob) for c in plan.changes):
            out.append(f"--key {glob} matched no key of the selected groups")
    return out


def _repo_names(target: Target) -> tuple[str, ...]:
    """What --repo may match a repository by: org/repo, id:UUID, or the bare id."""
    return (target.repo, f"id:{target.repo_id}", target.repo_id)


def _any_match(names: Sequence[str], globs: Sequence[str]) -> bool:
    if not globs:
        return True
    return any(fnmatch.fnmatchcase(name, glob) for name in names for glob in globs)


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupPlan:
    """The changes for one (repo, group): callers that read groups one by one plan each as its
    listing arrives, then join the parts (join_plan)."""

    target: Target
    changes: tuple[Change, ...]
    warnings: tuple[str, ...]
    ignored: tuple[IgnoredKey, ...] = ()


def plan_group(
    target: Target,
    group: DesiredGroup,
    stored: Mapping[str, object],
    *,
    selection: Selection = Selection(),
    overwrite_unknown: bool = False,
) -> GroupPlan:
    """One Change per managed key and per deletion of one target the selection wants, keys in
    the group's order; `stored` is its listing. Deletions happen only where the target prunes,
    and only in groups the manifest names: a group the manifest does not name is never
    planned, so it can never lose a key."""
    changes: list[Change] = []
    warnings: list[str] = []
    every_key = not selection.keys  # skips a glob test per key in the common case
    wanted = {s.key for s in group.secrets}
    for secret in group.secrets:
        if not (every_key or selection.wants_key(secret.key)):
            continue
        action = _compare(secret.key, secret.value, stored, overwrite_unknown)
        if action is Action.UNKNOWN:
            warnings.append(
                f"{target.repo} group {target.group}: {secret.key} is stored without a "
                "readable value; left alone (use --overwrite-unknown to replace it)"
            )
        changes.append(
            Change(
                repo=target.repo,
                repo_id=target.repo_id,
                group=target.group,
                key=secret.key,
                action=action,
                source=secret.source,
                value=secret.value if action in (Action.CREATE, Action.UPDATE) else None,
            )
        )
    ignored = tuple(
        IgnoredKey(repo=target.repo, repo_id=target.repo_id, group=target.group, key=key)
        for key in stored
        if not KEY_RE.fullmatch(key)
    )
    if ignored:
        warnings.append(_ignored_warning(target, ignored))
    if target.prune:
        unmanaged = (k for k in stored if k not in wanted and KEY_RE.fullmatch(k))
        for key in sorted(k for k in unmanaged if selection.wants_key(k)):
            changes.append(
                Change(
                    repo=target.repo,
                    repo_id=target.repo_id,
                    group=target.group,
                    key=key,
                    action=Action.DELETE,
                    source=None,
                )
            )
    return GroupPlan(
        target=target, changes=tuple(changes), warnings=tuple(warnings), ignored=ignored
    )


_SHOWN_IGNORED = 5


def _ignored_warning(target: Target, ignored: Sequence[IgnoredKey]) -> str:
    """One line per group, however many keys a server lists: a few names, then a count."""
    n = len(ignored)
    names = ", ".join(quote(i.key) for i in ignored[:_SHOWN_IGNORED])
    more = f" and {n - _SHOWN_IGNORED} more" if n > _SHOWN_IGNORED else ""
    them = "it is" if n == 1 else "they are"
    return (
        f"{target.repo} group {target.group}: the API lists {n} key{'' if n == 1 else 's'} "
        f"that {'is not a valid secret name' if n == 1 else 'are not valid secret names'} "
        f"({names}{more}); {them} left alone, never written or deleted"
    )


def join_plan(parts: Sequence[GroupPlan], selection: Selection = Selection()) -> Plan:
    """The Plan of the groups' parts, in the order given (the manifest's)."""
    return Plan(
        changes=tuple(change for part in parts for change in part.changes),
        targets=tuple(part.target for part in parts),
        partial=selection.partial,
        filters=selection.describe(),
        warnings=tuple(warning for part in parts for warning in part.warnings),
        ignored=tuple(key for part in parts for key in part.ignored),
    )


_ABSENT = object()


def _compare(
    key: str,
    value: object,
    stored: Mapping[str, object],
    overwrite_unknown: bool,
) -> Action:
    current = stored.get(key, _ABSENT)
    if current is _ABSENT:
        return Action.CREATE
    if current is None:
        return Action.UPDATE if overwrite_unknown else Action.UNKNOWN
    return Action.UNCHANGED if current == value else Action.UPDATE

"""Small builders for records, shared by the unit tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from secretsync.models import (
    Action,
    Change,
    DesiredGroup,
    DesiredSecret,
    Plan,
    Secret,
    Target,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteGroup:
    """What the API holds now in one (repository, group): a listing with its target."""

    target: Target
    # key -> stored value; None when the entry came without a value ("unknown", never "empty")
    secrets: dict[str, Secret | None] = field(hash=False)


def target(
    repo: str = "acme/backend",
    group: str = "default",
    *,
    prune: bool = False,
    repo_id: str | None = None,
) -> Target:
    return Target(repo=repo, repo_id=repo_id or f"id-{repo}", group=group, prune=prune)


def desired(group: str = "default", *, prune: bool = False, **values: str | bytes) -> DesiredGroup:
    secrets = tuple(
        DesiredSecret(
            key=k, value=Secret(v if isinstance(v, bytes) else v.encode()), source=f"env:{k}_SRC"
        )
        for k, v in sorted(values.items())
    )
    return DesiredGroup(name=group, prune=prune, secrets=secrets)


def remote(t: Target, **values: str | bytes | None) -> RemoteGroup:
    stored: dict[str, Secret | None] = {}
    for k, v in values.items():
        stored[k] = None if v is None else Secret(v if isinstance(v, bytes) else v.encode())
    return RemoteGroup(target=t, secrets=stored)


def change(
    key: str, action: Action, *, t: Target | None = None, value: str | None = None
) -> Change:
    t = t or target()
    return Change(
        repo=t.repo,
        repo_id=t.repo_id,
        group=t.group,
        key=key,
        action=action,
        source=None if action is Action.DELETE else f"env:{key}_SRC",
        value=Secret(value.encode()) if value is not None else None,
    )


def plan_of(*changes: Change, targets: tuple[Target, ...] | None = None) -> Plan:
    if targets is None:
        seen: dict[tuple[str, str], Target] = {}
        for c in changes:
            seen.setdefault(
                (c.repo_id, c.group),
                Target(repo=c.repo, repo_id=c.repo_id, group=c.group, prune=False),
            )
        targets = tuple(seen.values())
    return Plan(changes=changes, targets=targets)

"""Shared helpers of the plan tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from secretsync.models import DesiredGroup, Plan, Target
from secretsync.plan.planner import Selection, join_plan, plan_group
from tests.factories import RemoteGroup

EVERYTHING = Selection()


def build_plan(
    desired: Sequence[tuple[Target, DesiredGroup]],
    remote: Mapping[tuple[str, str], RemoteGroup],
    *,
    selection: Selection = EVERYTHING,
    overwrite_unknown: bool = False,
) -> Plan:
    """The whole plan in one call (the pipeline plans each group as its listing arrives).

    One Change per managed key and per deletion, in manifest order, keys sorted.

    `desired` pairs each target with what the manifest wants there; `remote` holds the
    listing of every (repo_id, group) in `desired`. Deletions happen only where the target
    prunes, and only in groups the manifest names: a group missing from `desired` is never
    looked at, so it can never lose a key.
    """
    parts = [
        plan_group(
            target,
            group,
            remote[(target.repo_id, target.group)].secrets,
            selection=selection,
            overwrite_unknown=overwrite_unknown,
        )
        for target, group in desired
        if selection.wants_target(target)
    ]
    return join_plan(parts, selection)

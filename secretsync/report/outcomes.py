"""What the three report formats share: each change's outcome, the counts, an outcome in words."""

from __future__ import annotations

from collections import Counter

from secretsync.models import Action, ApplyResult, Outcome, Plan

_ACTIONS = (Action.CREATE, Action.UPDATE, Action.DELETE, Action.UNCHANGED, Action.UNKNOWN)


def outcomes_of(plan: Plan, result: ApplyResult | None) -> list[Outcome | None]:
    if result is None:
        return [None] * len(plan.changes)
    return list(result.outcomes)


def summarize(plan: Plan, result: ApplyResult | None) -> dict[str, int]:
    counts = Counter(c.action for c in plan.changes)
    summary = {a.value: counts[a] for a in _ACTIONS}
    statuses = Counter(o.status for o in result.outcomes) if result else Counter()
    summary["failed"] = statuses["failed"]
    if result is not None:
        summary["not_started"] = statuses["not_started"]
        if statuses["skipped"]:
            summary["skipped"] = statuses["skipped"]
    if plan.ignored:
        summary["ignored"] = len(plan.ignored)
    return summary


MAX_IGNORED_SHOWN = 100  # a server may list a million odd keys: the count says how many
MAX_IGNORED_KEY_CHARS = 200


def shown_key(key: str) -> str:
    """A listed key as a report shows it: cut when absurdly long (escaping is the format's)."""
    if len(key) <= MAX_IGNORED_KEY_CHARS:
        return key
    return key[: MAX_IGNORED_KEY_CHARS - 3] + "..."


def outcome_words(outcome: Outcome | None) -> str:
    if outcome is None:
        return "planned"
    if outcome.status in ("failed", "skipped") and outcome.error is not None:
        words = f"{outcome.status}: {outcome.error.error_code}: {outcome.error.message}"
        if outcome.operation_id:
            words += f" (operation {outcome.operation_id})"
        return words
    return outcome.status.replace("_", " ")

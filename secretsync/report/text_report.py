"""The terminal report: a Terraform-style listing, the failures alone (--quiet), the summary
line.

Nothing here ever sees a value: reports are built from Change fields other than `value`.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from secretsync.models import Action, ApplyResult, Change, Outcome, Plan
from secretsync.names import one_line
from secretsync.report.outcomes import outcome_words, outcomes_of, summarize

_COLORS = {
    Action.CREATE: "\x1b[32m",
    Action.UPDATE: "\x1b[33m",
    Action.DELETE: "\x1b[31m",
    Action.UNCHANGED: "\x1b[2m",
    Action.UNKNOWN: "\x1b[35m",
}

_RESET = "\x1b[0m"

_BOLD = "\x1b[1m"


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def _change_line(change: Change, color: bool, widths: tuple[int, int], tail: str = "") -> str:
    symbol = _paint(change.action.symbol, _COLORS[change.action], color)
    source = one_line(change.source or "not in the manifest")
    key = one_line(change.key)
    if not tail:
        return f"  {symbol} {key:<{widths[0]}}  {source}"
    return f"  {symbol} {key:<{widths[0]}}  {source:<{widths[1]}}  {tail}"


def _widths(changes: list[Change]) -> tuple[int, int]:
    """Column widths for key and source, so results line up (capped: one odd name must not
    push every line off the screen)."""
    keys = [len(c.key) for c in changes] or [0]
    sources = [len(c.source or "") for c in changes] or [0]
    return min(max(keys), 40), min(max(sources), 60)


def render_text(
    command: str,
    plan: Plan,
    result: ApplyResult | None = None,
    *,
    color: bool = False,
    verbose: bool = False,
) -> str:
    """Terraform-style listing; unchanged keys only with verbose; deletions listed apart."""
    lines: list[str] = []
    pairs = list(zip(plan.changes, outcomes_of(plan, result), strict=True))
    widths = _widths([c for c in plan.changes if c.action is not Action.DELETE])
    by_target: dict[tuple[str, str], list[tuple[Change, Outcome | None]]] = defaultdict(list)
    for change, outcome in pairs:
        by_target[(change.repo_id, change.group)].append((change, outcome))
    for target in plan.targets:
        rows = by_target[(target.repo_id, target.group)]
        shown = [
            (c, o)
            for c, o in rows
            if c.action is not Action.DELETE and (verbose or c.action is not Action.UNCHANGED)
        ]
        unchanged = sum(1 for c, _ in rows if c.action is Action.UNCHANGED)
        prune = " [prune]" if target.prune else ""
        heading = _paint(f"{one_line(target.repo)} · {one_line(target.group)}{prune}", _BOLD, color)
        if not shown:
            if verbose or any(c.action is Action.DELETE for c, _ in rows):
                lines.append(f"{heading}: {unchanged} unchanged")
            continue
        lines.append(heading)
        for change, outcome in shown:
            lines.append(_change_line(change, color, widths, _result_tail(change, outcome)))
        if unchanged and not verbose:
            lines.append(f"    ({unchanged} unchanged)")
    deletions = [(c, o) for c, o in pairs if c.action is Action.DELETE]
    if deletions:
        lines.append("")
        lines.append(_paint("Deletions (prune: on):", _BOLD, color))
        for change, outcome in deletions:
            where = f"{one_line(change.repo)} · {one_line(change.group)} · {one_line(change.key)}"
            symbol = _paint("-", _COLORS[Action.DELETE], color)
            tail = _result_tail(change, outcome)
            lines.append(f"  {symbol} {where}" + (f"  {tail}" if tail else ""))
    for warning in plan.warnings:
        lines.append(f"warning: {one_line(warning)}")
    if deletions and result is None:
        lines.append(f"warning: {len(deletions)} secret(s) will be deleted because prune is on.")
    if lines:
        lines.append("")
    lines.append(summary_line(command, plan, result))
    return "\n".join(lines) + "\n"


def _result_tail(change: Change, outcome: Outcome | None) -> str:
    if outcome is None or not change.action.writes:
        return ""
    return one_line(outcome_words(outcome))


def render_failures(result: ApplyResult) -> str:
    """Just the failed and held-back changes, one line each (what `--quiet` still shows)."""
    lines = [
        f"  ! {one_line(o.change.repo)} · {one_line(o.change.group)} · {one_line(o.change.key)}  "
        f"{one_line(outcome_words(o))}"
        for o in result.outcomes
        if o.status in ("failed", "skipped")
    ]
    return "\n".join(lines) + "\n" if lines else ""


def summary_line(command: str, plan: Plan, result: ApplyResult | None = None) -> str:
    s = summarize(plan, result)
    scope = " (partial: " + one_line(" ".join(plan.filters)) + ")" if plan.partial else ""
    if result is None:
        if not plan.has_changes:
            return f"No changes. {s['unchanged']} secret(s) up to date{scope}."
        return (
            f"Plan: {s['create']} to create, {s['update']} to update, {s['delete']} to delete, "
            f"{s['unchanged']} unchanged{scope}."
        )
    ok = Counter(o.change.action for o in result.outcomes if o.status == "success")
    text = (
        f"Apply: {ok[Action.CREATE]} created, {ok[Action.UPDATE]} updated, "
        f"{ok[Action.DELETE]} deleted, {s['unchanged']} unchanged, {s['failed']} failed"
    )
    if s.get("not_started"):
        text += f", {s['not_started']} not started"
    if s.get("skipped"):
        text += f", {s['skipped']} deletion(s) held back"
    if result.interrupted:
        text += " (interrupted)"
    return text + scope + "."

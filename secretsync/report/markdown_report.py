"""The Markdown report: a pull request comment, with every name escaped.

Nothing here ever sees a value: reports are built from Change fields other than `value`.
"""

from __future__ import annotations

import html
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from secretsync import __version__
from secretsync.models import Action, ApplyResult, Change, Outcome, Plan
from secretsync.names import one_line
from secretsync.report.outcomes import (
    MAX_IGNORED_SHOWN,
    outcome_words,
    outcomes_of,
    shown_key,
    summarize,
)

_MD_VERB = {
    Action.CREATE: "create",
    Action.UPDATE: "update",
    Action.DELETE: "**delete**",
    Action.UNCHANGED: "unchanged",
    Action.UNKNOWN: "unknown (left alone)",
}


def _md(text: str) -> str:
    """Escape what would break a table cell or start Markdown/HTML markup."""
    text = one_line(text)
    for ch in "\\|`*_<>[]":
        text = text.replace(ch, "\\" + ch)
    return text


def render_markdown(command: str, plan: Plan, result: ApplyResult | None = None) -> str:
    """A PR-comment-ready report: totals first, deletions called out, a section per repo."""
    summary = summarize(plan, result)
    title = "secretsync plan" if command == "plan" else "secretsync apply"
    lines = [f"### {title}", ""]
    if result is None:
        totals = (
            f"**{summary['create']}** to create, **{summary['update']}** to update, "
            f"**{summary['delete']}** to delete, {summary['unchanged']} unchanged"
        )
    else:  # what happened, as the terminal summary counts it: a failed create created nothing
        done = Counter(o.change.action for o in result.outcomes if o.status == "success")
        totals = (
            f"**{done[Action.CREATE]}** created, **{done[Action.UPDATE]}** updated, "
            f"**{done[Action.DELETE]}** deleted, {summary['unchanged']} unchanged, "
            f"**{summary['failed']}** failed"
        )
        if summary.get("not_started"):
            totals += f", {summary['not_started']} not started"
        if summary.get("skipped"):
            totals += f", **{summary['skipped']}** deletion(s) held back"
    if summary["unknown"]:
        totals += f", {summary['unknown']} unknown"
    lines.append(totals + ".")
    lines.append("")
    if plan.partial:
        lines += [f"> Partial: limited by `{' '.join(plan.filters)}`.", ""]
    if result is not None and result.interrupted:
        lines += ["> Interrupted: some changes were not applied.", ""]
    deletions = [c for c in plan.changes if c.action is Action.DELETE]
    if deletions:
        said = "secret(s) will be deleted (prune):" if result is None else "deletion(s) (prune):"
        lines.append(f"> [!WARNING]\n> {len(deletions)} {said}")
        lines += [f"> - {_code(c.repo)} / {_code(c.group)} / {_code(c.key)}" for c in deletions]
        lines.append("")
    if plan.ignored:
        n = len(plan.ignored)
        lines.append(
            f"> [!WARNING]\n> {n} listed key(s) are not valid secret names; "
            "left alone, never written or deleted:"
        )
        lines += [
            f"> - {_code(i.repo)} / {_code(i.group)} / {_code(shown_key(i.key))}"
            for i in plan.ignored[:MAX_IGNORED_SHOWN]
        ]
        if n > MAX_IGNORED_SHOWN:
            lines.append(f"> - and {n - MAX_IGNORED_SHOWN} more")
        lines.append("")
    for warning in plan.warnings:
        lines.append(f"- ⚠️ {_md(warning)}")
    if plan.warnings:
        lines.append("")
    pairs = list(zip(plan.changes, outcomes_of(plan, result), strict=True))
    repos_with_changes = len(_unique(c.repo for c in plan.changes if c.action.writes))
    by_repo: dict[str, list[tuple[Change, Outcome | None]]] = defaultdict(list)
    for change, outcome in pairs:
        by_repo[change.repo].append((change, outcome))
    for repo, rows in by_repo.items():
        n_pending = sum(1 for c, _ in rows if c.action.writes)
        # Open the sections with changes, unless there are so many that the comment turns
        # into a wall: then totals and deletions above carry the review.
        opened = " open" if n_pending and repos_with_changes <= _OPEN_SECTIONS else ""
        lines.append(
            f"<details{opened}><summary><code>{html.escape(one_line(repo))}</code>: "
            f"{n_pending} change(s)"
            f", {len(rows) - n_pending} other</summary>"
        )
        lines.append("")
        header = "| | group | key | action | source |"
        rule = "|---|---|---|---|---|"
        if result is not None:
            header += " result |"
            rule += "---|"
        lines += [header, rule]
        for change, outcome in rows:
            source = _code(change.source) if change.source else "not in manifest"
            row = (
                f"| {change.action.symbol.strip() or '='} | {_md(change.group)} | "
                f"{_code(change.key)} | {_MD_VERB[change.action]} | {source} |"
            )
            if result is not None:
                words = outcome_words(outcome) if change.action.writes else "–"
                row += f" {_md(words)} |"
            lines.append(row)
        lines += ["", "</details>", ""]
    if not plan.changes:
        lines.append("Nothing is managed by this manifest (or the selection matched nothing).")
    lines.append(f"<sub>secretsync {__version__} · values are never shown</sub>")
    return "\n".join(lines) + "\n"


_OPEN_SECTIONS = 10


def _code(text: str) -> str:
    """A code span that survives any content inside a table cell: one line, its fence longer
    than any run of backticks inside it (a name from the API or a path from a pull request
    must not close it and put raw HTML or Markdown into the comment)."""
    text = one_line(text).replace("|", "\\|")
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_BACKTICKS = re.compile(r"`+")


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))

"""Render a plan or an apply result as JSON, Markdown (a PR comment) or terminal text.

Nothing here ever sees a value: reports are built from Change fields other than `value`.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from secretsync import __version__
from secretsync.models import Action, ApplyResult, Change, Outcome, Plan
from secretsync.names import one_line

REPORT_FORMAT_VERSION = 1
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
    return summary


def build_report(command: str, plan: Plan, result: ApplyResult | None = None) -> dict[str, Any]:
    """The JSON report (schemas/report.schema.json). Field names are a public contract."""
    changes = []
    for change, outcome in zip(plan.changes, outcomes_of(plan, result), strict=True):
        error = None
        if outcome is not None and outcome.error is not None:
            error = {"error_code": outcome.error.error_code, "message": outcome.error.message}
        changes.append(
            {
                "repo": change.repo,
                "repo_id": change.repo_id,
                "group": change.group,
                "key": change.key,
                "action": change.action.value,
                "source": change.source,
                "status": "planned" if outcome is None else outcome.status,
                "operation_id": None if outcome is None else outcome.operation_id,
                "error": error,
            }
        )
    return {
        "format_version": REPORT_FORMAT_VERSION,
        "command": command,
        "tool": {"name": "secretsync", "version": __version__},
        "partial": plan.partial,
        "filters": list(plan.filters),
        "interrupted": bool(result and result.interrupted),
        "summary": summarize(plan, result),
        "targets": [
            {"repo": t.repo, "repo_id": t.repo_id, "group": t.group, "prune": t.prune}
            for t in plan.targets
        ],
        "warnings": list(plan.warnings),
        "changes": changes,
    }


def render_json(command: str, plan: Plan, result: ApplyResult | None = None) -> str:
    return json.dumps(build_report(command, plan, result), indent=2) + "\n"


def render_failure(
    command: str, lines: list[str], *, markdown: bool, exit_code: int | None = None
) -> str:
    """The report of a run that stopped before it had a plan or a result: so that a report
    file never shows an older run's plan, and a PR comment says why there is none."""
    lines = [one_line(line) for line in lines]
    if not markdown:
        document = build_report(command, Plan(changes=(), targets=()))
        document["error"] = {"message": lines[0] if lines else "", "lines": lines}
        if exit_code is not None:
            document["error"]["exit_code"] = exit_code
        return json.dumps(document, indent=2) + "\n"
    fence = "```"
    body = "\n".join(f"> {line}" for line in [fence, *lines, fence])
    return (
        f"### secretsync {command}\n\n> [!CAUTION]\n> {command} failed; nothing was changed "
        f"by it.\n>\n{body}\n\n<sub>secretsync {__version__} · values are never shown</sub>\n"
    )


# ---------------------------------------------------------------------------- Markdown

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
                words = _outcome_words(outcome) if change.action.writes else "–"
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


def _outcome_words(outcome: Outcome | None) -> str:
    if outcome is None:
        return "planned"
    if outcome.status == "failed" and outcome.error is not None:
        words = f"failed: {outcome.error.error_code}: {outcome.error.message}"
        if outcome.operation_id:
            words += f" (operation {outcome.operation_id})"
        return words
    return outcome.status.replace("_", " ")


# ---------------------------------------------------------------------------- terminal

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
        lines.append(f"warning: {warning}")
    if deletions and result is None:
        lines.append(f"warning: {len(deletions)} secret(s) will be deleted because prune is on.")
    if lines:
        lines.append("")
    lines.append(summary_line(command, plan, result))
    return "\n".join(lines) + "\n"


def _result_tail(change: Change, outcome: Outcome | None) -> str:
    if outcome is None or not change.action.writes:
        return ""
    return one_line(_outcome_words(outcome))


def render_failures(result: ApplyResult) -> str:
    """Just the failed changes, one line each (what `--quiet` still shows)."""
    lines = [
        f"  ! {one_line(o.change.repo)} · {one_line(o.change.group)} · {one_line(o.change.key)}  "
        f"{one_line(_outcome_words(o))}"
        for o in result.outcomes
        if o.status == "failed"
    ]
    return "\n".join(lines) + "\n" if lines else ""


def summary_line(command: str, plan: Plan, result: ApplyResult | None = None) -> str:
    s = summarize(plan, result)
    scope = " (partial: " + " ".join(plan.filters) + ")" if plan.partial else ""
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
    if result.interrupted:
        text += " (interrupted)"
    return text + scope + "."

"""The JSON report (a public contract: schemas/report.schema.json), and the report of a run
that stopped before it had a plan (JSON, or a Markdown caution block).

Nothing here ever sees a value: reports are built from Change fields other than `value`.
"""

from __future__ import annotations

import json
from typing import Any

from secretsync import __version__
from secretsync.models import ApplyResult, Plan
from secretsync.names import one_line
from secretsync.report.outcomes import MAX_IGNORED_SHOWN, outcomes_of, shown_key, summarize

REPORT_FORMAT_VERSION = 1


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
        "ignored_keys": [
            {"repo": i.repo, "repo_id": i.repo_id, "group": i.group, "key": shown_key(i.key)}
            for i in plan.ignored[:MAX_IGNORED_SHOWN]
        ],
        "changes": changes,
    }


def render_json(command: str, plan: Plan, result: ApplyResult | None = None) -> str:
    return json.dumps(build_report(command, plan, result), indent=2) + "\n"


def render_failure(
    command: str,
    lines: list[str],
    *,
    markdown: bool,
    exit_code: int | None = None,
    nothing_changed: bool = True,
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
    changed = (
        "nothing was changed by it."
        if nothing_changed
        else "it may have changed some secrets before it stopped; run it again to converge."
    )
    return (
        f"### secretsync {command}\n\n> [!CAUTION]\n> {command} failed; {changed}"
        f"\n>\n{body}\n\n<sub>secretsync {__version__} · values are never shown</sub>\n"
    )

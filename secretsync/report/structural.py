"""Render a structural plan (`plan --base REF`) as terminal text, JSON (`kind:
"structural-plan"` in schemas/report.schema.json) or Markdown (a pull request comment).

A structural plan holds no value by construction: labels, names and changed/unchanged
marks. Names come from a pull request, so every one is put on one line (and escaped in
Markdown) like the exact plan's.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from secretsync import __version__
from secretsync.names import one_line
from secretsync.report.json_report import REPORT_FORMAT_VERSION

if TYPE_CHECKING:
    from secretsync.review.records import GroupChange, KeyChange, SetChange, StructuralPlan

KIND = "structural-plan"
SYMBOL = {"added": "+", "removed": "-", "source": "~", "content": "~", "unchanged": " "}
CONTENT_WORDS = {
    "changed": "content changed",
    "unchanged": "content unchanged",
    "outside": "outside the repository: not compared",
    "environment": "environment variable: not read",
    "unreadable": "unreadable: not compared",
}


def summarize(plan: StructuralPlan) -> dict[str, int]:
    kinds = [k.change for k in plan.keys]
    return {
        "added": kinds.count("added"),
        "removed": kinds.count("removed"),
        "source_changed": kinds.count("source"),
        "content_changed": kinds.count("content"),
        "unchanged": kinds.count("unchanged"),
        "deletions": sum(1 for k in plan.keys if k.deletes),
        "prune_switched": sum(1 for g in plan.groups if g.prune_switched),
        "entries_changed": sum(1 for e in plan.entries if e.change != "unchanged"),
        "sets_changed": sum(1 for x in plan.sets if x.change != "unchanged" or x.uses_changed),
    }


def build_structural_report(plan: StructuralPlan) -> dict[str, Any]:
    base = plan.base
    return {
        "format_version": REPORT_FORMAT_VERSION,
        "kind": KIND,
        "command": "plan",
        "tool": {"name": "secretsync", "version": __version__},
        "base": {
            "ref": base.ref,
            "commit": base.commit,
            "manifest": base.manifest,
            "status": base.status,
            "problems": list(base.problems),
        },
        "partial": False,
        "filters": [],
        "summary": summarize(plan),
        "entries": [
            {
                "repo": e.repo,
                "change": e.change,
                "org": e.org,
                "before": None if e.before is None else _selector(e.before),
                "after": None if e.after is None else _selector(e.after),
                "selects": e.selects or None,
            }
            for e in plan.entries
        ],
        "groups": [
            {
                "repo": g.repo,
                "group": g.group,
                "change": g.change,
                "prune_before": g.prune_before,
                "prune_after": g.prune_after,
            }
            for g in plan.groups
        ],
        "sets": [
            {
                "name": x.name,
                "change": x.change,
                "used_by": list(x.used_by),
                "uses_changed": x.uses_changed,
            }
            for x in plan.sets
        ],
        "warnings": warnings_of(plan),
        "changes": [
            {
                "repo": k.repo,
                "group": k.group,
                "key": k.key,
                "change": k.change,
                "source_before": k.before,
                "source_after": k.after,
                "content": k.content,
                "deletes": k.deletes,
            }
            for k in plan.keys
        ],
    }


def _selector(pair: tuple[tuple[str, ...], tuple[str, ...]]) -> dict[str, list[str]]:
    return {"match": list(pair[0]), "exclude": list(pair[1])}


def render_structural_json(plan: StructuralPlan) -> str:
    return json.dumps(build_structural_report(plan), indent=2) + "\n"


def warnings_of(plan: StructuralPlan) -> list[str]:
    """Every warning a rendering shows: the base's problems, then what the plan implies."""
    return [*plan.base.problems, *plan.warnings, *_notices(plan)]


def _notices(plan: StructuralPlan) -> list[str]:
    """What follows from the change beyond its own rows: prune switched, groups dropped."""
    out = []
    if plan.base.status == "missing":
        out.append(f"no manifest at {plan.base.ref}: every entry is new")
    elif plan.base.status == "invalid":
        out.append(f"the manifest at {plan.base.ref} is not valid: every entry is shown as new")
    for g in plan.groups:
        where = f"{g.repo} · {g.group}"
        if g.prune_switched and g.prune_after:
            out.append(
                f"prune switched on in {where}: apply will delete every stored key of the group "
                "that the manifest does not list (stored keys are not read by this plan)"
            )
        elif g.prune_switched:
            out.append(f"prune switched off in {where}: keys it does not list are kept")
        elif g.change == "removed":
            out.append(f"{where} left the manifest: its secrets stay as stored, unmanaged")
    return out


def summary_line(plan: StructuralPlan) -> str:
    s = summarize(plan)
    against = f"against {plan.base.ref}"
    if not plan.has_changes:
        return f"No manifest changes {against}. {s['unchanged']} key(s) as before."
    text = (
        f"Structural plan {against}: {s['added']} added, {s['removed']} removed, "
        f"{s['source_changed']} source changed, {s['content_changed']} content changed, "
        f"{s['unchanged']} unchanged"
    )
    if s["deletions"]:
        text += f"; {s['deletions']} to delete (prune)"
    return text + "."


# ---------------------------------------------------------------------------- terminal


def set_words(x: SetChange) -> str:
    said = {"added": "newly used", "removed": "no longer used", "changed": "declaration changed"}
    words = said.get(x.change, "declaration unchanged")
    if x.change != "removed":
        words += f", used by {', '.join(x.used_by)}"
        if x.uses_changed and x.change != "added":
            words += " (the groups using it changed)"
    return words


def _tail(k: KeyChange) -> str:
    if k.change == "added":
        return one_line(k.after or "")
    if k.change == "removed":
        note = "deleted by apply if stored: prune is on" if k.deletes else "no longer managed"
        return f"{one_line(k.before or '')}  ({note})"
    source = one_line(k.after or "")
    if k.change == "source":
        source = f"{one_line(k.before or '')} -> {source}"
    return f"{source}  ({CONTENT_WORDS[k.content]})" if k.content else source


def _heading(g: GroupChange) -> str:
    text = f"{one_line(g.repo)} · {one_line(g.group)}"
    if g.prune_after or (g.change == "removed" and g.prune_before):
        text += " [prune]"
    if g.change == "added":
        text += " (new group)"
    elif g.change == "removed":
        text += " (left the manifest)"
    elif g.prune_switched:
        text += f" (prune switched {'on' if g.prune_after else 'off'})"
    return text


def render_structural_text(plan: StructuralPlan, *, verbose: bool = False) -> str:
    base = plan.base
    lines = [
        f"Manifest {one_line(base.manifest)}: working tree against {one_line(base.ref)} "
        f"({base.commit[:12]}). No token, no values, nothing sent.",
        "",
    ]
    by_group: dict[tuple[str, str], list[KeyChange]] = defaultdict(list)
    for k in plan.keys:
        by_group[(k.repo, k.group)].append(k)
    for e in plan.entries:
        if e.change == "unchanged" and not verbose:
            continue
        lines.append(f"{one_line(e.repo)}: entry {e.change}")
        if e.org and e.before != e.after:
            for i, field in enumerate(("match", "exclude")):
                was = ", ".join(e.before[i]) if e.before else "-"
                now = ", ".join(e.after[i]) if e.after else "-"
                if was != now:
                    lines.append(f"    {field}: {one_line(was or '-')} -> {one_line(now or '-')}")
        if e.selects:
            lines.append(f"    selects {one_line(e.selects)}")
    for x in plan.sets:
        if verbose or x.change != "unchanged" or x.uses_changed:
            lines.append(f"set {one_line(x.name)}: {set_words(x)}")
    width = min(max((len(k.key) for k in plan.keys), default=0), 40)
    for g in plan.groups:
        rows = by_group[(g.repo, g.group)]
        shown = [k for k in rows if verbose or k.change != "unchanged"]
        quiet = g.change == "unchanged" and not g.prune_switched
        if not shown and quiet and not verbose:
            continue
        lines.append(_heading(g))
        for k in shown:
            lines.append(f"  {SYMBOL[k.change]} {one_line(k.key):<{width}}  {_tail(k)}")
        unchanged = sum(1 for k in rows if k.change == "unchanged")
        if unchanged and not verbose:
            lines.append(f"    ({unchanged} unchanged)")
    deletions = [k for k in plan.keys if k.deletes]
    if deletions:
        lines += ["", "Deletions (prune: on), if the key is stored:"]
        lines += [
            f"  - {one_line(k.repo)} · {one_line(k.group)} · {one_line(k.key)}" for k in deletions
        ]
    for warning in warnings_of(plan):
        lines.append(f"warning: {one_line(warning)}")
    if deletions:
        lines.append(f"warning: {len(deletions)} secret(s) will be deleted because prune is on.")
    lines += ["", summary_line(plan)]
    return "\n".join(lines) + "\n"

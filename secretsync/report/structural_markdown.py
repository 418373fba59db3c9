"""The structural plan (`plan --base`) as a pull request comment: totals, the base it was
compared with, deletions called out, a table per repository entry. Every name and label is
escaped or fenced: they come from the pull request."""

from __future__ import annotations

import html
from collections import defaultdict
from typing import TYPE_CHECKING

from secretsync import __version__
from secretsync.names import one_line
from secretsync.report.markdown_report import _OPEN_SECTIONS, _code, _md
from secretsync.report.structural import CONTENT_WORDS, SYMBOL, set_words, summarize, warnings_of

if TYPE_CHECKING:
    from secretsync.review.records import KeyChange, StructuralPlan


_MD_CHANGE = {
    "added": "added",
    "removed": "removed",
    "source": "source changed",
    "content": "content changed",
    "unchanged": "unchanged",
}


def render_structural_markdown(plan: StructuralPlan) -> str:
    base = plan.base
    s = summarize(plan)
    lines = [
        f"### secretsync plan against {_code(base.ref)} (structural)",
        "",
        f"**{s['added']}** added, **{s['removed']}** removed, **{s['source_changed']}** source "
        f"changed, **{s['content_changed']}** content changed, {s['unchanged']} unchanged.",
        "",
        f"> Compared {_code(base.manifest)} with {_code(base.ref)} "
        f"({_code(base.commit[:12])}) without a token or any value: what the stored secrets "
        "hold is checked by the exact plan on the protected branch.",
        "",
    ]
    deletions = [k for k in plan.keys if k.deletes]
    if deletions:
        lines.append(f"> [!WARNING]\n> {len(deletions)} secret(s) will be deleted (prune):")
        lines += [f"> - {_code(k.repo)} / {_code(k.group)} / {_code(k.key)}" for k in deletions]
        lines.append("")
    shown = warnings_of(plan)
    for warning in shown:
        lines.append(f"- ⚠️ {_md(warning)}")
    changed_entries = [e for e in plan.entries if e.change != "unchanged"]
    for e in changed_entries:
        what = f"- entry {_code(e.repo)}: {e.change}"
        if e.selects:
            what += f"; selects {_md(e.selects)}"
        lines.append(what)
    changed_sets = [x for x in plan.sets if x.change != "unchanged" or x.uses_changed]
    for x in changed_sets:
        lines.append(f"- set {_code(x.name)}: {_md(set_words(x))}")
    if changed_entries or changed_sets or shown:
        lines.append("")
    by_repo: dict[str, list[KeyChange]] = defaultdict(list)
    for k in plan.keys:
        by_repo[k.repo].append(k)
    repos_changed = sum(
        1 for rows in by_repo.values() if any(k.change != "unchanged" for k in rows)
    )
    for repo, rows in by_repo.items():
        changed = sum(1 for k in rows if k.change != "unchanged")
        # As the exact plan: sections with changes open, unless so many that the comment turns
        # into a wall (totals, deletions and warnings above carry the review then).
        opened = " open" if changed and repos_changed <= _OPEN_SECTIONS else ""
        lines.append(
            f"<details{opened}><summary><code>{html.escape(one_line(repo))}</code>: "
            f"{changed} change(s), {len(rows) - changed} unchanged</summary>"
        )
        lines += [
            "",
            "| | group | key | change | source at base | source now | content |",
            "|---|---|---|---|---|---|---|",
        ]
        for k in rows:
            change = _MD_CHANGE[k.change]
            if k.deletes:
                change = "**delete** (prune)"
            lines.append(
                f"| {SYMBOL[k.change].strip() or '='} | {_md(k.group)} | {_code(k.key)} | "
                f"{change} | {_code(k.before) if k.before else '–'} | "
                f"{_code(k.after) if k.after else '–'} | "
                f"{CONTENT_WORDS[k.content] if k.content else '–'} |"
            )
        lines += ["", "</details>", ""]
    if not plan.keys:
        lines += ["Neither revision of the manifest manages a key.", ""]
    lines.append(f"<sub>secretsync {__version__} · structural plan · values are never read</sub>")
    return "\n".join(lines) + "\n"

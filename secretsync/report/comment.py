"""The pull request comment: the Markdown report under a hidden marker, cut to fit.

The marker names the manifest, so two jobs planning two manifests in one pull request keep
two comments. The body is the Markdown report as written to `--report *.md`, which holds no
values (see markdown_report.py); nothing else goes in.
"""

from __future__ import annotations

import hashlib
import re

from secretsync.names import one_line

# Comment bodies have no documented size limit; GitHub's is 65,536 characters and the
# emulator refuses more. Staying well under leaves room for the marker and the note.
MAX_COMMENT_CHARS = 60_000
_PLAIN = re.compile(r"[A-Za-z0-9_./-]{1,120}")


def comment_marker(manifest: str) -> str:
    """`<!-- secretsync plan: secretsync.yaml -->`; a path that could break out of the HTML
    comment (or is just long) is named by a digest instead."""
    label = manifest if _PLAIN.fullmatch(manifest) and "--" not in manifest else None
    if label is None:
        label = "sha256:" + hashlib.sha256(manifest.encode("utf-8", "replace")).hexdigest()[:16]
    return f"<!-- secretsync plan: {label} -->"


def comment_body(
    markdown: str, *, marker: str, artifact: str | None, limit: int = MAX_COMMENT_CHARS
) -> str:
    """Marker, then the report; a report too long for one comment is cut at a line, its code
    fence closed, with a note saying how much is shown and where the whole plan is."""
    text = markdown.rstrip("\n")
    head = f"{marker}\n"
    if len(head) + len(text) + 1 <= limit:
        return f"{head}{text}\n"
    lines = text.split("\n")
    name = one_line(artifact or "").replace("`", "'")
    where = (
        f"the artifact `{name}`"
        if artifact
        else "the job's log (add `--report plan.md` and keep it as an artifact)"
    )
    kept: list[str] = []
    size = len(head)
    budget = limit - 400  # the note and a closing fence
    for line in lines:
        if size + len(line) + 1 > budget:
            break
        kept.append(line)
        size += len(line) + 1
    fence = "\n```" if sum(line.lstrip("> ").startswith("```") for line in kept) % 2 else ""
    note = (
        f"\n\n> [!WARNING]\n> This plan is too long for one comment: it is cut after "
        f"{len(kept)} of {len(lines)} lines. The whole plan is in {where}."
    )
    return head + "\n".join(kept) + fence + note + "\n"

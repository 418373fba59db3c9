"""`plan --base REF`: the structural plan, for pull requests that must not see a token or a
value. Imports neither the pipeline nor the API client: nothing here can reach the network.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from secretsync.cli.output import err, out
from secretsync.errors import EXIT_CHANGES_PENDING, EXIT_ERROR, EXIT_OK
from secretsync.names import one_line


def refuse_exact_only_flags(
    *, out_path: Path | None, repos: tuple[str, ...], groups: tuple[str, ...], keys: tuple[str, ...]
) -> None:
    if out_path is not None:
        raise click.UsageError(
            "--out saves an exact plan, which needs the token and the values; drop it with --base"
        )
    if repos or groups or keys:
        raise click.UsageError("--base compares the whole manifest; drop --repo/--group/--key")


def plan_against_base(
    *,
    manifest: Path,
    base: str,
    file_roots: tuple[Path, ...],
    output_format: str,
    quiet: bool,
    verbose: bool,
    reports: tuple[Path, ...],
    detailed_exitcode: bool,
) -> int:
    from secretsync.report import structural as render
    from secretsync.report.structural_markdown import render_structural_markdown
    from secretsync.review.compare import structural_plan
    from secretsync.safefile import write_atomically

    # os.environ only tells git where it is and where its configuration lives (see gitrev):
    # no value, no token is read from it.
    planned = structural_plan(manifest, base, os.environ, extra_roots=file_roots)
    if output_format == "json":
        out(render.render_structural_json(planned))
    elif output_format == "markdown":
        out(render_structural_markdown(planned))
    elif quiet:
        out(render.summary_line(planned) + "\n")
        for warning in render.warnings_of(planned):  # as the exact plan: warnings stay
            err(f"warning: {one_line(warning)}")
    else:
        out(render.render_structural_text(planned, verbose=verbose))
    written = True
    for path in reports:
        text = (
            render.render_structural_json(planned)
            if path.suffix == ".json"
            else render_structural_markdown(planned)
        )
        try:
            write_atomically(path, text)
        except OSError as exc:
            err(f"error: cannot write the report {path}: {exc.strerror or type(exc).__name__}")
            written = False
        else:
            err(f"report written to {path}")
    if not written:
        return EXIT_ERROR
    if detailed_exitcode and planned.has_changes:
        return EXIT_CHANGES_PENDING
    return EXIT_OK

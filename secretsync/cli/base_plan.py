"""`plan --base REF`: the structural plan, for pull requests that must not see a token or a
value. Imports neither the pipeline nor the API client: nothing here can reach the network.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from secretsync.cli.output import err, out, reports_on_failure
from secretsync.errors import EXIT_CHANGES_PENDING, EXIT_ERROR, EXIT_OK
from secretsync.names import one_line

F = TypeVar("F", bound=Callable[..., object])


def base_option(fn: F) -> F:
    return click.option(
        "--base",
        metavar="REF",
        envvar="SECRETSYNC_BASE",
        help="Compare the manifest with its version at this git revision instead: offline, "
        "no token, no values (for untrusted pull requests). [env: SECRETSYNC_BASE]",
    )(fn)


def _refuse_exact_only_flags(
    *,
    out_path: Path | None,
    repos: tuple[str, ...],
    groups: tuple[str, ...],
    keys: tuple[str, ...],
    comment_on: object,
) -> None:
    if out_path is not None:
        raise click.UsageError(
            "--out saves an exact plan, which needs the token and the values; drop it with --base"
        )
    if repos or groups or keys:
        raise click.UsageError("--base compares the whole manifest; drop --repo/--group/--key")
    if comment_on is not None:
        raise click.UsageError(
            "--comment-on posts with the API token, and --base runs without one; post plan.md "
            "from a job that holds a token and never runs the pull request's code"
        )


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
    out_path: Path | None,
    repos: tuple[str, ...],
    groups: tuple[str, ...],
    keys: tuple[str, ...],
    comment_on: object,
    **_remote: object,  # --api-url, --parallelism...: about the API, which is not used
) -> int:
    """The plan command's parsed options (`click.get_current_context().params`) in, an exit
    code out."""
    _refuse_exact_only_flags(
        out_path=out_path, repos=repos, groups=groups, keys=keys, comment_on=comment_on
    )
    with reports_on_failure("plan", reports, fmt=output_format):
        return _run(
            manifest=manifest,
            base=base,
            file_roots=file_roots,
            output_format=output_format,
            quiet=quiet,
            verbose=verbose,
            reports=reports,
            detailed_exitcode=detailed_exitcode,
        )


def _run(
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
            if not quiet:
                err(f"report written to {path}")
    if not written:
        return EXIT_ERROR
    if detailed_exitcode and planned.has_changes:
        return EXIT_CHANGES_PENDING
    return EXIT_OK

"""Click commands: parse flags into settings, call the pipeline, print, return an exit code."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from secretsync import __version__
from secretsync.cli.base_plan import base_option
from secretsync.cli.comment import Commenter, comment_options
from secretsync.cli.options import (
    check_writable_path,
    common_options,
    job_settings,
    remote_options,
)
from secretsync.cli.output import REDACT, emit, err, reports_on_failure, setup_logging
from secretsync.cli.prompt import Progress, confirm_apply
from secretsync.defaults import DEFAULT_MAX_DELETES, DEFAULT_OPERATION_TIMEOUT_S
from secretsync.errors import (
    EXIT_CHANGES_PENDING,
    EXIT_COMMENT_FAILED,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    ConfigError,
    SecretsyncError,
)

if TYPE_CHECKING:
    from secretsync.models import Outcome, Secret
    from secretsync.pipeline import Job, PlannedJob
    from secretsync.settings import JobSettings
    from secretsync.sourcecraft.comments import PullRequestRef
    from secretsync.sources.allow import EnvAllowlist

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(
    __version__, "--version", prog_name="secretsync", message="%(prog)s %(version)s"
)
def secretsync() -> None:
    """Keep SourceCraft repository secrets equal to a reviewed manifest.

    \b
    In a pull request:   secretsync plan --report plan.md
    After merge:         secretsync apply --report apply.json

    Values are never printed. Exit codes: 0 ok, 1 error, 2 changes pending
    (plan --detailed-exitcode), 3 comment not posted (plan --comment-required),
    64 bad flags, 130 interrupted.
    """


def _plan_key() -> Secret | None:
    from secretsync.plan.planfile import plan_key

    key = plan_key(os.environ)
    if key is not None:
        REDACT.add([key])
    return key


def _prepare(settings: JobSettings) -> Job:
    from secretsync.pipeline import prepare_job

    job = prepare_job(settings, os.environ)
    REDACT.add([job.token])  # the values follow through on_values=REDACT.add
    return job


def _save(path: Path, planned: PlannedJob, job: Job, settings: JobSettings) -> None:
    from secretsync.plan.planfile import save_plan

    try:
        save_plan(
            path,
            planned.plan,
            planned.desired,
            api_url=job.api_url,
            selection=settings.selection,
            key=_plan_key(),
        )
    except OSError as exc:
        raise ConfigError(
            f"cannot write the plan file {path}: {exc.strerror or type(exc).__name__}"
        ) from None


@secretsync.command(context_settings=CONTEXT)
@common_options
@remote_options
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when changes are pending (0: none, 1: error)."
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=check_writable_path,
    help="Save the plan for `apply --plan FILE` (stores no values).",
)
@comment_options
@base_option
def plan(
    manifest: Path,
    file_roots: tuple[Path, ...],
    quiet: bool,
    verbose: bool,
    debug: bool,
    color: bool | None,
    token_env: str | None,
    allow_env: EnvAllowlist | None,
    api_url: str | None,
    parallelism: int,
    request_timeout: float,
    repos: tuple[str, ...],
    groups: tuple[str, ...],
    keys: tuple[str, ...],
    reports: tuple[Path, ...],
    output_format: str,
    overwrite_unknown: bool,
    detailed_exitcode: bool,
    out_path: Path | None,
    comment_on: PullRequestRef | None,
    comment_required: bool,
    base: str | None,
) -> int:
    """Show what apply would create, update and delete. Writes nothing to the API.

    --base REF: compare with the manifest at a git revision instead (no token, no values).

    \b
    Examples:
      secretsync plan
      secretsync plan --report plan.md --detailed-exitcode
      secretsync plan --repo 'acme/*' --group production --out reviewed.plan
      secretsync plan --report plan.md --comment-on acme/infra/42
      secretsync plan --base origin/main --report plan.md --detailed-exitcode
    """
    setup_logging(verbose=verbose, debug=debug)
    if base is not None:
        from secretsync.cli.base_plan import plan_against_base

        return plan_against_base(**click.get_current_context().params)
    from secretsync.pipeline import run_plan

    settings = job_settings(**click.get_current_context().params)
    commenter = None
    if comment_on is not None:
        commenter = Commenter(
            comment_on, manifest=manifest, reports=reports, quiet=quiet, required=comment_required
        )
        commenter.pipeline_url = settings.pipeline_api_url
        commenter.pipeline_token_env = settings.pipeline_token_env
    try:
        with reports_on_failure("plan", reports, fmt=output_format):
            job = _prepare(settings)
            if commenter is not None:
                commenter.job = job
            planned = run_plan(settings, job, on_values=REDACT.add)
            if out_path is not None:
                _save(out_path, planned, job, settings)
                if not quiet:
                    err(f"plan saved to {out_path}")
    except SecretsyncError as exc:
        if commenter is not None:
            commenter.failure(exc)  # the run fails anyway: its exit code stays the run's
        raise
    written = emit(
        "plan",
        planned.plan,
        None,
        fmt=output_format,
        quiet=quiet,
        verbose=verbose,
        color=color,
        reports=reports,
    )
    commented = commenter is None or commenter.plan(planned.plan)
    if not written:
        return EXIT_ERROR
    if not commented and comment_required:
        return EXIT_COMMENT_FAILED
    if detailed_exitcode and planned.plan.has_changes:
        return EXIT_CHANGES_PENDING
    return EXIT_OK


@secretsync.command(context_settings=CONTEXT)
@common_options
@remote_options
@click.option(
    "--yes", "-y", is_flag=True, help="Don't ask for confirmation (asked only on a terminal)."
)
@click.option(
    "--plan",
    "plan_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Apply only if the world still matches this saved plan.",
)
@click.option(
    "--max-deletes",
    default=DEFAULT_MAX_DELETES,
    show_default=True,
    type=click.IntRange(0),
    help="Refuse a plan deleting more secrets than this.",
)
@click.option(
    "--operation-timeout",
    default=DEFAULT_OPERATION_TIMEOUT_S,
    show_default=True,
    type=click.FloatRange(min=1),
    metavar="SECONDS",
    help="Deadline for each asynchronous operation.",
)
def apply(
    manifest: Path,
    file_roots: tuple[Path, ...],
    quiet: bool,
    verbose: bool,
    debug: bool,
    color: bool | None,
    token_env: str | None,
    allow_env: EnvAllowlist | None,
    api_url: str | None,
    parallelism: int,
    request_timeout: float,
    repos: tuple[str, ...],
    groups: tuple[str, ...],
    keys: tuple[str, ...],
    reports: tuple[Path, ...],
    output_format: str,
    overwrite_unknown: bool,
    yes: bool,
    plan_path: Path | None,
    max_deletes: int,
    operation_timeout: float,
) -> int:
    """Make the remote secrets equal to the manifest and wait for every operation.

    \b
    Examples:
      secretsync apply --yes --report apply.json
      secretsync apply --plan reviewed.plan --yes
      secretsync apply --max-deletes 25 --operation-timeout 600
    """
    setup_logging(verbose=verbose, debug=debug)
    from secretsync.pipeline import run_apply
    from secretsync.plan.planfile import load_plan

    with reports_on_failure("apply", reports, fmt=output_format):
        saved = load_plan(plan_path) if plan_path is not None else None
        if saved is not None and (repos or groups or keys):
            raise click.UsageError(
                "--plan takes the selection from the plan file; drop --repo/--group/--key"
            )
        settings = job_settings(
            **click.get_current_context().params,
            selection=saved.selection if saved is not None else None,
        )
        job = _prepare(settings)
        progress: list[Progress] = []

        def approve(planned: PlannedJob) -> None:
            if saved is not None:
                saved.verify(planned.plan, planned.desired, api_url=job.api_url, key=_plan_key())
            if not planned.plan.has_changes:
                return
            if sys.stdin.isatty() and not yes:
                confirm_apply(planned.plan, color=color)
            progress.append(Progress(len(planned.plan.pending), enabled=not quiet))

        def on_outcome(outcome: Outcome) -> None:
            if progress:
                progress[0].step(outcome)

        try:
            planned, result = run_apply(
                settings, job, approve=approve, on_outcome=on_outcome, on_values=REDACT.add
            )
        finally:
            for bar in progress:
                bar.close()
        written = emit(
            "apply",
            planned.plan,
            result,
            fmt=output_format,
            quiet=quiet,
            verbose=verbose,
            color=color,
            reports=reports,
        )
        if result.interrupted:
            err("interrupted: the report lists what finished; run apply again to converge")
            return EXIT_INTERRUPTED
        if result.failed or result.skipped:
            where = "see above" if output_format == "text" else f"see the {output_format} output"
            if result.failed:
                err(f"error: {result.failed} change(s) failed; {where}")
            if result.skipped:
                err(
                    f"error: {result.skipped} deletion(s) held back because a write of this "
                    f"run failed; {where}"
                )
            return EXIT_ERROR
        return EXIT_OK if written else EXIT_ERROR


def _register_subcommands() -> None:
    from secretsync.cli.import_command import import_command
    from secretsync.cli.validate_command import validate

    secretsync.add_command(validate)
    secretsync.add_command(import_command)


_register_subcommands()

"""The options plan and apply share, as decorators, and the one place where the parsed options
become `JobSettings` (`job_settings`, like twine's `Settings.from_args`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from secretsync.defaults import (
    DEFAULT_MAX_DELETES,
    DEFAULT_OPERATION_TIMEOUT_S,
    DEFAULT_PARALLELISM,
    DEFAULT_REQUEST_TIMEOUT_S,
)

if TYPE_CHECKING:
    from secretsync.plan.planner import Selection
    from secretsync.settings import JobSettings
    from secretsync.sources.allow import EnvAllowlist

F = TypeVar("F", bound=Callable[..., Any])


def job_settings(
    *,
    manifest: Path,
    file_roots: tuple[Path, ...],
    api_url: str | None,
    parallelism: int,
    repos: tuple[str, ...],
    groups: tuple[str, ...],
    keys: tuple[str, ...],
    overwrite_unknown: bool,
    token_env: str | None = None,
    allow_env: EnvAllowlist | None = None,
    max_deletes: int | None = None,
    operation_timeout: float | None = None,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT_S,
    selection: Selection | None = None,
    **_presentation: object,  # --quiet, --format, --report...: how results are shown, not run
) -> JobSettings:
    """The settings of a plan or apply run, from the command's parsed options (pass
    `click.get_current_context().params`); `selection` replaces --repo/--group/--key (a saved
    plan's)."""
    from secretsync.plan.planner import Selection
    from secretsync.settings import JobSettings

    ctx = click.get_current_context(silent=True)
    source = ctx.get_parameter_source("api_url") if ctx is not None else None
    from_env = source is click.core.ParameterSource.ENVIRONMENT
    return JobSettings(
        manifest_path=manifest,
        pipeline_api_url=api_url or None,
        pipeline_api_url_from="SOURCECRAFT_API_URL" if from_env else "--api-url",
        pipeline_token_env=token_env or None,
        file_roots=file_roots,
        allow_env=allow_env,
        parallelism=parallelism,
        selection=selection or Selection(repos=repos, groups=groups, keys=keys),
        overwrite_unknown=overwrite_unknown,
        max_deletes=DEFAULT_MAX_DELETES if max_deletes is None else max_deletes,
        operation_timeout_s=operation_timeout or DEFAULT_OPERATION_TIMEOUT_S,
        request_timeout_s=request_timeout,
    )


def _parse_allow_env(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> EnvAllowlist | None:
    from secretsync.sources.allow import AllowlistError, parse_allowlist

    try:
        return parse_allowlist(value)
    except AllowlistError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def _check_token_env(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from secretsync.names import KEY_RE, quote

    if value and not KEY_RE.fullmatch(value):
        raise click.BadParameter(f"{quote(value)} is not a variable name", ctx=ctx, param=param)
    return value or None


def _check_report_path(
    ctx: click.Context, param: click.Parameter, value: tuple[Path, ...]
) -> tuple[Path, ...]:
    for path in value:
        if path.suffix not in (".json", ".md"):
            raise click.BadParameter(f"{path}: must end in .json or .md", ctx=ctx, param=param)
        check_writable_path(ctx, param, path)
    return value


def check_writable_path(
    ctx: click.Context, param: click.Parameter, path: Path | None
) -> Path | None:
    """Refuse, before anything is changed, an output path that can never be written: one that
    is a folder, or under a file. (Missing folders are created when it is written.)"""
    if path is None:
        return None
    if path.is_dir():
        raise click.BadParameter(f"{path} is a folder", ctx=ctx, param=param)
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise click.BadParameter(f"{parent} is a file, not a folder", ctx=ctx, param=param)
            _check_can_create_in(ctx, param, parent)
            break
    return path


def _check_can_create_in(ctx: click.Context, param: click.Parameter, folder: Path) -> None:
    # Permission bits do not tell (root passes every check, /proc refuses root too): create
    # and remove a file where the output (or its first missing folder) will be made.
    import tempfile

    try:
        fd, name = tempfile.mkstemp(prefix=".secretsync-check-", dir=folder)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise click.BadParameter(
            f"nothing can be written in {folder} ({reason})", ctx=ctx, param=param
        ) from None
    os.close(fd)
    Path(name).unlink(missing_ok=True)


def check_api_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A --api-url / SOURCECRAFT_API_URL that is not an http(s) URL at all is a usage error
    (64); the rules for a well-formed one (TLS off loopback...) are checked with the run."""
    if not value:
        return value
    from urllib.parse import urlsplit

    from secretsync.names import quote

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  # raises ValueError for a port that is not 0-65535
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(
            f"{quote(value)} is not an http(s) URL such as https://api.sourcecraft.tech",
            ctx=ctx,
            param=param,
        )
    return value


def common_options(fn: F) -> F:
    options = [
        click.option(
            "-f",
            "--file",
            "manifest",
            default="secretsync.yaml",
            show_default=True,
            # Not dir_okay=False: a folder is a bad manifest like a missing file (exit 1,
            # said by the loader), not a usage error.
            type=click.Path(path_type=Path),
            help="The manifest to read.",
        ),
        click.option(
            "--file-root",
            "file_roots",
            multiple=True,
            envvar="SECRETSYNC_FILE_ROOTS",
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            metavar="DIR",
            help="A folder outside the repository that file:/dotenv: may read (repeatable; "
            "the manifest's file_roots stay inside the repository). "
            "[env: SECRETSYNC_FILE_ROOTS, split on ':']",
        ),
        click.option(
            "--token-env",
            envvar="SECRETSYNC_TOKEN_ENV",
            callback=_check_token_env,
            metavar="NAME",
            help="The variable holding the token, named by the pipeline; wins over the "
            "manifest's api.token_env, which alone may name only SOURCECRAFT_TOKEN. "
            "[default: SOURCECRAFT_TOKEN; env: SECRETSYNC_TOKEN_ENV]",
        ),
        click.option(
            "--allow-env",
            multiple=True,
            envvar="SECRETSYNC_ALLOW_ENV",
            callback=_parse_allow_env,
            metavar="GLOBS",
            help="The only variables env: sources may read: comma-separated globs, e.g. "
            "'APP_*,DB_URL' (repeatable; default: any variable). [env: SECRETSYNC_ALLOW_ENV]",
        ),
        click.option("-q", "--quiet", is_flag=True, help="Print only the summary and errors."),
        click.option(
            "-v", "--verbose", is_flag=True, help="Also list unchanged keys; log retries and waits."
        ),
        click.option(
            "--debug",
            is_flag=True,
            help="Debug logging; tracebacks for errors (values stay masked).",
        ),
        click.option(
            "--color/--no-color",
            default=None,
            help="Force colours on or off (default: on a terminal, unless NO_COLOR is set).",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def remote_options(fn: F) -> F:
    options = [
        click.option(
            "--api-url",
            envvar="SOURCECRAFT_API_URL",
            metavar="URL",
            callback=check_api_url,
            help="API base URL set by the pipeline; overrides api.url. [env: SOURCECRAFT_API_URL]",
        ),
        click.option(
            "--parallelism",
            "-j",
            default=DEFAULT_PARALLELISM,
            show_default=True,
            type=click.IntRange(1, 256),
            help="Requests in flight at most (1 = sequential).",
        ),
        click.option(
            "--request-timeout",
            envvar="SECRETSYNC_REQUEST_TIMEOUT",
            default=DEFAULT_REQUEST_TIMEOUT_S,
            show_default=True,
            type=click.FloatRange(min=1),
            metavar="SECONDS",
            help="Deadline for each HTTP request: connect, send, wait and read together. "
            "[env: SECRETSYNC_REQUEST_TIMEOUT]",
        ),
        click.option(
            "--repo",
            "repos",
            multiple=True,
            metavar="GLOB",
            help="Only repositories matching (org/repo or id:UUID); repeatable.",
        ),
        click.option(
            "--group",
            "groups",
            multiple=True,
            metavar="GLOB",
            help="Only secret groups matching; repeatable.",
        ),
        click.option(
            "--key", "keys", multiple=True, metavar="GLOB", help="Only keys matching; repeatable."
        ),
        click.option(
            "--report",
            "reports",
            multiple=True,
            callback=_check_report_path,
            metavar="PATH",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Write the result to PATH: JSON if it ends in .json, Markdown if .md; repeatable.",
        ),
        click.option(
            "--format",
            "output_format",
            type=click.Choice(["text", "json", "markdown"]),
            default="text",
            show_default=True,
            help="What stdout carries.",
        ),
        click.option(
            "--overwrite-unknown",
            is_flag=True,
            help="Replace stored entries whose value cannot be read.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn

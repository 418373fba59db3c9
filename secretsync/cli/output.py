"""Everything cli prints goes through here: stdout for reports, stderr for the rest."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from secretsync.names import each_line, one_line
from secretsync.redact import RedactingFilter, Redactor

if TYPE_CHECKING:
    from secretsync.models import ApplyResult, Plan

REDACT = Redactor()


def wants_color(stream: TextIO, choice: bool | None) -> bool:
    """--color/--no-color win; else colour only on a terminal without NO_COLOR set."""
    if choice is not None:
        return choice
    if os.environ.get("NO_COLOR"):
        return False
    return stream.isatty()


def out(text: str, *, color: bool = False) -> None:
    """The report on stdout (built without values, so no masking pass is needed).

    Every name in it went through names.one_line when the text was built; unless colours were
    asked for, each line goes through it again here, so that no ESC, BEL or other control
    character from a server or a manifest can reach a CI log or a terminal whatever the path.
    """
    # color=True: click would strip our escapes off a pipe even under --color; the text holds
    # escapes only when wants_color() said so.
    click.echo(text if color else each_line(text), nl=False, color=True)


def err(text: str, *, color: bool = False) -> None:
    """A diagnostic on stderr: values masked, then control characters escaped (as in out).
    Error lines are escaped here, not where they are built: masking must see a value as the
    server echoed it, not an escaped spelling of it."""
    masked = REDACT(text)
    click.echo(masked if color else each_line(masked), err=True, color=True)


class _EscapingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return each_line(super().format(record))


def setup_logging(*, verbose: bool, debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter(REDACT))
    handler.setFormatter(_EscapingFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING)
    # httpx logs every request URL at INFO; URLs carry no values, but keep noise for --debug.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)
    if not debug:
        logging.getLogger("httpcore").setLevel(logging.WARNING)


def masked_errors(result: ApplyResult) -> ApplyResult:
    """Error messages come from the server or the network, not from us: mask any known value
    in them before they reach a report (the rest of a report never touches a value)."""
    outcomes = tuple(
        dataclasses.replace(o, error=dataclasses.replace(o.error, message=REDACT(o.error.message)))
        if o.error is not None
        else o
        for o in result.outcomes
    )
    return dataclasses.replace(result, outcomes=outcomes)


def emit(
    command: str,
    plan: Plan,
    result: ApplyResult | None,
    *,
    fmt: str,
    quiet: bool,
    verbose: bool,
    color: bool | None,
    reports: tuple[Path, ...],
) -> bool:
    """Print the result, then write the reports; False if a report could not be written
    (said on stderr: the result is printed first, so a bad path never hides what happened)."""
    from secretsync.report import json_report, markdown_report, text_report
    from secretsync.safefile import write_atomically

    if result is not None:
        result = masked_errors(result)

    if fmt == "json":
        out(json_report.render_json(command, plan, result))
    elif fmt == "markdown":
        out(markdown_report.render_markdown(command, plan, result))
    else:
        if quiet:
            out(text_report.summary_line(command, plan, result) + "\n")
            for warning in plan.warnings:
                err(f"warning: {one_line(warning)}")
            if result is not None and (result.failed or result.skipped):
                out(text_report.render_failures(result))
        else:
            painted = wants_color(sys.stdout, color)
            out(
                text_report.render_text(command, plan, result, color=painted, verbose=verbose),
                color=painted,
            )
    written = True
    for path in reports:
        render = (
            json_report.render_json if path.suffix == ".json" else markdown_report.render_markdown
        )
        try:
            write_atomically(path, render(command, plan, result))
        except OSError as exc:
            err(f"error: cannot write the report {path}: {exc.strerror or type(exc).__name__}")
            written = False
        else:
            if not quiet:
                err(f"report written to {path}")
    return written


def internal_error_line(exc: BaseException) -> str:
    return (
        f"internal error: {type(exc).__name__} (a bug in secretsync; "
        "run again with --debug for the traceback and report it)"
    )


def failure_lines(exc: BaseException) -> list[str]:
    """What stderr says about a run that stopped with `exc` (a traceback only under --debug)."""
    from secretsync.errors import SecretsyncError

    if isinstance(exc, SecretsyncError):
        return [REDACT(line) for line in exc.lines()]
    if isinstance(exc, (KeyboardInterrupt, click.Abort)):
        return ["interrupted"]
    if isinstance(exc, click.ClickException):
        return [f"error: {REDACT(exc.format_message())}"]
    return [internal_error_line(exc)]


def failure_exit_code(exc: BaseException) -> int:
    """The exit code cli.main gives for `exc` (told in a failure report)."""
    from secretsync.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE, SecretsyncError

    if isinstance(exc, SecretsyncError):
        return exc.exit_code
    if isinstance(exc, (KeyboardInterrupt, click.Abort)):
        return EXIT_INTERRUPTED
    if isinstance(exc, click.ClickException):
        return EXIT_USAGE
    return EXIT_ERROR


@contextlib.contextmanager
def reports_on_failure(
    command: str, reports: tuple[Path, ...], *, fmt: str = "text"
) -> Iterator[None]:
    """If the run fails, whatever the cause (an error, a bug, Ctrl-C or CI's SIGTERM), each
    --report says so, instead of keeping an older run's report, which a CI step posting it
    "always" would show as current; and so does stdout under --format json/markdown (a pipe
    must not read an empty document)."""
    try:
        yield
    except (Exception, KeyboardInterrupt) as exc:
        write_failure_reports(command, reports, fmt, exc)
        raise


def write_failure_reports(
    command: str, reports: Sequence[Path], fmt: str, exc: BaseException
) -> None:
    """Each of `reports` (and stdout under --format json/markdown) says the run failed."""
    from secretsync.errors import SecretsyncError
    from secretsync.report.json_report import render_failure
    from secretsync.safefile import write_atomically

    # Only a bug or an interruption can stop apply after its first write (a failed change is
    # a result, not an exception).
    unsure = command == "apply" and not isinstance(exc, SecretsyncError)
    lines = failure_lines(exc)
    code = failure_exit_code(exc)
    if fmt in ("json", "markdown"):
        out(render_failure(command, lines, markdown=fmt == "markdown", exit_code=code))
    for path in reports:
        md = path.suffix == ".md"
        text = render_failure(
            command, lines, markdown=md, exit_code=code, nothing_changed=not unsure
        )
        with contextlib.suppress(OSError):  # the error itself is what gets printed
            write_atomically(path, text)


REPORTING_COMMANDS = ("plan", "apply")  # the commands that take --report


def reports_on_usage_error(exc: click.UsageError, args: Sequence[str]) -> None:
    """A command line click refused still named its reports: each says the run failed (exit
    2), as every other failure's does. Click stops before the command runs, so the paths and
    --format are read here from the words of the line, by the command's own option parser
    (no types, no callbacks: those are what refused it), else by a plain scan for `--report`
    and `--format`. Only paths ending in .json or .md, as --report takes."""
    ctx = exc.ctx
    if ctx is None or ctx.command.name not in REPORTING_COMMANDS:
        return
    words = list(args)
    if ctx.info_name in words:  # group options may come first
        words = words[words.index(ctx.info_name) + 1 :]
    try:
        # A copy: the parser consumes the list it is given, and the scan below needs it.
        opts, _, _ = ctx.command.make_parser(ctx).parse_args(list(words))
        named = [str(p) for p in opts.get("reports") or ()]
        fmt = str(opts.get("output_format") or "text")
    except click.UsageError:  # an unknown option or a missing value: read the words plainly
        named, fmt = _scan_reports(words)
    reports = [Path(name) for name in named if Path(name).suffix in (".json", ".md")]
    command = ctx.command.name or ""
    write_failure_reports(command, reports, fmt if fmt in ("json", "markdown") else "text", exc)


def _scan_reports(words: Sequence[str]) -> tuple[list[str], str]:
    reports: list[str] = []
    fmt = "text"
    rest = iter(words)
    for word in rest:
        if word == "--":
            break
        name, eq, value = word.partition("=")
        if name not in ("--report", "--format"):
            continue
        if not eq:
            following = next(rest, None)
            if following is None:
                break
            value = following
        if name == "--report":
            reports.append(value)
        else:
            fmt = value
    return reports, fmt

"""The command line: the only place that prints, prompts or knows exit codes.

Heavy modules (httpx, ruamel.yaml, jsonschema) are imported inside the commands, so
`secretsync --version` and `--help` start fast.

May import: the shared top-level modules, `settings`, `pipeline` (which runs the stages),
`importer`, `commenting` (for `plan --comment-on`), `review` (for `plan --base`), and for
`validate`, saved plans and reports `manifest`, `sources`, `plan`, `report` and `sourcecraft`;
never `apply` (the pipeline drives it). The only importer of click.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import sys
import traceback
from typing import NoReturn

import click

from secretsync.cli.commands import secretsync
from secretsync.cli.output import err, internal_error_line, reports_on_usage_error
from secretsync.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE, SecretsyncError

__all__ = ["main", "run", "secretsync"]


def _sigterm_as_sigint(signum: int, frame: object) -> None:
    # CI cancels a job with SIGTERM: stop the same clean way as Ctrl-C (asyncio turns
    # SIGINT into a cancellation, so apply reports what finished).
    signal.raise_signal(signal.SIGINT)


def main(argv: list[str] | None = None) -> NoReturn:
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _sigterm_as_sigint)
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            # Started with SIGINT ignored (`secretsync apply &` in a non-interactive shell):
            # SIGTERM is raised as SIGINT, so SIGINT must be handled for CI's cancel to stop
            # the run cleanly, with its report, rather than not at all.
            signal.signal(signal.SIGINT, signal.default_int_handler)
    # A run allocates many small long-lived records (a Secret, a Change, an Outcome per key)
    # and few cycles: collecting the young generation every 700 allocations rescans them for
    # nothing. A larger threshold keeps cycle collection, just less often.
    gc.set_threshold(20_000, 20, 20)
    try:
        code = secretsync.main(args=args, prog_name="secretsync", standalone_mode=False)
    except click.UsageError as exc:
        exc.show()
        reports_on_usage_error(exc, args)
        code = EXIT_USAGE
    except click.ClickException as exc:  # e.g. a file argument click could not open
        exc.show()
        code = EXIT_USAGE
    except (click.Abort, KeyboardInterrupt):
        err("interrupted")
        code = EXIT_INTERRUPTED
    except SecretsyncError as exc:
        if debug:
            err(traceback.format_exc().rstrip())
        for line in exc.lines():
            err(line)
        code = exc.exit_code
    except Exception as exc:
        if debug:
            err(traceback.format_exc().rstrip())
        err(internal_error_line(exc))
        code = EXIT_ERROR
    sys.exit(code if isinstance(code, int) else 0)


def run() -> NoReturn:
    """The `secretsync` program: `main()`, then exit without tearing the interpreter down.

    A large run leaves hundreds of thousands of objects that teardown would free one by one
    (~40 ms at 10,000 secrets) only for the process to end. Everything the run writes is
    flushed or closed by then: reports are written and closed atomically, and stdout, stderr
    and the log handlers are flushed here.
    """
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe (`secretsync plan | head`): nothing more can reach it.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code if isinstance(code, int) else EXIT_ERROR if code else 0)

"""What apply asks and shows on a terminal: the confirmation prompt and the progress bar."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from secretsync.cli.output import err, wants_color
from secretsync.errors import AbortedError

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

    from secretsync.models import Plan


def confirm_apply(plan: Plan, *, color: bool | None) -> None:
    """Show the plan on stderr and go on only on a typed 'yes' (AbortedError otherwise)."""
    from secretsync.report.text_report import render_text

    painted = wants_color(sys.stderr, color)
    err(render_text("plan", plan, color=painted).rstrip(), color=painted)
    answer = click.prompt(
        "Apply these changes? Only 'yes' is accepted",
        default="",
        show_default=False,
        err=True,
    )
    if answer.strip() != "yes":
        raise AbortedError("apply cancelled; nothing was changed")


class Progress:
    """A one-line progress bar on stderr, only on a terminal and only when not quiet."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.total = total
        self.done = 0
        self.enabled = enabled and total > 0 and sys.stderr.isatty()
        self._bar: ProgressBar[int] | None = None
        if self.enabled:
            self._bar = click.progressbar(
                length=total, label="applying", file=sys.stderr, show_pos=True, show_eta=True
            )
            self._bar.__enter__()

    def step(self, _outcome: object = None) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

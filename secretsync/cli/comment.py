"""`plan --comment-on ORG/REPO/PR`: the plan, or why there is none, as one pull request
comment kept up to date (see sourcecraft/comments.py).

A comment that cannot be posted never changes what the plan's exit code means: it is a
warning, or with `--comment-required` an error with its own exit code (3), and a failed
plan still exits 1.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from secretsync.cli.output import REDACT, err
from secretsync.errors import SecretsyncError
from secretsync.names import one_line

if TYPE_CHECKING:
    from secretsync.models import Plan
    from secretsync.pipeline import Job
    from secretsync.sourcecraft.comments import PullRequestRef

F = TypeVar("F", bound=Callable[..., Any])
COMMENT_ON_ENV = "SECRETSYNC_COMMENT_ON"


def _check_pull_request(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> PullRequestRef | None:
    if not value:
        return None
    from secretsync.sourcecraft.comments import parse_pull_request

    try:
        return parse_pull_request(value, origin="--comment-on")
    except SecretsyncError as exc:
        raise click.BadParameter(
            f"{one_line(value)!r} is not ORG/REPO/PR (e.g. acme/infra/42)", ctx=ctx, param=param
        ) from exc


def comment_options(fn: F) -> F:
    options = [
        click.option(
            "--comment-on",
            "comment_on",
            envvar=COMMENT_ON_ENV,
            metavar="ORG/REPO/PR",
            callback=_check_pull_request,
            help="Post the Markdown plan as one comment on this SourceCraft pull request, "
            f"edited in place on every later run. [env: {COMMENT_ON_ENV}]",
        ),
        click.option(
            "--comment-required",
            is_flag=True,
            envvar="SECRETSYNC_COMMENT_REQUIRED",
            help="Exit 3 when the comment cannot be posted (default: a warning).",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


class Commenter:
    """Posts the run's comment once, at the end, whatever the run came to."""

    def __init__(
        self,
        ref: PullRequestRef,
        *,
        manifest: Path,
        reports: tuple[Path, ...],
        quiet: bool,
        required: bool,
    ) -> None:
        self.ref = ref
        self.required = required
        self.manifest = manifest
        self.artifact = next((str(p) for p in reports if p.suffix == ".md"), None)
        self.quiet = quiet
        self.job: Job | None = None
        self.pipeline_url: str | None = None
        self.pipeline_token_env: str | None = None

    def plan(self, plan: Plan) -> bool:
        from secretsync.report.markdown_report import render_markdown

        return self._post(render_markdown("plan", plan, None))

    def failure(self, exc: SecretsyncError) -> bool:
        from secretsync.report.json_report import render_failure

        lines = [REDACT(line) for line in exc.lines()]
        return self._post(render_failure("plan", lines, markdown=True))

    def _post(self, markdown: str) -> bool:
        from secretsync.commenting import CommentTarget, fallback_target, post_comment

        try:
            if self.job is not None:
                target = CommentTarget(
                    ref=self.ref,
                    api_url=self.job.api_url,
                    token=self.job.token,
                    token_env=self.job.token_env,
                )
            else:
                target = fallback_target(
                    self.ref,
                    pipeline_url=self.pipeline_url,
                    environ=os.environ,
                    pipeline_token_env=self.pipeline_token_env,
                )
                REDACT.add([target.token])
            posted = post_comment(
                target, markdown, manifest=self.manifest.as_posix(), artifact=self.artifact
            )
        except SecretsyncError as exc:
            level = "error" if self.required else "warning"
            err(f"{level}: the comment on pull request {self.ref} was not posted:")
            for line in exc.lines():
                err(f"  {line}")
            return False
        if not self.quiet:
            verb = "posted" if posted.created else "updated"
            err(f"comment {verb} on pull request {self.ref}")
        return True

"""Glue for `plan --comment-on`: the Markdown report into one pull request comment.

No printing, no exit codes: the CLI decides whether a failure here is a warning or an error
(`--comment-required`). The comment goes where the plan's requests went: the job's API URL
and token. A run that failed before it had a job (a manifest that does not load) still
says so in the comment, through the URL the pipeline set (or the default host, never one a
manifest names) and `$SOURCECRAFT_TOKEN`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from secretsync.models import Secret
from secretsync.report.comment import comment_body, comment_marker
from secretsync.sourcecraft.client import SourceCraftClient, build_http_client
from secretsync.sourcecraft.comments import PostedComment, PullRequestRef, upsert_comment
from secretsync.sourcecraft.endpoint import (
    DEFAULT_API_URL,
    DEFAULT_TOKEN_ENV,
    check_url,
    read_token,
)

HttpFactory = Callable[[int], httpx.AsyncClient]


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class CommentTarget:
    """Where the comment goes and with which token (never shown: see __repr__)."""

    ref: PullRequestRef
    api_url: str
    token: Secret
    token_env: str

    def __repr__(self) -> str:
        return f"CommentTarget({self.ref}, {self.api_url}, ${self.token_env})"


def fallback_target(
    ref: PullRequestRef,
    *,
    pipeline_url: str | None,
    environ: Mapping[str, str],
    pipeline_token_env: str | None = None,
) -> CommentTarget:
    """For a run with no job: the pipeline's URL or the default, and the token from the
    variable the pipeline named (`$SOURCECRAFT_TOKEN` by default): never one a manifest names."""
    url = check_url(pipeline_url, origin="--api-url") if pipeline_url else DEFAULT_API_URL
    token_env = pipeline_token_env or DEFAULT_TOKEN_ENV
    token = read_token(token_env, environ)
    return CommentTarget(ref=ref, api_url=url, token=token, token_env=token_env)


def post_comment(
    target: CommentTarget,
    markdown: str,
    *,
    manifest: str,
    artifact: str | None,
    http_factory: HttpFactory = lambda n: build_http_client(parallelism=n),
) -> PostedComment:
    marker = comment_marker(manifest)
    body = comment_body(markdown, marker=marker, artifact=artifact)

    async def go() -> PostedComment:
        async with http_factory(2) as http:
            client = SourceCraftClient(
                http,
                base_url=target.api_url,
                token=target.token,
                token_env=target.token_env,
                parallelism=2,
            )
            return await upsert_comment(client, target.ref, marker=marker, body=body)

    return asyncio.run(go())

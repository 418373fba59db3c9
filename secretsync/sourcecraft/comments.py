"""One pull request comment kept up to date, as tfcmt and Atlantis do: the first run creates
it, every later run of the pull request edits it in place. The comment is found again by a
hidden marker on its first line.

A marker is text anyone can write. So a comment is ours only if its author is the token's
user (`author.id` of the comment against `id` of `GET /user`, both in the published spec):
another user's comment that carries the marker is never edited, whatever rights the token
has, and a run makes its own comment instead. Replies and deleted comments are never ours.

Creating is not idempotent: a POST whose answer was lost may still have made the comment.
It is sent once, and before it is sent again the comments are listed afresh, so a lost
answer turns into an edit of what it created instead of a second comment.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from secretsync.errors import ApiError, ConfigError, SecretsyncError, TransportError
from secretsync.names import ORG, quote
from secretsync.sourcecraft import paths
from secretsync.sourcecraft.answers import str_id
from secretsync.sourcecraft.client import (
    MAX_IDLE_PAGES,
    MAX_PAGE_TOKEN_CHARS,
    SourceCraftClient,
)
from secretsync.sourcecraft.retry import malformed

PAGE_SIZE = 100
MAX_PAGES = 1000  # 100,000 comments: past that the listing is not one a server would send
CREATE_ATTEMPTS = 3
_PULL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True, slots=True, kw_only=True)
class PullRequestRef:
    org: str
    repo: str
    pull: str  # the pull request's slug (its number in the UI)

    def __str__(self) -> str:
        return f"{self.org}/{self.repo}/{self.pull}"

    @property
    def path(self) -> str:
        return paths.pull_comments(self.org, self.repo, self.pull)


@dataclass(frozen=True, slots=True, kw_only=True)
class PostedComment:
    comment_id: str
    created: bool  # False: an earlier run's comment was edited


def parse_pull_request(text: str, *, origin: str) -> PullRequestRef:
    """`ORG/REPO/PR`, e.g. `acme/infra/42`; a ConfigError naming `origin` otherwise."""
    parts = text.strip().split("/")
    org_ok = len(parts) == 3 and all(re.fullmatch(ORG, p) for p in parts[:2])
    if not org_ok or not _PULL.fullmatch(parts[2]):
        raise ConfigError(
            f"{origin}: {quote(text)} is not ORG/REPO/PR",
            hint="give the pull request as organization/repository/number, e.g. acme/infra/42",
        )
    return PullRequestRef(org=parts[0], repo=parts[1], pull=parts[2])


async def my_user_id(client: SourceCraftClient) -> str:
    profile = await client.get_user()
    user_id = str_id(profile.get("id"))
    if user_id is None:
        raise malformed("GET", "/user", 200, "the profile has no `id`")
    return user_id


async def find_own_comment(
    client: SourceCraftClient, ref: PullRequestRef, *, marker: str, user_id: str
) -> str | None:
    """The id of the oldest top-level comment of `user_id` whose first line is `marker`.

    Paging is bounded as the org listing's is (client.py): a page larger than asked, a token
    that repeats or is implausibly long, MAX_IDLE_PAGES pages in a row with no comment not
    seen before, or more than MAX_PAGES pages end it with a clear error."""
    token = ""
    seen: set[str] = set()
    known: set[str] = set()  # ids of the comments listed so far
    idle_pages = 0
    for _ in range(MAX_PAGES):
        params = {"page_size": str(PAGE_SIZE)}
        if token:
            params["page_token"] = token
        status, body = await client.request_json("GET", ref.path, params=params)
        items = body.get("pull_request_comments") or []
        if not isinstance(items, list):
            raise malformed("GET", ref.path, status, "`pull_request_comments` is not a list")
        if len(items) > PAGE_SIZE:
            message = f"a page holds {len(items)} comments, asked {PAGE_SIZE}"
            raise malformed("GET", ref.path, status, message)
        fresh = 0
        for item in items:
            item_id = str_id(item.get("id")) if isinstance(item, dict) else None
            if item_id is not None and item_id not in known:
                known.add(item_id)
                fresh += 1
            ours = isinstance(item, dict) and _is_ours(item, marker=marker, user_id=user_id)
            if ours and item_id is not None:
                return item_id
        token = body.get("next_page_token") or ""
        if not isinstance(token, str):
            raise malformed("GET", ref.path, status, "`next_page_token` is not a string")
        if not token:
            return None
        if len(token) > MAX_PAGE_TOKEN_CHARS:
            raise malformed("GET", ref.path, status, "`next_page_token` is implausibly long")
        if token in seen:  # a server bug must not become an endless loop
            raise malformed("GET", ref.path, status, "the same page token came back twice")
        seen.add(token)
        idle_pages = idle_pages + 1 if not fresh else 0
        if idle_pages >= MAX_IDLE_PAGES:
            message = (
                f"{idle_pages} pages in a row listed no new comment but offered another page; "
                "stopped paging"
            )
            raise malformed("GET", ref.path, status, message)
    raise malformed("GET", ref.path, 200, f"more than {MAX_PAGES} pages of comments")


def _is_ours(item: dict[str, Any], *, marker: str, user_id: str) -> bool:
    text = item.get("body")
    author = item.get("author")
    return (
        isinstance(text, str)
        and text.partition("\n")[0].strip() == marker
        and isinstance(author, dict)
        and str_id(author.get("id")) == user_id
        and not item.get("parent_id")
        and item.get("is_deleted") is not True
    )


async def upsert_comment(
    client: SourceCraftClient,
    ref: PullRequestRef,
    *,
    marker: str,
    body: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> PostedComment:
    """Edit this run's comment in place, or create it; `body` must start with `marker`."""
    if body.partition("\n")[0].strip() != marker:
        raise ValueError("the comment must start with its marker")
    user_id = await my_user_id(client)
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        existing = await find_own_comment(client, ref, marker=marker, user_id=user_id)
        if existing is not None:
            path = paths.pull_comment(existing)
            await client.request_json("PATCH", path, body={"body": body, "publish": True})
            return PostedComment(comment_id=existing, created=False)
        try:
            status, created = await client.request_json(
                "POST", ref.path, body={"body": body, "publish": True}, once=True
            )
        except (ApiError, TransportError) as exc:
            if attempt == CREATE_ATTEMPTS or not _may_retry(exc):
                raise
            await sleep(0.5 * 2**attempt)
            continue
        new_id = str_id(created.get("id"))
        if new_id is None:
            raise malformed("POST", ref.path, status, "the new comment has no `id`")
        return PostedComment(comment_id=new_id, created=True)
    raise AssertionError("unreachable")  # pragma: no cover


def _may_retry(exc: SecretsyncError) -> bool:
    if isinstance(exc, TransportError):
        return True
    return isinstance(exc, ApiError) and (exc.status == 429 or exc.status >= 500)

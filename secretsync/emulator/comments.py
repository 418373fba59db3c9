"""Pull request comments, as the published spec shapes them (PullRequestComment):
create and list on `/repos/{org}/{repo}/pulls/{pull_request_slug}/comments` (list paged with
`page_size`/`page_token`), get, edit and delete on `/pull_comments/id:{id}`.

Who calls is the token's user (the seed's `users:`; every other accepted token is
`emulator-user`). Any caller may edit or delete any comment: per-comment permissions are
not documented, and a client must not rely on the server to stop it editing another
user's comment.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from secretsync.emulator.protocol import (
    Call,
    Refusal,
    Reply,
    decode_page_token,
    encode_page_token,
    page_size,
    rfc3339,
    single,
)
from secretsync.emulator.state import Comment, World, stable_id

DEFAULT_USER = "emulator-user"
MAX_BODY_CHARS = 65536  # undocumented; a cap so an oversized comment is a clear 400
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
_CREATE_FIELDS = {"body", "parent_id", "anchor", "need_resolution", "publish", "iteration"}
_EDIT_FIELDS = {"body", "publish", "resolution_state"}


def caller(world: World, authorization: str | None) -> str:
    """The username behind an (already accepted) bearer token."""
    token = (authorization or "").partition(" ")[2].strip()
    return world.users.get(token, DEFAULT_USER)


def match_comments(s: tuple[str, ...]) -> tuple[str, tuple[str, ...]] | None:
    if len(s) == 2 and s[0] == "pull_comments" and s[1].startswith("id:"):
        return "pr_comment", (s[1][3:],)
    if len(s) >= 4 and s[0] == "repos" and s[-1] == "comments" and s[-3] == "pulls":
        repo = s[1:-3]
        if len(repo) == 1 and repo[0].startswith("id:"):
            return "pr_comments", ("id", repo[0][3:], s[-2])
        if len(repo) == 2:
            return "pr_comments", (*repo, s[-2])
    return None


def author(username: str) -> dict[str, str]:
    return {"id": stable_id(f"user:{username}"), "slug": username}


def render(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "body": comment.body,
        "parent_id": comment.parent_id,
        "author": author(comment.author),
        "updated_by": author(comment.updated_by) if comment.updated_by else None,
        "created_at": rfc3339(comment.created),
        "updated_at": rfc3339(comment.updated),
        "is_deleted": False,
        "reactions": {},
        "is_published": comment.published,
    }


def _pull(world: World, params: tuple[str, ...]) -> tuple[str, str]:
    first, second, slug = params
    repo = world.repos.get(second) if first == "id" else world.repo(first, second)
    if repo is None:
        raise Refusal(404, "NotFound", "repository not found")
    if (repo.id, slug) not in world.pulls:
        raise Refusal(404, "NotFound", "pull request not found")
    return repo.id, slug


def _json_object(body: bytes, allowed: set[str]) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict):
        raise Refusal(400, "ValidationError", "body must be a JSON object")
    unknown = sorted(set(payload) - allowed)
    if unknown:
        raise Refusal(400, "ValidationError", f"unknown field {unknown[0]!r}", field=unknown[0])
    return payload


def _text(payload: Mapping[str, Any], *, required: bool) -> str | None:
    text = payload.get("body")
    if text is None and not required:
        return None
    if not isinstance(text, str) or not text.strip():
        raise Refusal(400, "ValidationError", "body must be a non-empty string", field="body")
    if len(text) > MAX_BODY_CHARS:
        raise Refusal(
            400, "ValidationError", f"body is longer than {MAX_BODY_CHARS} characters", field="body"
        )
    return text


def _publish(payload: Mapping[str, Any]) -> bool | None:
    value = payload.get("publish")
    if value is not None and not isinstance(value, bool):
        raise Refusal(400, "ValidationError", "publish must be true or false", field="publish")
    return value


def _comments(world: World, call: Call, params: tuple[str, ...], now: float) -> Reply:
    repo_id, slug = _pull(world, params)
    user = caller(world, call.authorization)
    if call.method == "POST":
        payload = _json_object(call.body, _CREATE_FIELDS)
        text = _text(payload, required=True)
        parent = payload.get("parent_id")
        if parent is not None:
            found = world.comments.get(parent) if isinstance(parent, str) else None
            if found is None or (found.repo_id, found.pull) != (repo_id, slug):
                raise Refusal(400, "ValidationError", "no such parent comment", field="parent_id")
        comment = Comment(
            id=uuid.uuid4().hex,
            repo_id=repo_id,
            pull=slug,
            body=text or "",
            author=user,
            parent_id=parent,
            published=bool(_publish(payload)),
            created=now,
            updated=now,
        )
        world.comments[comment.id] = comment
        world.changes += 1
        return Reply(status=201, body=render(comment))
    # A draft is visible to its author only.
    visible = [
        c
        for c in world.comments.values()
        if (c.repo_id, c.pull) == (repo_id, slug) and (c.published or c.author == user)
    ]
    size = page_size(call.query, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
    start = decode_page_token(single(call.query, "page_token") or "")
    chunk = visible[start : start + size]
    end = start + len(chunk)
    token = encode_page_token(end) if end < len(visible) else ""
    body = {"pull_request_comments": [render(c) for c in chunk], "next_page_token": token}
    return Reply(status=200, body=body)


def _comment(world: World, call: Call, params: tuple[str, ...], now: float) -> Reply:
    comment = world.comments.get(params[0])
    if comment is None:
        raise Refusal(404, "NotFound", "comment not found")
    if call.method == "GET":
        return Reply(status=200, body=render(comment))
    if call.method == "DELETE":
        del world.comments[comment.id]
        world.changes += 1
        return Reply(status=200, body={})
    payload = _json_object(call.body, _EDIT_FIELDS)
    text = _text(payload, required=False)
    publish = _publish(payload)
    if text is not None:
        comment.body = text
    if publish:
        comment.published = True
    comment.updated = now
    comment.updated_by = caller(world, call.authorization)
    world.changes += 1
    return Reply(status=200, body=render(comment))


def _pr_comments(world: World, config: object, call: Call, p: tuple[str, ...], now: float) -> Reply:
    return _comments(world, call, p, now)


def _pr_comment(world: World, config: object, call: Call, p: tuple[str, ...], now: float) -> Reply:
    return _comment(world, call, p, now)


COMMENT_ROUTES = {"pr_comments": _pr_comments, "pr_comment": _pr_comment}


# -- seed and state files ---------------------------------------------------------------------


def pulls_from_seed(world: World, repo_id: str, raw: object, where: str) -> None:
    """A repository's `pull_requests:`: slugs, or {slug, comments: [{author, body, ...}]}."""
    from secretsync.emulator.seed import SeedError

    if not isinstance(raw, list):
        raise SeedError(f"{where}: must be a list")
    for i, item in enumerate(raw):
        here = f"{where}[{i}]"
        entry: Mapping[str, Any] = {"slug": item} if isinstance(item, str | int) else item
        if not isinstance(entry, Mapping):
            raise SeedError(f"{here}: must be a slug or a mapping")
        slug = str(entry.get("slug", ""))
        if not slug or "/" in slug:
            raise SeedError(f"{here}.slug: must be a non-empty slug")
        world.pulls.add((repo_id, slug))
        comments = entry.get("comments", [])
        if not isinstance(comments, list):
            raise SeedError(f"{here}.comments: must be a list")
        for j, c in enumerate(comments):
            cw = f"{here}.comments[{j}]"
            if not isinstance(c, Mapping) or not isinstance(c.get("body"), str):
                raise SeedError(f"{cw}: needs a string body")
            name = c.get("author", DEFAULT_USER)
            if not isinstance(name, str) or not name:
                raise SeedError(f"{cw}.author: must be a username")
            comment = Comment(
                id=str(c.get("id") or stable_id(f"comment:{repo_id}/{slug}/{j}")),
                repo_id=repo_id,
                pull=slug,
                body=c["body"],
                author=name,
                parent_id=c.get("parent_id"),
                published=bool(c.get("published", True)),
                created=float(c.get("created", 0.0)),
                updated=float(c.get("updated", 0.0)),
                updated_by=c.get("updated_by"),
            )
            world.comments[comment.id] = comment


def pulls_to_seed(world: World, repo_id: str) -> list[dict[str, Any]]:
    pulls = sorted(slug for rid, slug in world.pulls if rid == repo_id)
    return [
        {
            "slug": slug,
            "comments": [
                {
                    "id": c.id,
                    "author": c.author,
                    "body": c.body,
                    "parent_id": c.parent_id,
                    "published": c.published,
                    "created": c.created,
                    "updated": c.updated,
                    "updated_by": c.updated_by,
                }
                for c in world.comments.values()
                if (c.repo_id, c.pull) == (repo_id, slug)
            ],
        }
        for slug in pulls
    ]


def users_from_seed(world: World, raw: object) -> None:
    """The seed's `users: [{username, token}]`: more callers, each with its own identity."""
    from secretsync.emulator.seed import SeedError

    if not isinstance(raw, list):
        raise SeedError("users: must be a list")
    for i, item in enumerate(raw):
        ok = isinstance(item, Mapping) and all(
            isinstance(item.get(k), str) and item.get(k) for k in ("username", "token")
        )
        if not ok:
            raise SeedError(f"users[{i}]: needs a username and a token")
        world.users[item["token"]] = item["username"]

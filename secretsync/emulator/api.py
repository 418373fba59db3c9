"""The SourceCraft API calls, as pure functions of (world, config, call, now) -> Reply.

The caller holds the state lock and has settled due operations. No message quotes a value.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import uuid
from typing import Any

from secretsync.emulator.comments import COMMENT_ROUTES, caller, match_comments
from secretsync.emulator.config import DEFAULT_TOKEN, EmulatorConfig
from secretsync.emulator.protocol import (
    Call,
    Refusal,
    Reply,
    decode_page_token,
    encode_page_token,
    error_reply,
    operation,
    page_size,
    repository,
    single,
)
from secretsync.emulator.state import (
    DEFAULT_GROUP,
    GROUP_RE,
    KEY_RE,
    MAX_VALUE_BYTES,
    Operation,
    Outcome,
    Repo,
    World,
    stable_id,
)

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
_ALLOWED = {
    "user": ("GET",),
    "org_repos": ("GET",),
    "operation": ("GET",),
    "repo": ("GET",),
    "secrets": ("GET",),
    "secret": ("DELETE", "PUT"),
    "pr_comments": ("GET", "POST"),
    "pr_comment": ("DELETE", "GET", "PATCH"),
}
_KIND = {
    ("secrets", "GET"): "list",
    ("secret", "PUT"): "put",
    ("secret", "DELETE"): "delete",
    ("operation", "GET"): "operation",
    ("repo", "GET"): "repo",
    ("org_repos", "GET"): "org_repos",
    ("user", "GET"): "user",
}
_KIND_OF_ROUTE = {"pr_comments": "comment", "pr_comment": "comment"}


def match(segments: tuple[str, ...]) -> tuple[str, tuple[str, ...]] | None:
    """(route, params) for an API path; repo params are ("id", ID) or (ORG, REPO)."""
    s = segments
    comments = match_comments(s)
    if comments is not None:
        return comments
    if s == ("user",):
        return "user", ()
    if len(s) == 3 and s[0] == "orgs" and s[2] == "repos":
        return "org_repos", (s[1],)
    if len(s) == 3 and s[:2] == ("operations", "secrets"):
        return "operation", (s[2],)
    if not s or s[0] != "repos" or len(s) < 2:
        return None
    if s[1].startswith("id:"):
        repo, rest = ("id", s[1][3:]), s[2:]
    elif len(s) >= 3:
        repo, rest = (s[1], s[2]), s[3:]
    else:
        return None
    if not rest:
        return "repo", repo
    if rest == ("secrets",):
        return "secrets", repo
    if len(rest) == 2 and rest[0] == "secrets":
        return "secret", (*repo, rest[1])
    return None


def classify(method: str, segments: tuple[str, ...]) -> str:
    found = match(segments)
    if found is None:
        return "other"
    return _KIND_OF_ROUTE.get(found[0]) or _KIND.get((found[0], method), "other")


def authorized(config: EmulatorConfig, world: World, authorization: str | None) -> bool:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    accepted = (config.tokens + world.tokens or (DEFAULT_TOKEN,)) + tuple(world.users)
    given = token.strip().encode()
    # compare_digest on every candidate: the time taken says nothing about which one is close.
    return sum(hmac.compare_digest(given, t.encode()) for t in accepted) > 0


def dispatch(world: World, config: EmulatorConfig, call: Call, now: float) -> Reply:
    try:
        if not authorized(config, world, call.authorization):
            raise Refusal(401, "Unauthenticated", "missing or invalid bearer token")
        found = match(call.segments)
        if found is None:
            raise Refusal(404, "NotFound", "no such endpoint")
        route, params = found
        if call.method not in _ALLOWED[route]:
            refusal = Refusal(405, "MethodNotAllowed", f"{call.method} is not allowed here")
            refusal.headers = (("Allow", ", ".join(_ALLOWED[route])),)
            raise refusal
        return _ROUTES[route](world, config, call, params, now)
    except Refusal as exc:
        return error_reply(
            exc.status, exc.code, exc.message, call.request_id, exc.details, exc.headers
        )


def _user(
    world: World, config: EmulatorConfig, call: Call, p: tuple[str, ...], now: float
) -> Reply:
    # The published spec's UserProfile: id, username, display_name.
    username = caller(world, call.authorization)
    body = {"id": stable_id(f"user:{username}"), "username": username, "display_name": username}
    return Reply(status=200, body=body)


def _repo(
    world: World, config: EmulatorConfig, call: Call, p: tuple[str, ...], now: float
) -> Reply:
    return Reply(status=200, body=repository(_find_repo(world, p)))


def _org_repos(
    world: World, config: EmulatorConfig, call: Call, p: tuple[str, ...], now: float
) -> Reply:
    org = world.orgs.get(p[0])
    if org is None:
        raise Refusal(404, "NotFound", "organization not found")
    size = page_size(call.query, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
    start = decode_page_token(single(call.query, "page_token") or "")
    ids = org.repo_ids[start : start + size]
    end = start + len(ids)
    token = encode_page_token(end) if end < len(org.repo_ids) else ""
    body = {"repositories": [repository(world.repos[i]) for i in ids], "next_page_token": token}
    return Reply(status=200, body=body)


def _list(
    world: World, config: EmulatorConfig, call: Call, p: tuple[str, ...], now: float
) -> Reply:
    repo = _find_repo(world, p)
    group = repo.groups.get(_group(call), {})
    # The array's encoding is undocumented: accept repeated `keys=A&keys=B` and `keys=A,B`.
    wanted = {k.strip() for raw in call.query.get("keys", []) for k in raw.split(",") if k.strip()}
    for key in sorted(wanted):
        _check_key(key)
    entries = []
    for key in sorted(group):
        if wanted and key not in wanted:
            continue
        value = group[key]
        entry = {"key": key}
        if value is not None:
            entry["value"] = base64.b64encode(value).decode("ascii")
        entries.append(entry)
    return Reply(status=200, body={"secrets": entries})


def _secret(
    world: World, config: EmulatorConfig, call: Call, p: tuple[str, ...], now: float
) -> Reply:
    repo = _find_repo(world, p[:2])
    group_name = _group(call)
    key = _check_key(p[2])
    value = _put_value(call.body) if call.method == "PUT" else None
    outcome: Outcome = "success"
    error = None
    if key in config.stuck_keys:
        outcome = "stuck"
    elif key in config.fail_keys:
        outcome, error = "failed", _op_error("FailedPrecondition", "configured to fail")
    elif key in config.cancel_keys:
        outcome, error = "cancel", _op_error("Cancelled", "configured to be cancelled")
    if call.method == "DELETE" and key not in repo.groups.get(group_name, {}):
        if config.delete_missing == "404":
            raise Refusal(404, "NotFound", "secret not found", key=key)
        if config.delete_missing == "failed" and outcome == "success":
            outcome, error = "failed", _op_error("NotFound", "secret not found")
    op = Operation(
        op_id=uuid.uuid4().hex,
        repo_id=repo.id,
        group=group_name,
        key=key,
        kind="put" if call.method == "PUT" else "delete",
        value=value,
        created=now,
        delay_s=config.op_delay_ms / 1000,
        outcome=outcome,
        error=error,
    )
    world.submit(op)
    world.settle(now)  # op_delay_ms == 0: the answer is already final and applied
    return Reply(status=202, body=operation(op, now, call.base_url))


def _operation(
    world: World, config: EmulatorConfig, call: Call, p: tuple[str, ...], now: float
) -> Reply:
    op = world.ops.get(p[0][3:]) if p[0].startswith("id:") else None
    if op is None:
        raise Refusal(404, "NotFound", "operation not found")
    return Reply(status=200, body=operation(op, now, call.base_url))


_ROUTES = {
    "user": _user,
    "org_repos": _org_repos,
    "operation": _operation,
    "repo": _repo,
    "secrets": _list,
    "secret": _secret,
    **COMMENT_ROUTES,
}


def _op_error(code: str, message: str) -> dict[str, Any]:
    return {"error_code": code, "message": message, "details": {}}


def _find_repo(world: World, params: tuple[str, ...]) -> Repo:
    first, second = params[0], params[1]
    repo = world.repos.get(second) if first == "id" else world.repo(first, second)
    if repo is None:
        raise Refusal(404, "NotFound", "repository not found")
    return repo


def _group(call: Call) -> str:
    group = single(call.query, "secret_group") or DEFAULT_GROUP
    if not GROUP_RE.fullmatch(group):
        raise Refusal(400, "ValidationError", "invalid secret_group", field="secret_group")
    return group


def _check_key(key: str) -> str:
    if not KEY_RE.fullmatch(key):
        raise Refusal(
            400,
            "ValidationError",
            "key must be letters, digits and '_', not starting with a digit",
            field="key",
        )
    return key


def _put_value(body: bytes) -> bytes:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("value"), str):
        raise Refusal(
            400,
            "ValidationError",
            'body must be a JSON object with a string "value"',
            field="value",
        )
    try:
        value = base64.b64decode(payload["value"], validate=True)
    except (binascii.Error, ValueError):
        raise Refusal(400, "ValidationError", "value is not valid base64", field="value") from None
    if len(value) > MAX_VALUE_BYTES:
        raise Refusal(
            400, "ValidationError", f"value is larger than {MAX_VALUE_BYTES} bytes", field="value"
        )
    return value

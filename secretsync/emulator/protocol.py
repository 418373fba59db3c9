"""The wire shapes: a parsed API call, a reply, the error body, Repository and Operation JSON.

Error bodies follow the reference: {"error_code", "message", "request_id", "details"}.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from secretsync.emulator.state import Operation, Repo

KINDS = ("list", "put", "delete", "operation", "repo", "org_repos", "user", "comment", "other")


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    method: str
    segments: tuple[str, ...]  # the path split on "/", each part percent-decoded
    query: dict[str, list[str]]
    authorization: str | None
    body: bytes
    base_url: str  # for absolute status_url
    request_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    status: int
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str, **details: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers: tuple[tuple[str, str], ...] = ()


def error_reply(
    status: int,
    code: str,
    message: str,
    request_id: str,
    details: dict[str, str] | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Reply:
    body = {
        "error_code": code,
        "message": message,
        "request_id": request_id,
        "details": details or {},
    }
    return Reply(status=status, body=body, headers=headers)


def repository(repo: Repo) -> dict[str, Any]:
    return {
        "id": repo.id,
        "slug": repo.slug,
        "name": repo.name,
        "organization": {"id": repo.org_id, "slug": repo.org_slug},
        "visibility": repo.visibility,
        "default_branch": "main",
    }


def operation(op: Operation, now: float, base_url: str) -> dict[str, Any]:
    status = op.status(now)
    final_error = op.error if status in ("failed", "cancel") else None
    return {
        "operation_id": op.op_id,
        "status_url": f"{base_url}/operations/secrets/id:{op.op_id}",
        "status": status,
        "created_at": rfc3339(op.created),
        "modified_at": rfc3339(op.modified(now)),
        "response": {},
        "error": final_error,
    }


def rfc3339(t: float) -> str:
    stamp = datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def single(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise Refusal(400, "ValidationError", f"{name} given more than once", field=name)
    return values[0]


def page_size(query: dict[str, list[str]], *, default: int, maximum: int) -> int:
    raw = single(query, "page_size") or "0"
    if not (raw.isascii() and raw.isdigit()) or int(raw) > maximum:
        raise Refusal(400, "ValidationError", f"page_size must be 1..{maximum}", field="page_size")
    return int(raw) or default


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode("ascii")


def decode_page_token(token: str) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii")
        prefix, _, number = text.partition(":")
        if prefix == "offset" and number.isascii() and number.isdigit():
            return int(number)
    except (ValueError, UnicodeError):
        pass
    raise Refusal(400, "ValidationError", "invalid page_token", field="page_token")

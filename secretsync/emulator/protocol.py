"""The wire shapes: a parsed API call, a reply, the error body, Repository and Operation JSON.

Error bodies follow the reference: {"error_code", "message", "request_id", "details"}.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from secretsync.emulator.state import Operation, Repo

KINDS = ("list", "put", "delete", "operation", "repo", "org_repos", "user", "other")


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
    stamp = datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")

"""API answers -> records. Anything unexpected is a MalformedAnswer naming the request, never
a guess: a listing read wrong would plan deletions."""

from __future__ import annotations

import binascii
import json
from typing import Any

import httpx

from secretsync.models import OperationInfo, RepoInfo, Secret
from secretsync.names import API_ID_RE
from secretsync.sourcecraft.retry import malformed


def json_body(response: httpx.Response, method: str, path: str) -> object:
    try:
        return json.loads(response.content)
    except ValueError:
        raise malformed(method, path, response.status_code, "the body is not JSON") from None


def json_object(data: object, method: str, path: str, status: int) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise malformed(method, path, status, "expected a JSON object")
    return data


def str_id(value: object) -> str | None:
    # 64-bit integers travel as strings, but a number is just as unambiguous.
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def repository(data: object, method: str, path: str, status: int) -> RepoInfo:
    body = json_object(data, method, path, status)
    repo_id = str_id(body.get("id"))
    if repo_id is None:
        raise malformed(method, path, status, "a repository has no `id`")
    if not API_ID_RE.fullmatch(repo_id):
        # It would become a path (`/repos/id:{id}/secrets`): only a plain id may.
        raise malformed(method, path, status, "a repository's `id` is not a plain identifier")
    org = body.get("organization")
    org_slug = org.get("slug") if isinstance(org, dict) else None
    slug = body.get("slug")
    full = f"{org_slug}/{slug}" if isinstance(org_slug, str) and isinstance(slug, str) else None
    return RepoInfo(repo_id=repo_id, slug=full)


def operation(data: object, method: str, path: str, status: int) -> OperationInfo:
    body = json_object(data, method, path, status)
    op_id = str_id(body.get("operation_id"))
    state = body.get("status")
    if op_id is None or not isinstance(state, str):
        raise malformed(method, path, status, "an operation needs `operation_id` and `status`")
    status_url = body.get("status_url")
    error = body.get("error")
    code = message = None
    if isinstance(error, dict):
        code = str(error.get("error_code") or "") or None
        message = str(error.get("message") or "") or None
    return OperationInfo(
        operation_id=op_id,
        status=state,
        status_url=status_url if isinstance(status_url, str) and status_url else None,
        error_code=code,
        error_message=message,
    )


def write_answer(response: httpx.Response, method: str, path: str) -> OperationInfo:
    if response.status_code == 204 or not response.content:
        # Not documented (writes answer 202 with an operation), but "done, nothing to poll"
        # is the only sensible reading of an empty success.
        return OperationInfo(operation_id="", status="success")
    return operation(json_body(response, method, path), method, path, response.status_code)


def listing(response: httpx.Response, method: str, path: str) -> dict[str, Secret | None]:
    """A group's listing: key -> value, None when an entry comes without a value."""
    status = response.status_code
    body = json_object(json_body(response, method, path), method, path, status)
    # A listing we cannot read fully is an error, never "no secrets": an empty reading
    # would plan deletions.
    entries = body.get("secrets")
    if not isinstance(entries, list):
        raise malformed(method, path, status, "expected an object with a `secrets` list")
    secrets: dict[str, Secret | None] = {}
    for entry in entries:
        key = entry.get("key") if isinstance(entry, dict) else None
        if not isinstance(key, str):
            raise malformed(method, path, status, "a `secrets` entry has no string `key`")
        if key in secrets:
            raise malformed(method, path, status, f"secret {key!r} is listed twice")
        value = entry.get("value")
        if value is None:
            secrets[key] = None  # no readable value: "unknown", never "empty"
            continue
        try:
            if not isinstance(value, str):
                raise TypeError
            # What base64.b64decode(value, validate=True) runs, without its wrapper: the
            # strict mode refuses anything but the alphabet and correct padding, and a str
            # that is not ASCII raises ValueError.
            secrets[key] = Secret(binascii.a2b_base64(value, strict_mode=True))
        except (TypeError, ValueError, binascii.Error):
            raise malformed(method, path, status, f"the value of {key!r} is not base64") from None
    return secrets

"""Seed and state files: read (YAML, or JSON when named *.json), check, build a World; save.

The seed format; the state file has the same shape, with every value as {base64: ...}, plus
`operations` (every write operation, unfinished ones with their value, so that they still
end after a restart)::

    tokens: [emulator-token]          # optional: bearer tokens accepted besides the config's
    users:                            # optional: more callers, each its own user (GET /user,
      - {username: mallory, token: m-token}   # comment authors); other tokens: emulator-user
    orgs:
      - slug: acme
        id: "..."                     # optional: uuid5 of the slug when absent
        repos:
          - slug: backend
            id: 6f1c...               # optional: uuid5 of "acme/backend" when absent
            name: Backend             # optional: the slug when absent
            visibility: private       # optional: public | internal | private (default)
            secrets:                  # optional: group -> key -> value
              default:
                API_KEY: plain text value   # stored as its UTF-8 bytes
                BLOB: {base64: AAEC}        # binary
                EXTERNAL: null              # listed without a value
            pull_requests:            # optional: pull requests that take comments
              - "7"                   # a slug, or {slug, comments: [{author, body}]}
"""

from __future__ import annotations

import base64
import binascii
import json
import os  # fdopen: write through the descriptor mkstemp opened
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from secretsync.emulator.comments import pulls_from_seed, pulls_to_seed, users_from_seed
from secretsync.emulator.state import (
    GROUP_RE,
    KEY_RE,
    MAX_VALUE_BYTES,
    OUTCOMES,
    SLUG_RE,
    VISIBILITIES,
    Operation,
    Org,
    Repo,
    World,
    stable_id,
)


class SeedError(ValueError):
    """The seed or state file is unreadable or malformed (never quotes a value)."""


def world_from_seed(data: object) -> World:
    """Build a World from seed data (None: an empty world); SeedError says where it is wrong."""
    world = World()
    if data is None:
        return world
    root = _mapping(data, "seed")
    world.tokens = tuple(_str_list(root.get("tokens", []), "tokens"))
    users_from_seed(world, root.get("users", []))
    for i, raw_org in enumerate(_list(root.get("orgs", []), "orgs")):
        where = f"orgs[{i}]"
        org_map = _mapping(raw_org, where)
        slug = _slug(org_map.get("slug"), f"{where}.slug")
        if slug in world.orgs:
            raise SeedError(f"{where}.slug: org {slug!r} appears twice")
        org = Org(id=_id(org_map.get("id", stable_id(slug)), f"{where}.id"), slug=slug)
        world.add_org(org)
        for j, raw_repo in enumerate(_list(org_map.get("repos", []), f"{where}.repos")):
            _add_repo(world, org, _mapping(raw_repo, f"{where}.repos[{j}]"), f"{where}.repos[{j}]")
    for i, raw_op in enumerate(_list(root.get("operations", []), "operations")):
        world.restore(_operation(world, _mapping(raw_op, f"operations[{i}]"), f"operations[{i}]"))
    return world


def _operation(world: World, raw: Mapping[str, Any], where: str) -> Operation:
    """An operation as a state file keeps it: unfinished ones end after a restart too."""
    repo_id = _id(raw.get("repo_id"), f"{where}.repo_id")
    if repo_id not in world.repos:
        raise SeedError(f"{where}.repo_id: no such repository")
    group = _named(raw.get("group"), GROUP_RE, f"{where}.group", "group name")
    key = _named(raw.get("key"), KEY_RE, f"{where}.key", "key")
    kind, outcome, error = raw.get("kind"), raw.get("outcome"), raw.get("error")
    if kind not in ("put", "delete"):
        raise SeedError(f"{where}.kind: must be put or delete")
    if outcome not in OUTCOMES:
        raise SeedError(f"{where}.outcome: must be one of {', '.join(OUTCOMES)}")
    if error is not None and not isinstance(error, Mapping):
        raise SeedError(f"{where}.error: must be a mapping or null")
    created, delay_s = _number(raw.get("created"), where), _number(raw.get("delay_s"), where)
    settled = raw.get("settled", False)
    if not isinstance(settled, bool):
        raise SeedError(f"{where}.settled: must be true or false")
    value = _value(raw.get("value"), f"{where}.value")
    if kind == "put" and value is None and not settled:
        raise SeedError(f"{where}.value: an unfinished put needs its value")
    return Operation(
        op_id=_id(raw.get("op_id"), f"{where}.op_id"),
        repo_id=repo_id,
        group=group,
        key=key,
        kind=kind,
        value=value,
        created=created,
        delay_s=delay_s,
        outcome=outcome,
        error=dict(error) if error is not None else None,
        settled=settled,
    )


def _add_repo(world: World, org: Org, raw: Mapping[str, Any], where: str) -> None:
    slug = _slug(raw.get("slug"), f"{where}.slug")
    repo_id = _id(raw.get("id", stable_id(f"{org.slug}/{slug}")), f"{where}.id")
    if world.has_repo(org.slug, slug, repo_id):
        raise SeedError(f"{where}: repo {org.slug}/{slug} or its id appears twice")
    visibility = raw.get("visibility", "private")
    if visibility not in VISIBILITIES:
        raise SeedError(f"{where}.visibility: must be one of {', '.join(VISIBILITIES)}")
    repo = Repo(
        id=repo_id,
        slug=slug,
        name=_text(raw.get("name", slug), f"{where}.name"),
        org_id=org.id,
        org_slug=org.slug,
        visibility=visibility,
    )
    secrets = _mapping(raw.get("secrets") or {}, f"{where}.secrets")
    for group_name, raw_group in secrets.items():
        gwhere = f"{where}.secrets.{group_name}"
        _named(group_name, GROUP_RE, gwhere, "group name")
        group = repo.groups.setdefault(group_name, {})
        for key, raw_value in _mapping(raw_group or {}, gwhere).items():
            _named(key, KEY_RE, f"{gwhere}.{key}", "key")
            group[key] = _value(raw_value, f"{gwhere}.{key}")
    world.add_repo(org, repo)
    pulls_from_seed(world, repo.id, raw.get("pull_requests", []), f"{where}.pull_requests")


def world_to_seed(world: World) -> dict[str, Any]:
    """The whole state in seed form, every value as {base64: ...}."""
    orgs = []
    for org in world.orgs.values():
        repos = []
        for repo_id in org.repo_ids:
            repo = world.repos[repo_id]
            groups = {
                name: {k: _encode_entry(v) for k, v in sorted(group.items())}
                for name, group in sorted(repo.groups.items())
            }
            repos.append(
                {
                    "slug": repo.slug,
                    "id": repo.id,
                    "name": repo.name,
                    "visibility": repo.visibility,
                    "secrets": groups,
                    "pull_requests": pulls_to_seed(world, repo.id),
                }
            )
        orgs.append({"slug": org.slug, "id": org.id, "repos": repos})
    operations = [
        {
            "op_id": op.op_id,
            "repo_id": op.repo_id,
            "group": op.group,
            "key": op.key,
            "kind": op.kind,
            "value": _encode_entry(op.value),
            "created": op.created,
            "delay_s": op.delay_s,
            "outcome": op.outcome,
            "error": op.error,
            "settled": op.settled,
        }
        for op in world.ops.values()
    ]
    users = [{"username": name, "token": token} for token, name in world.users.items()]
    return {
        "tokens": list(world.tokens),
        "users": users,
        "orgs": orgs,
        "operations": operations,
    }


def _encode_entry(value: bytes | None) -> dict[str, str] | None:
    return None if value is None else {"base64": base64.b64encode(value).decode("ascii")}


def _value(raw: object, where: str) -> bytes | None:
    if raw is None:
        value = None
    elif isinstance(raw, str):
        value = raw.encode("utf-8")
    elif isinstance(raw, Mapping) and set(raw) == {"base64"} and isinstance(raw["base64"], str):
        try:
            value = base64.b64decode(raw["base64"], validate=True)
        except (binascii.Error, ValueError):
            raise SeedError(f"{where}: the base64 is not valid") from None
    else:
        raise SeedError(f"{where}: must be a string, {{base64: ...}} or null")
    if value is not None and len(value) > MAX_VALUE_BYTES:
        raise SeedError(f"{where}: longer than {MAX_VALUE_BYTES} bytes")
    return value


def _named(raw: object, pattern: re.Pattern[str], where: str, what: str) -> str:
    if not isinstance(raw, str) or not pattern.fullmatch(raw):
        raise SeedError(f"{where}: not a valid {what}")
    return raw


def _number(raw: object, where: str) -> float:
    if not isinstance(raw, int | float) or isinstance(raw, bool) or raw < 0:
        raise SeedError(f"{where}: created and delay_s must be numbers, not negative")
    return float(raw)


def _mapping(raw: object, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise SeedError(f"{where}: must be a mapping")
    return raw


def _list(raw: object, where: str) -> list[Any]:
    if not isinstance(raw, list):
        raise SeedError(f"{where}: must be a list")
    return raw


def _text(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise SeedError(f"{where}: must be a non-empty string")
    return raw


def _id(raw: object, where: str) -> str:
    # Ids travel as one path segment (`/repos/id:{id}`), so no slash and nothing to escape.
    if not isinstance(raw, str) or not SLUG_RE.fullmatch(raw):
        raise SeedError(f"{where}: must be letters, digits, '_', '.', '-'")
    return raw


def _str_list(raw: object, where: str) -> list[str]:
    items = _list(raw, where)
    if not all(isinstance(item, str) and item for item in items):
        raise SeedError(f"{where}: must be a list of non-empty strings")
    return items


def _slug(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not SLUG_RE.fullmatch(raw):
        raise SeedError(f"{where}: must be a slug (letters, digits, '_', '.', '-')")
    return raw


def read_seed_file(path: str | Path) -> object:
    """Parse a seed or state file: JSON when named *.json, YAML otherwise."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(f"{path}: cannot read: {exc.__class__.__name__}") from exc
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SeedError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    # Imported here: ruamel is slow to import and most starts use JSON state or no seed.
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        raise SeedError(
            f"{where}: invalid YAML: {getattr(exc, 'problem', None) or 'syntax'}"
        ) from None


def load_seed(path: str | Path) -> dict[str, Any]:
    """Read and check a seed file; returns the plain data `Emulator(seed=...)` accepts."""
    data = read_seed_file(path)
    try:
        world_from_seed(data)
    except SeedError as exc:
        raise SeedError(f"{path}: {exc}") from None
    return dict(data) if isinstance(data, Mapping) else {}


def save_state(world: World, path: str | Path) -> None:
    """Write the whole state as JSON, atomically (a reader never sees half a file)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(world_to_seed(world), out, indent=1, sort_keys=False)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

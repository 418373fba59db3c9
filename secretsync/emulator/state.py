"""The emulator's world: orgs, repos, secret groups, operations. Pure: no I/O, no clock.

Writes are operations: `submit` queues one with a due time; `settle(now)` applies every due
operation in due order (ties in order of creation), so the list changes only when the
operation has ended, and concurrent writes to one key end in the order they were made.
"""

from __future__ import annotations

import base64
import heapq
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
GROUP_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
SLUG_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
MAX_VALUE_BYTES = 64 * 1024
DEFAULT_GROUP = "default"
VISIBILITIES = ("public", "internal", "private")
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://api.sourcecraft.tech/emulator")

Outcome = Literal["success", "failed", "cancel", "stuck"]
OUTCOMES: tuple[Outcome, ...] = ("success", "failed", "cancel", "stuck")
Group = dict[str, bytes | None]


def stable_id(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, name))


@dataclass(slots=True, kw_only=True)
class Repo:
    id: str
    slug: str
    name: str
    org_id: str
    org_slug: str
    visibility: str
    groups: dict[str, Group] = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class Org:
    id: str
    slug: str
    repo_ids: list[str] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class Comment:
    """A pull request comment; `author` and `updated_by` are usernames."""

    id: str
    repo_id: str
    pull: str  # the pull request's slug
    body: str
    author: str
    parent_id: str | None = None
    published: bool = True
    created: float = 0.0
    updated: float = 0.0
    updated_by: str | None = None


@dataclass(slots=True, kw_only=True)
class Operation:
    op_id: str
    repo_id: str
    group: str
    key: str
    kind: Literal["put", "delete"]
    value: bytes | None  # the PUT value until applied; dropped afterwards
    created: float
    delay_s: float
    outcome: Outcome
    error: dict[str, Any] | None = None
    settled: bool = False  # its due time has passed and its effect (if any) is applied

    @property
    def due(self) -> float:
        return self.created + self.delay_s

    def status(self, now: float) -> str:
        if now < self.created + self.delay_s / 2:
            return "scheduled"
        if self.outcome == "stuck" or now < self.due:
            return "in_progress"
        return self.outcome

    def modified(self, now: float) -> float:
        if now < self.created + self.delay_s / 2:
            return self.created
        if self.outcome == "stuck" or now < self.due:
            return self.created + self.delay_s / 2
        return self.due


class World:
    def __init__(self) -> None:
        self.tokens: tuple[str, ...] = ()
        self.users: dict[str, str] = {}  # bearer token -> username (the seed's `users:`)
        self.pulls: set[tuple[str, str]] = set()  # (repo id, pull request slug)
        self.comments: dict[str, Comment] = {}  # by id, in order of creation
        self.orgs: dict[str, Org] = {}
        self.repos: dict[str, Repo] = {}
        self.ops: dict[str, Operation] = {}
        self.operations_created = 0
        self.writes_applied = 0
        self.changes = 0  # data or operations changed: what a state file must follow
        self._by_slug: dict[tuple[str, str], str] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._seq = 0

    # -- lookups ---------------------------------------------------------------------------
    def repo(self, org_slug: str, repo_slug: str) -> Repo | None:
        repo_id = self._by_slug.get((org_slug, repo_slug))
        return None if repo_id is None else self.repos[repo_id]

    def find(self, ref: str) -> Repo | None:
        """A repo by id, by "org/slug", or by a bare slug that only one org has."""
        if ref in self.repos:
            return self.repos[ref]
        org, sep, slug = ref.partition("/")
        if sep:
            return self.repo(org, slug)
        hits = [r for r in self.repos.values() if r.slug == ref]
        return hits[0] if len(hits) == 1 else None

    def add_org(self, org: Org) -> None:
        self.orgs[org.slug] = org

    def add_repo(self, org: Org, repo: Repo) -> None:
        self.repos[repo.id] = repo
        self._by_slug[(org.slug, repo.slug)] = repo.id
        org.repo_ids.append(repo.id)

    def has_repo(self, org_slug: str, repo_slug: str, repo_id: str) -> bool:
        return repo_id in self.repos or (org_slug, repo_slug) in self._by_slug

    # -- operations ------------------------------------------------------------------------
    def submit(self, op: Operation) -> Operation:
        self.operations_created += 1
        return self.restore(op)

    def restore(self, op: Operation) -> Operation:
        """Take an operation back from a state file (not counted as created in this run)."""
        self.ops[op.op_id] = op
        self.changes += 1
        if op.outcome != "stuck" and not op.settled:
            self._seq += 1
            heapq.heappush(self._heap, (op.due, self._seq, op.op_id))
        return op

    def settle(self, now: float) -> int:
        """Apply every operation due by `now`, oldest due first; returns how many changed data."""
        changed = 0
        while self._heap and self._heap[0][0] <= now:
            _, _, op_id = heapq.heappop(self._heap)
            op = self.ops[op_id]
            if op.outcome == "success":
                group = self.repos[op.repo_id].groups.setdefault(op.group, {})
                if op.kind == "put":
                    group[op.key] = op.value
                else:
                    group.pop(op.key, None)
                changed += 1
            op.value = None
            op.settled = True
            self.changes += 1
        self.writes_applied += changed
        return changed

    def snapshot(self) -> dict[str, Any]:
        """For the test fixture endpoint: per repo and group, key -> base64 value or null."""
        return {
            "repos": {
                f"{r.org_slug}/{r.slug}": {
                    "id": r.id,
                    "groups": {
                        name: {k: _b64(v) for k, v in sorted(group.items())}
                        for name, group in sorted(r.groups.items())
                    },
                }
                for r in self.repos.values()
            }
        }


def _b64(value: bytes | None) -> str | None:
    return None if value is None else base64.b64encode(value).decode("ascii")

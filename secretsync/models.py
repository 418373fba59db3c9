"""Plain values passed between the pipeline stages.

load_manifest -> Manifest; resolve_sources -> DesiredRepo; read_remote -> Target + listing;
plan_group, join_plan -> Plan; apply_plan -> ApplyResult. All frozen. A value only ever
travels inside `Secret`, whose str and repr are redacted, so printing any record cannot leak
it.
"""

from __future__ import annotations

import enum
import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal


class Secret:
    """Bytes of a secret value. Shows up as `Secret(***)` in every str, repr and format."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        if not isinstance(value, bytes):
            raise TypeError("Secret holds bytes")
        self._value = value

    def reveal(self) -> bytes:
        return self._value

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value, other._value)

    __hash__ = None  # type: ignore[assignment]  # a hash of a value is itself a leak

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret is never pickled")


@dataclass(frozen=True, slots=True)
class Location:
    """Where a manifest entry or problem is: file, and line and column when known."""

    file: str
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        if self.col is None:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.col}"


# ---------------------------------------------------------------------------- manifest


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceSpec:
    """Where one value comes from, exactly as the manifest names it."""

    kind: Literal["env", "file", "dotenv"]
    ref: str  # env variable name, or a path relative to the manifest's folder
    key: str | None = None  # the key inside a .env file (kind == "dotenv")
    allow_empty: bool = False
    location: Location

    @property
    def label(self) -> str:
        """How reports name the source: `env:X`, `file:certs/k.pem`, `dotenv:a.env#KEY`."""
        if self.kind == "dotenv":
            return f"dotenv:{self.ref}#{self.key}"
        return f"{self.kind}:{self.ref}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SecretSpec:
    """One key of a group or set, and the source its value comes from."""

    key: str
    source: SourceSpec
    location: Location
    key_path: str = ""  # where the manifest says it, e.g. `sets.common.secrets.X`, for messages


@dataclass(frozen=True, slots=True, kw_only=True)
class DotenvSpec:
    """A whole .env file: every key in it becomes a secret of the group."""

    ref: str
    allow_empty: bool = False
    location: Location
    key_path: str = ""  # e.g. `repos[0].groups.default.dotenv[1]`, for messages


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupSpec:
    """A secret group of a repository entry, as the manifest declares it."""

    name: str
    prune: bool
    # In precedence order, later wins: the group's dotenv files, then each used set's
    # dotenv files and secrets, then the group's own `secrets`.
    layers: tuple[DotenvSpec | SecretSpec, ...]
    location: Location
    uses: tuple[str, ...] = ()  # the sets it uses, in order (their layers are in `layers`)


@dataclass(frozen=True, slots=True, kw_only=True)
class RepoSpec:
    """One `repos:` entry: a repository by slug or id, or an org selector fanning out."""

    slug: str | None = None  # "org/repo"
    repo_id: str | None = None
    org: str | None = None  # selector: every repo of the org matching `match`, minus `exclude`
    match: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    groups: tuple[GroupSpec, ...]
    location: Location

    @property
    def label(self) -> str:
        if self.slug:
            return self.slug
        if self.repo_id:
            return f"id:{self.repo_id}"
        pattern = ",".join(self.match) or "*"
        return f"{self.org}/{pattern}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    """A loaded, checked `secretsync.yaml`: no value has been read yet."""

    path: Path
    root: Path  # the manifest's folder: relative paths start here
    file_roots: tuple[Path, ...]  # folders `file:`/`dotenv:` may read from (root by default)
    api_url: str | None
    token_env: str
    repos: tuple[RepoSpec, ...]
    # Where api.token_env is written (None: not written), for the message refusing it; a
    # position, not part of what the manifest says.
    token_env_at: Location | None = field(default=None, compare=False)


# ---------------------------------------------------------------------------- desired state


@dataclass(frozen=True, slots=True, kw_only=True)
class DesiredSecret:
    """A key and the value the manifest wants stored for it."""

    key: str
    value: Secret
    source: str  # SourceSpec.label


@dataclass(frozen=True, slots=True, kw_only=True)
class DesiredGroup:
    """Every key one group should hold, with its value."""

    name: str
    prune: bool
    secrets: tuple[DesiredSecret, ...]  # sorted by key


@dataclass(frozen=True, slots=True, kw_only=True)
class DesiredRepo:
    """A repository entry with every group's values read."""

    spec: RepoSpec
    groups: tuple[DesiredGroup, ...]


# ---------------------------------------------------------------------------- remote state


@dataclass(frozen=True, slots=True, kw_only=True)
class RepoInfo:
    """A repository as the API names it."""

    repo_id: str
    slug: str | None  # "org/repo" when known


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """One (repository, group) pair the plan manages."""

    repo: str  # display name: "org/repo", or "id:<uuid>" when only the id is known
    repo_id: str
    group: str
    prune: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class OperationInfo:
    """An asynchronous operation as the API reports it."""

    operation_id: str
    status: str  # scheduled | in_progress | success | failed | cancel
    status_url: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES


FINAL_STATUSES = frozenset({"success", "failed", "cancel"})


# ---------------------------------------------------------------------------- plan


class Action(str, enum.Enum):  # noqa: UP042 - a StrEnum would change str(action)
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"
    UNKNOWN = "unknown"  # stored entry has no readable value; left alone unless asked

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "delete": "-", "unchanged": " ", "unknown": "?"}[
            self.value
        ]

    @property
    def writes(self) -> bool:
        return self in (Action.CREATE, Action.UPDATE, Action.DELETE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """What the plan does to one key: create, update, delete, or nothing."""

    repo: str
    repo_id: str
    group: str
    key: str
    action: Action
    source: str | None  # None for deletions (the key is not in the manifest)
    value: Secret | None = None  # what create/update sends


@dataclass(frozen=True, slots=True, kw_only=True)
class IgnoredKey:
    """A key the API listed that is not a valid secret name: reported, never read, written or
    deleted (it would have to travel in a URL path)."""

    repo: str
    repo_id: str
    group: str
    key: str  # as listed: show it only through the report's escaping


# Plans and results hold thousands of records: their reprs are summaries. (asyncio's Runner
# formats its main task, result included, when it checks the SIGINT handler; a full repr of a
# 10,000-change plan cost 0.2 s there.)
@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Plan:
    """Every change of a run, in a stable order."""

    changes: tuple[Change, ...]  # stable order: repos and groups as in the manifest, keys sorted
    targets: tuple[Target, ...]
    partial: bool = False  # narrowed by --repo/--group/--key
    filters: tuple[str, ...] = ()  # e.g. ("--repo acme/*",) for the report
    warnings: tuple[str, ...] = ()
    ignored: tuple[IgnoredKey, ...] = ()  # listed keys that are not valid secret names

    def __repr__(self) -> str:
        return f"Plan({len(self.changes)} changes, {len(self.targets)} targets)"

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action)

    @property
    def pending(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action.writes)

    @property
    def has_changes(self) -> bool:
        return any(c.action.writes for c in self.changes)


# ---------------------------------------------------------------------------- apply


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorInfo:
    """Why a change failed, as the API or the network said."""

    error_code: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What became of one change."""

    change: Change
    status: Literal["success", "failed", "not_started", "skipped"]  # skipped: a held-back delete
    operation_id: str | None = None
    error: ErrorInfo | None = None


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class ApplyResult:
    """Every change's outcome, in plan order."""

    plan: Plan
    outcomes: tuple[Outcome, ...]  # same order as plan.changes (unchanged ones included)
    interrupted: bool = False

    def __repr__(self) -> str:
        return f"ApplyResult({len(self.outcomes)} outcomes, {self.failed} failed)"

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if o.status == "failed")

    @property
    def skipped(self) -> int:
        return sum(1 for o in self.outcomes if o.status == "skipped")

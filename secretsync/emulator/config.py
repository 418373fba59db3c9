"""The emulator's knobs: accepted tokens and the faults it injects, changeable at runtime.

Every knob defaults to "off", so `EmulatorConfig()` is a well-behaved, instant server.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

DeleteMissing = Literal["404", "failed", "success"]
DELETE_MISSING_MODES: tuple[DeleteMissing, ...] = ("404", "failed", "success")
DEFAULT_TOKEN = "emulator-token"  # noqa: S105 (public, for local tests only)

_KEY_SETS = ("fail_keys", "cancel_keys", "stuck_keys")


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorConfig:
    """Knobs; 0 means "off" for every limit and rate.

    tokens: bearer tokens accepted (with the seed's `tokens:`); none at all means
        the single default token `emulator-token`.
    latency_ms: time from an API request's arrival to its answer (never the control endpoints).
    op_delay_ms: a write stays `scheduled` for half of this, `in_progress` for the other half,
        then ends and only then shows in the list. 0: the PUT/DELETE answer is already final.
    max_in_flight / max_rps: answer 429 `ResourceExhausted` with `Retry-After: retry_after_s`
        to a request arriving while that many are in flight / in the last second.
    error_rate / drop_rate: fraction of requests answered 500/503 before any side effect /
        processed and then left without an answer (the connection is shut), drawn from
        `random.Random(random_seed)`.
    fail_keys / cancel_keys / stuck_keys: operations on these keys end `failed` / `cancel`
        without changing anything, or stay `in_progress` forever.
    delete_missing: DELETE of an absent key answers 404, or an operation that ends
        `failed` (error_code NotFound), or one that ends `success`.
    """

    tokens: tuple[str, ...] = ()
    latency_ms: float = 0.0
    op_delay_ms: float = 0.0
    max_in_flight: int = 0
    max_rps: float = 0.0
    retry_after_s: int = 1
    error_rate: float = 0.0
    random_seed: int | None = None
    fail_keys: frozenset[str] = frozenset()
    cancel_keys: frozenset[str] = frozenset()
    stuck_keys: frozenset[str] = frozenset()
    drop_rate: float = 0.0
    delete_missing: DeleteMissing = "404"

    def __post_init__(self) -> None:
        # Accept any iterable of strings for the collections (JSON gives lists), keep frozen types.
        object.__setattr__(self, "tokens", tuple(_strings("tokens", self.tokens)))
        for name in _KEY_SETS:
            object.__setattr__(self, name, frozenset(_strings(name, getattr(self, name))))
        for name in ("latency_ms", "op_delay_ms", "max_rps"):
            _number(name, getattr(self, name), upper=None)
        for name in ("error_rate", "drop_rate"):
            _number(name, getattr(self, name), upper=1.0)
        for name in ("max_in_flight", "retry_after_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer")
        seed = self.random_seed
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError("random_seed must be an integer or null")
        if self.delete_missing not in DELETE_MISSING_MODES:
            raise ValueError(f"delete_missing must be one of {', '.join(DELETE_MISSING_MODES)}")

    def with_overrides(self, overrides: Mapping[str, Any]) -> EmulatorConfig:
        """A copy with some knobs changed; ValueError names an unknown or ill-typed knob."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown knob(s): {', '.join(unknown)}")
        changes = dict(overrides)
        if isinstance(changes.get("delete_missing"), int):
            changes["delete_missing"] = str(changes["delete_missing"])  # JSON may say 404
        return dataclasses.replace(self, **changes)

    def public(self) -> dict[str, Any]:
        """The knobs as JSON, without the tokens (only how many there are)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "tokens":
                out["tokens_count"] = len(value)
            elif isinstance(value, frozenset):
                out[f.name] = sorted(value)
            else:
                out[f.name] = value
        return out


def _strings(name: str, value: object) -> Iterable[str]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValueError(f"{name} must be a list of strings")
    items = list(cast("Iterable[object]", value))
    if not all(isinstance(item, str) and item for item in items):
        raise ValueError(f"{name} must be a list of non-empty strings")
    return cast("list[str]", items)


def _number(name: str, value: object, *, upper: float | None) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok:
        number = float(cast("float", value))
        ok = math.isfinite(number) and number >= 0 and (upper is None or number <= upper)
    if not ok:
        bound = f" and at most {upper:g}" if upper is not None else ""
        raise ValueError(f"{name} must be a number, at least 0{bound}")

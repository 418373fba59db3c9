"""Admission (in-flight and per-second caps), fault dice, counters and the request log.

Only API requests pass through here; the control endpoints are neither counted nor faulted.
The log holds method, path, query and status, never a body or a header.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from typing import Any

from secretsync.emulator.config import EmulatorConfig
from secretsync.emulator.protocol import KINDS

LOG_LIMIT = 100_000  # oldest entries go first; a long benchmark must not grow without bound


class Traffic:
    def __init__(self, random_seed: int | None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(random_seed)
        self._window: deque[float] = deque()  # arrival times of admitted requests, last second
        self._log: deque[dict[str, Any]] = deque(maxlen=LOG_LIMIT)
        self.in_flight = 0
        self._reset_counters()

    def _reset_counters(self) -> None:
        self._total = 0
        self._by_kind: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()
        self._throttled = 0
        self._errors_5xx = 0
        self._dropped = 0
        self._peak = self.in_flight
        self._first_received: float | None = None
        self._last_answered: float | None = None
        self._held = 0.0  # the sum of (answered - received): time requests held a slot here
        self._log.clear()

    def reset(self) -> None:
        with self._lock:
            self._reset_counters()

    def reseed(self, random_seed: int | None) -> None:
        with self._lock:
            self._rng = random.Random(random_seed)

    def admit(self, kind: str, now: float, config: EmulatorConfig) -> bool:
        """Count an arriving request; False means answer 429 now (it is not in flight then)."""
        with self._lock:
            self._total += 1
            self._by_kind[kind] += 1
            self.in_flight += 1
            self._peak = max(self._peak, self.in_flight)
            refused = 0 < config.max_in_flight < self.in_flight
            if not refused and config.max_rps > 0:
                while self._window and self._window[0] <= now - 1.0:
                    self._window.popleft()
                refused = len(self._window) >= config.max_rps
                if not refused:
                    self._window.append(now)
            if refused:
                self.in_flight -= 1
                self._throttled += 1
            return not refused

    def release(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def roll_error(self, config: EmulatorConfig) -> int | None:
        """500 or 503 for an `error_rate` share of requests, else None."""
        if config.error_rate <= 0:
            return None
        with self._lock:
            if self._rng.random() >= config.error_rate:
                return None
            return self._rng.choice((500, 503))

    def roll_drop(self, config: EmulatorConfig) -> bool:
        if config.drop_rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < config.drop_rate

    def record(
        self,
        *,
        method: str,
        path: str,
        query: str,
        status: int,
        kind: str,
        received: float,
        answered: float,
    ) -> None:
        """Log a request; status 0 means the connection was dropped without an answer.

        `received` and `answered` are the emulator clock's readings when the request line
        arrived and when the answer was ready: benchmarks split a run's wall time with them.
        """
        entry = {
            "method": method,
            "path": path,
            "query": query,
            "status": status,
            "kind": kind,
            "received": received,
            "answered": answered,
        }
        with self._lock:
            self._log.append(entry)
            if self._first_received is None or received < self._first_received:
                self._first_received = received
            if self._last_answered is None or answered > self._last_answered:
                self._last_answered = answered
            self._held += answered - received
            if status == 0:
                self._dropped += 1
                return
            self._statuses[str(status)] += 1
            if status >= 500:
                self._errors_5xx += 1

    def log(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._log]

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests_total": self._total,
                "requests_by_kind": {kind: self._by_kind[kind] for kind in KINDS},
                "status_counts": dict(sorted(self._statuses.items())),
                "throttled_429": self._throttled,
                "errors_5xx": self._errors_5xx,
                "dropped": self._dropped,
                "peak_in_flight": self._peak,
                "in_flight": self.in_flight,
                # Emulator clock readings (None before any request): a run's request phase.
                "first_received": self._first_received,
                "last_answered": self._last_answered,
                # Seconds requests spent here, arrival to answer, summed: a benchmark sets it
                # against (slots x request phase) to see how long clients took to send the next.
                "held_s": self._held,
            }

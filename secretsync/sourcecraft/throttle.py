"""Pacing: how fast the client may talk to SourceCraft, and when to ask about an operation.

`AdaptiveLimiter`: a 429 means the whole run is too fast, not one request, so an AIMD
concurrency limit and a shared pause live in one object every request of a client passes
through: requests in flight never exceed the current limit (at most `parallelism`), and
nothing is sent before `resume_at`.

`PollEstimate`: when the applier should first poll an operation, learnt from the run.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable


class AdaptiveLimiter:
    """Additive increase, multiplicative decrease, like TCP congestion control.

    The limit starts at `parallelism`; a 429 halves it (at least 1) and after `limit`
    consecutive successes it grows by one again. Only a 429 for a request sent under the
    current limit halves it: when sixteen requests in flight all come back 429 together,
    that is one signal, not four halvings down to 1.
    """

    def __init__(
        self,
        *,
        parallelism: int,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        if parallelism < 1:
            raise ValueError("parallelism must be at least 1")
        self.max_limit = parallelism
        self.limit = parallelism
        self.in_flight = 0
        self.peak_in_flight = 0
        self.resume_at = float("-inf")
        self._clock = clock
        self._sleep = sleep
        self._successes = 0
        self._epoch = 0  # bumped on every decrease; a slot remembers the epoch it was granted in
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def take(self) -> int:
        """Take one of the `limit` slots for sending, which the caller must `give_back` (a
        method pair, not a context manager: one generator fewer per request); returns the
        epoch for `throttled`."""
        await self._acquire()
        try:
            # The pause is waited out while holding the slot: nothing else may be sent either.
            while (wait := self.resume_at - self._clock()) > 0:
                await self._sleep(wait)
        except BaseException:
            self.give_back()
            raise
        return self._epoch

    def succeeded(self) -> None:
        self._successes += 1
        if self._successes >= self.limit:
            self._successes = 0
            if self.limit < self.max_limit:
                self.limit += 1
                self._wake()

    def throttled(self, epoch: int, retry_after_s: float | None) -> None:
        self._successes = 0
        if retry_after_s is not None and retry_after_s > 0:
            self.resume_at = max(self.resume_at, self._clock() + retry_after_s)
        if epoch == self._epoch:
            self._epoch += 1
            self.limit = max(1, self.limit // 2)

    async def _acquire(self) -> None:
        if self.in_flight < self.limit and not self._waiters:
            self._grant()
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # `_wake` counted the slot for us before resolving it
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.give_back()  # granted, then cancelled before we could use it
            elif waiter in self._waiters:  # `_wake` may have dropped it already
                self._waiters.remove(waiter)
            raise

    def _grant(self) -> None:
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def give_back(self) -> None:
        """Release a slot taken with `take`: the next waiting request gets it."""
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        """Grant free slots to waiters, first come first served."""
        while self._waiters and self.in_flight < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._grant()
                waiter.set_result(None)


class PollEstimate:
    """When to poll an operation first: learnt from this run, so that most are polled once.

    Polling too early costs a request; too late costs only the tail of the run. Every step is
    anchored to the delay the reporting operation was scheduled with, so the many answers of
    one "generation" of operations move the estimate one step, not one step each:
    - a poll that finds an operation still pending raises the estimate to 1.5 times how long
      it has been pending (at most twice that operation's own first delay), at once, not
      when the operation finally ends;
    - a first poll that finds it finished lowers the estimate by 1%, once per generation,
      probing for the shortest delay that still hits.
    """

    def __init__(self, *, initial_s: float, floor_s: float, ceiling_s: float) -> None:
        self.floor_s = floor_s
        self.ceiling_s = max(floor_s, ceiling_s)
        self.value_s = min(max(initial_s, floor_s), self.ceiling_s)
        self.version = 0

    def first_delay(self) -> tuple[float, int]:
        return self.value_s, self.version

    def pending(self, *, first_delay: float, pending_for: float) -> None:
        raised = min(self.ceiling_s, pending_for * 1.5, first_delay * 2)
        if raised > self.value_s:
            self.value_s = raised
            self.version += 1

    def hit(self, *, version: int) -> None:
        if version == self.version and self.value_s > self.floor_s:
            self.value_s = max(self.floor_s, self.value_s * 0.99)
            self.version += 1

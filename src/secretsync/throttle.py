"""How fast the client may talk to SourceCraft: an AIMD concurrency limit plus a shared pause.

A 429 means the whole run is too fast, not one request, so both live in one object that every
request of a client passes through: the number of requests in flight never exceeds the
current limit (at most `parallelism`), and nothing is sent before `resume_at`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager


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

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[int]:
        """Hold one of the `limit` slots while sending; yields the epoch for `throttled`."""
        await self._acquire()
        try:
            # The pause is waited out while holding the slot: nothing else may be sent either.
            while (wait := self.resume_at - self._clock()) > 0:
                await self._sleep(wait)
            yield self._epoch
        finally:
            self._release()

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
                self._release()  # granted, then cancelled before we could use it
            else:
                self._waiters.remove(waiter)
            raise

    def _grant(self) -> None:
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def _release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._grant()
                waiter.set_result(None)

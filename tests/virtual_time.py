"""An asyncio event loop with virtual time, shared by the client and applier tests.

When every task waits, the loop jumps straight to the next timer instead of sleeping, so
retry back-offs and poll schedules run instantly and are asserted to the millisecond.
"""

from __future__ import annotations

import asyncio
import random
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _VirtualSelector(selectors.DefaultSelector):
    def __init__(self, loop: VirtualLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[Any]:
        if timeout is None:
            raise RuntimeError("deadlock: every task is waiting and no timer is set")
        self._loop.now += timeout  # nothing is ready: jump to the next timer
        if self._loop.now > 24 * 3600:
            raise RuntimeError("virtual time ran past a day: something waits forever")
        return super().select(0)


class VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self.now = 0.0
        super().__init__(selector=_VirtualSelector(self))

    def time(self) -> float:
        return self.now


def run(coro: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=VirtualLoop) as runner:
        return runner.run(coro)


def now() -> float:
    return asyncio.get_running_loop().time()


class HalfRandom(random.Random):
    """Full jitter at exactly half the ceiling: 0.125, 0.25, 0.5, ... with the defaults."""

    def random(self) -> float:
        return 0.5

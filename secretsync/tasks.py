"""A bounded, order-keeping async map: N workers, never a task per item."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


async def map_bounded(fn: Callable[[T], Awaitable[R]], items: Sequence[T], limit: int) -> list[R]:
    """Run `fn` over `items` with at most `limit` running at once; results in item order.

    The first exception cancels the remaining work and propagates: callers use this for
    reads, where one failure makes the whole answer unusable.
    """
    results: list[R | None] = [None] * len(items)
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while next_index < len(items):
            index = next_index
            next_index += 1
            results[index] = await fn(items[index])

    workers = [asyncio.create_task(worker()) for _ in range(max(1, min(limit, len(items))))]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
    return results  # type: ignore[return-value]  # every slot was filled


async def gather_all(awaitables: Sequence[Awaitable[R]]) -> list[R]:
    """Run `awaitables` at once; results in order. The first exception cancels the others
    (unlike asyncio.gather, which leaves them running) and propagates; so does cancellation."""
    if len(awaitables) <= 1:
        return [await a for a in awaitables]
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        pending = [task for task in tasks if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
    for task in tasks:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            raise error  # the failure, not the cancellations it caused
    return [task.result() for task in tasks]


A = TypeVar("A")
B = TypeVar("B")


async def overlap(
    first: Awaitable[A], second: Awaitable[B], *, then: Callable[[A], object] | None = None
) -> tuple[A, B]:
    """Run `first` and `second` at once; results in that order.

    `first` decides: its failure wins even if `second` failed earlier (and cancels `second`),
    and `then` runs before any failure of `second` propagates. Used to read local values while
    the remote reads are in flight without changing which error a user sees first.
    """
    first_task = asyncio.ensure_future(first)
    second_task = asyncio.ensure_future(second)
    try:
        first_result = await first_task
        if then is not None:
            then(first_result)
        return first_result, await second_task
    finally:
        pending = [task for task in (first_task, second_task) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        if second_task.done() and not second_task.cancelled():
            second_task.exception()  # retrieved: a failure `first` overrode is not logged

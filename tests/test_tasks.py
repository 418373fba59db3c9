"""map_bounded, gather_all and overlap: order, bounds, and what a failure does to the rest."""

from __future__ import annotations

import asyncio

import pytest

from secretsync.tasks import gather_all, map_bounded, overlap


def test_map_bounded_keeps_item_order_and_its_bound():
    running = peak = 0

    async def work(n: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001 * (5 - n % 5))  # finish out of order
        running -= 1
        return n * 10

    results = asyncio.run(map_bounded(work, list(range(20)), 3))
    assert results == [n * 10 for n in range(20)]
    assert peak == 3


def test_gather_all_returns_results_in_order():
    async def after(delay: float, value: str) -> str:
        await asyncio.sleep(delay)
        return value

    async def main() -> list[str]:
        return await gather_all([after(0.003, "a"), after(0.001, "b"), after(0.002, "c")])

    assert asyncio.run(main()) == ["a", "b", "c"]
    assert asyncio.run(gather_all([])) == []


def test_gather_all_cancels_the_others_when_one_fails():
    finished: list[str] = []
    cancelled: list[str] = []

    async def slow(name: str) -> str:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append(name)
            raise
        finished.append(name)
        return name

    async def fails() -> str:
        await asyncio.sleep(0.001)
        raise RuntimeError("listing failed")

    async def main() -> None:
        await gather_all([slow("x"), fails(), slow("y")])

    with pytest.raises(RuntimeError, match="listing failed"):
        asyncio.run(main())
    assert sorted(cancelled) == ["x", "y"]
    assert finished == []


def test_gather_all_passes_cancellation_on_to_every_awaitable():
    cancelled: list[int] = []

    async def slow(n: int) -> int:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append(n)
            raise
        return n

    async def main() -> None:
        task = asyncio.ensure_future(gather_all([slow(1), slow(2)]))
        await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert sorted(cancelled) == [1, 2]


def test_overlap_runs_both_at_once_and_returns_both_results():
    order: list[str] = []

    async def step(name: str, n: int) -> str:
        for i in range(n):
            order.append(f"{name}{i}")
            await asyncio.sleep(0)
        return name

    results = asyncio.run(overlap(step("a", 3), step("b", 3), then=lambda a: order.append("then")))
    assert results == ("a", "b")
    assert order[:4] == ["a0", "b0", "a1", "b1"]  # interleaved, not one after the other
    assert order.index("then") > order.index("a2")


def test_overlap_first_failure_wins_over_an_earlier_second_failure():
    async def fail_late() -> None:
        await asyncio.sleep(0.01)
        raise KeyError("first")

    async def fail_at_once() -> None:
        raise ValueError("second")

    with pytest.raises(KeyError):
        asyncio.run(overlap(fail_late(), fail_at_once()))


def test_overlap_first_failure_cancels_the_second():
    cancelled = asyncio.Event()

    async def main() -> None:
        async def fail() -> None:
            await asyncio.sleep(0)
            raise KeyError("first")

        async def forever() -> None:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                cancelled.set()
                raise

        with pytest.raises(KeyError):
            await overlap(fail(), forever())
        assert cancelled.is_set()

    asyncio.run(main())


def test_overlap_calls_then_before_a_second_failure_propagates():
    seen: list[str] = []

    async def value() -> str:
        await asyncio.sleep(0.01)
        return "values"

    async def fail_at_once() -> None:
        raise ValueError("remote")

    with pytest.raises(ValueError):
        asyncio.run(overlap(value(), fail_at_once(), then=seen.append))
    assert seen == ["values"]

"""SourceCraftClient: the adaptive limiter and the shared pause after a 429."""

import asyncio

import httpx

from secretsync.sourcecraft.throttle import AdaptiveLimiter
from tests.sourcecraft.helpers import call, stamp
from tests.virtual_time import now, run


def test_limiter_halves_on_429_and_recovers(httpx_mock):
    httpx_mock.add_response(status_code=429)
    httpx_mock.add_response(json={}, is_reusable=True)

    async def sequence(client):
        limits = []
        for _ in range(6):
            await client.get_user()
            limits.append(client.stats.limit)
        return limits

    # 429: 4 -> 2; then one more after every `limit` consecutive successes, up to 4
    assert call(sequence, parallelism=4) == [2, 3, 3, 3, 4, 4]


def test_in_flight_never_exceeds_the_limit_and_a_burst_of_429s_halves_once(httpx_mock):
    in_flight = []
    state = {"now": 0, "throttle": 4}

    async def server(request):
        state["now"] += 1
        in_flight.append(state["now"])
        try:
            await asyncio.sleep(1.0)
            if state["throttle"]:
                state["throttle"] -= 1
                return httpx.Response(429)
            return httpx.Response(200, json={})
        finally:
            state["now"] -= 1

    httpx_mock.add_callback(server, is_reusable=True)

    async def many(client):
        await asyncio.gather(*(client.get_user() for _ in range(12)))
        return client.stats

    stats = call(many, parallelism=4)
    assert max(in_flight) == 4
    assert stats.peak_in_flight == 4
    assert stats.throttled == 4
    assert stats.requests == 16
    # the four 429s came from one window: one halving (4 -> 2, not 4 -> 1), then recovery
    assert in_flight == [1, 2, 3, 4, 1, 2, 1, 2, 3, 1, 2, 3, 4, 1, 2, 3]


def test_retry_after_pauses_every_request_not_just_the_throttled_one(httpx_mock):
    times = []
    httpx_mock.add_callback(stamp(times, httpx.Response(429, headers={"Retry-After": "5"})))
    httpx_mock.add_callback(stamp(times, httpx.Response(200, json={})), is_reusable=True)

    async def staggered(client):
        async def later(delay):
            await asyncio.sleep(delay)
            await client.get_user()

        await asyncio.gather(later(0), later(1), later(2))

    call(staggered)
    assert times == [0.0, 5.0, 5.0, 5.0]


def test_a_request_cancelled_while_queued_gives_its_turn_away():
    async def main():
        limiter = AdaptiveLimiter(parallelism=1, clock=now, sleep=asyncio.sleep)
        done = []

        async def hold(name):
            await limiter.take()
            try:
                await asyncio.sleep(1)
                done.append(name)
            finally:
                limiter.give_back()

        a = asyncio.ensure_future(hold("a"))
        await asyncio.sleep(0)
        b = asyncio.ensure_future(hold("b"))
        c = asyncio.ensure_future(hold("c"))
        await asyncio.sleep(0)  # b and c queue behind a
        a.cancel()  # a's release runs first and skips b's cancelled turn
        b.cancel()
        results = await asyncio.gather(a, b, c, return_exceptions=True)
        return results, done, limiter.in_flight

    (a, b, c), done, in_flight = run(main())
    assert isinstance(a, asyncio.CancelledError)
    assert isinstance(b, asyncio.CancelledError)
    assert c is None
    assert done == ["c"]
    assert in_flight == 0

"""AdaptiveLimiter.take/give_back, the slot without a context manager that every request of
the client takes: a release hands the slot on, and no path keeps a slot."""

import asyncio

import httpx
import pytest

from secretsync.errors import ApiError, TransportError
from secretsync.sourcecraft.throttle import AdaptiveLimiter
from tests.sourcecraft.helpers import call
from tests.virtual_time import now, run


def test_give_back_hands_the_slot_to_a_waiting_request():
    async def main():
        limiter = AdaptiveLimiter(parallelism=1, clock=now, sleep=asyncio.sleep)
        first = await limiter.take()
        second = asyncio.ensure_future(limiter.take())
        await asyncio.sleep(0)  # queued behind the first
        limiter.give_back()
        handed = (limiter.in_flight, len(limiter._waiters))  # granted to the waiter at once
        epoch = await second
        limiter.give_back()
        alone = (limiter.in_flight, len(limiter._waiters))  # nobody waiting: simply free
        return first, epoch, handed, alone

    assert run(main()) == (0, 0, (1, 0), (0, 0))


def test_take_returns_the_epoch_after_a_decrease():
    async def main():
        limiter = AdaptiveLimiter(parallelism=4, clock=now, sleep=asyncio.sleep)
        epoch = await limiter.take()
        limiter.throttled(epoch, None)
        limiter.give_back()
        return await limiter.take(), limiter.limit

    assert run(main()) == (1, 2)


def test_a_request_cancelled_during_the_shared_pause_gives_its_slot_back():
    async def main():
        limiter = AdaptiveLimiter(parallelism=2, clock=now, sleep=asyncio.sleep)
        limiter.resume_at = now() + 10
        waiting = asyncio.ensure_future(limiter.take())
        await asyncio.sleep(1)
        held = limiter.in_flight  # the pause is waited out holding the slot
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        return held, limiter.in_flight

    assert run(main()) == (1, 0)


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, json={"id": "u1"}),
        httpx.Response(400, json={"message": "no"}),
        httpx.Response(503),
        httpx.ConnectError("refused"),
    ],
    ids=["ok", "refused", "retried-out", "no-answer"],
)
def test_every_outcome_of_a_request_gives_its_slot_back(httpx_mock, answer):
    if isinstance(answer, Exception):
        httpx_mock.add_exception(answer, is_reusable=True)
    else:
        httpx_mock.add_response(
            status_code=answer.status_code, content=answer.content, is_reusable=True
        )

    async def ask(client):
        outcome = "answered"
        try:
            await client.get_user()
        except (ApiError, TransportError) as exc:
            outcome = type(exc).__name__
        return outcome, client._limiter.in_flight, client.stats.requests

    outcome, in_flight, requests = call(ask)
    assert outcome == {200: "answered", 400: "ApiError", 503: "ApiError"}.get(
        getattr(answer, "status_code", 0), "TransportError"
    )
    assert in_flight == 0
    assert requests >= 1


def test_a_request_cancelled_in_flight_gives_its_slot_back(httpx_mock):
    async def slow(request):
        await asyncio.sleep(60)
        return httpx.Response(200, json={})

    httpx_mock.add_callback(slow)

    async def cancel(client):
        task = asyncio.ensure_future(client.get_user())
        await asyncio.sleep(1)
        held = client._limiter.in_flight
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return held, client._limiter.in_flight

    assert call(cancel) == (1, 0)

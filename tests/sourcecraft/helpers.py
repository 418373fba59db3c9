"""Shared data and harness of the SourceCraftClient tests (pytest-httpx answers).

Coroutines run on an event loop with virtual time (`run`): `loop.time()` only moves when
every task is waiting, and then jumps straight to the next timer, so retry and back-off
waits are exact and take no real time. The client gets that clock and `asyncio.sleep`.
"""

import httpx

from secretsync.models import Secret
from secretsync.sourcecraft.client import SourceCraftClient
from tests.virtual_time import HalfRandom, now, run

BASE = "https://api.example.test/api/v1"  # a path prefix, to prove joins keep it
TOKEN = "tok-0123456789abcdef"
REPO_ID = "6f1c0a52-0000-4000-8000-000000000001"
SECRETS = f"{BASE}/repos/id:{REPO_ID}/secrets"
OP = {"operation_id": "op-1", "status": "scheduled", "status_url": None}


# GET /user is the plainest request: what every request shares (errors, retries, pacing) is
# tested through it.
Client = SourceCraftClient


def call(fn, **options):
    """Run `fn(client)` with a fresh client on the virtual clock; return its result."""

    async def main():
        async with httpx.AsyncClient() as http:
            client = Client(
                http,
                base_url=options.pop("base_url", BASE),
                token=Secret(TOKEN.encode()),
                clock=now,
                rng=HalfRandom(),
                **options,
            )
            return await fn(client)

    return run(main())


def with_stats(fn):
    async def both(client):
        return await fn(client), client.stats

    return both


def stamp(times, response):
    """A callback answering `response` and noting when (virtual time) it was asked."""

    def callback(request):
        times.append(now())
        return response

    return callback

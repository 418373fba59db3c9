"""How many names of one org make its listing worth it: resolving N slugs by single lookups
vs from the org's listing, at 20 ms latency and 16 in flight, in one run.

Two orgs: `dense` holds exactly the named repositories (the listing finds them all on its first
page), `sparse` holds 1,000 repositories with the named ones at its end (the first page finds
none, so the listing costs one request and one round trip before the single lookups). Each
figure is the median wall time of resolving all N (then nothing else), and its request count.

    .venv/bin/python benchmarks/resolve_threshold.py [--runs 7] [--names 1,2,3,4,6,8,16]

Measured 2026-11-29 (median of 5): the listing resolves a dense org in one round trip
(21-24 ms) whatever N, single lookups take 21-44 ms and N requests; in the sparse case the
listing costs one request more and 22-32 ms more, once per org. LIST_THRESHOLD
(secretsync/plan/resolving.py) is 4: from there a hit saves at least three times the requests
a miss costs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from secretsync.emulator.process import EmulatorProcess
from secretsync.models import RepoInfo, Secret
from secretsync.plan import resolving
from secretsync.sourcecraft.client import SourceCraftClient, build_http_client

TOKEN = "bench-token"


def seed(root: Path, most: int) -> Path:
    orgs = [
        {"slug": "dense", "repos": [{"slug": f"r{i:04d}"} for i in range(most)]},
        {"slug": "sparse", "repos": [{"slug": f"r{i:04d}"} for i in range(1000)]},
    ]
    path = root / "seed.json"
    path.write_text(json.dumps({"orgs": orgs}))
    return path


async def resolve(url: str, slugs: list[str], threshold: int) -> tuple[float, int]:
    resolving.LIST_THRESHOLD = threshold
    async with build_http_client(parallelism=16) as http:
        client = SourceCraftClient(http, base_url=url, token=Secret(TOKEN.encode()))
        await client.get_repo("dense/r0000")  # connect first: the figure is the resolving alone
        before = client.stats.requests
        found: list[RepoInfo | str] = []
        start = time.perf_counter()
        await resolving.locate(client, slugs, lambda _, a: found.append(a))
        await asyncio.gather(*(client.get_repo(a) for a in found if isinstance(a, str)))
        return time.perf_counter() - start, client.stats.requests - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--names", default="1,2,3,4,6,8,16")
    args = parser.parse_args()
    counts = [int(n) for n in args.names.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        emulator = EmulatorProcess(
            [
                *("--seed", str(seed(Path(tmp), max(counts))), "--token", TOKEN, "--quiet"),
                *("--latency-ms", "20", "--max-in-flight", "16"),
            ]
        )
        try:
            print("names | org    | single lookups        | from the listing")
            for n in counts:
                for org, first in (("dense", 0), ("sparse", 1000 - n)):
                    slugs = [f"{org}/r{i:04d}" for i in range(first, first + n)]
                    rows = []
                    for threshold in (10**9, 1):  # single lookups, then the listing
                        runs = [
                            asyncio.run(resolve(emulator.url, slugs, threshold))
                            for _ in range(args.runs)
                        ]
                        wall = statistics.median(r[0] for r in runs) * 1000
                        rows.append(f"{wall:6.1f} ms, {runs[0][1]:2d} requests")
                    print(f"{n:5d} | {org:6s} | {rows[0]:21s} | {rows[1]}")
        finally:
            emulator.stop()


if __name__ == "__main__":
    main()

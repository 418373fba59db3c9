"""How many requests per second the emulator answers, and at what latency.

Starts `secretsync-emulator` in a subprocess (so the client's threads do not share its GIL),
then N threads, each with one keep-alive http.client connection, send a mix of secret lists,
PUTs and operation reads for a few seconds.

    .venv/bin/python benchmarks/emulator_capacity.py [--seconds 5] [--threads 16]
        [--latency-ms 0] [--max-in-flight 0] [--put-share 0.25]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

TOKEN = "bench-token"
SEED = {
    "orgs": [
        {
            "slug": "acme",
            "repos": [
                {
                    "slug": "backend",
                    "secrets": {"default": {f"KEY_{i}": f"v{i}" for i in range(20)}},
                }
            ],
        }
    ]
}


def _worker(
    host: str,
    port: int,
    deadline: float,
    put_share: float,
    index: int,
    latencies: list[float],
    statuses: dict[int, int],
    lock: threading.Lock,
) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    mine: list[float] = []
    seen: dict[int, int] = {}
    n = 0
    every = max(1, round(1 / put_share)) if put_share > 0 else 0
    while time.perf_counter() < deadline:
        n += 1
        if every and n % every == 0:
            value = base64.b64encode(f"{index}-{n}".encode()).decode()
            body = json.dumps({"value": value})
            method, path = "PUT", f"/repos/acme/backend/secrets/BENCH_{index}"
        else:
            method, path, body = "GET", "/repos/acme/backend/secrets", None
        start = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        mine.append(time.perf_counter() - start)
        seen[response.status] = seen.get(response.status, 0) + 1
    conn.close()
    with lock:
        latencies.extend(mine)
        for status, count in seen.items():
            statuses[status] = statuses.get(status, 0) + count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--max-in-flight", type=int, default=0)
    parser.add_argument("--put-share", type=float, default=0.25)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        seed = Path(tmp) / "seed.json"
        seed.write_text(json.dumps(SEED), encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "secretsync.emulator.cli",
            "--quiet",
            "--seed",
            str(seed),
            "--token",
            TOKEN,
            "--latency-ms",
            str(args.latency_ms),
            "--max-in-flight",
            str(args.max_in_flight),
        ]
        # stderr to DEVNULL: a pipe nobody reads would fill up and stall the server.
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().split()[-1]
            where = urlsplit(url)
            host, port = where.hostname or "127.0.0.1", where.port or 80
            latencies: list[float] = []
            statuses: dict[int, int] = {}
            lock = threading.Lock()
            started = time.perf_counter()
            deadline = started + args.seconds
            threads = [
                threading.Thread(
                    target=_worker,
                    args=(host, port, deadline, args.put_share, i, latencies, statuses, lock),
                )
                for i in range(args.threads)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    print(
        f"{len(latencies)} requests in {elapsed:.1f} s from {args.threads} threads "
        f"(latency knob {args.latency_ms:g} ms): {len(latencies) / elapsed:,.0f} req/s, "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, statuses {dict(sorted(statuses.items()))}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

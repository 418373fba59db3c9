"""secretsync at scale, against the local emulator: wall time, requests, 429s, RSS, efficiency.

The emulator runs as its own process with SourceCraft-like limits: 20 ms latency per request,
operations ending 100 ms after the write, at most 16 requests in flight (429 + Retry-After
beyond). The CLI runs as a subprocess exactly as CI would run it, so wall time includes
interpreter start-up and peak RSS is that of the secretsync process alone.

    lower bound = minimum requests the job needs x 20 ms / 16 + 100 ms   (the issue's formula)
    efficiency  = lower bound / median wall time

A plan waits for no operation, so for it a stricter bound without the 100 ms is printed too.
Each run's wall time is split, with the emulator's request log, into start-up (process start to
the first request's arrival), requests (first arrival to last answer) and tail (to exit).

Run: .venv/bin/python benchmarks/bench.py [--runs 3] [--sequential all|small|none]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from secretsync.emulator.process import EmulatorProcess

LATENCY_S = 0.020
OP_DELAY_S = 0.100
MAX_IN_FLIGHT = 16
TOKEN = "bench-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}  # the emulator's control routes need it too


@dataclass(frozen=True)
class Case:
    name: str
    command: str  # plan | apply
    repos: int
    groups: int
    keys: int  # per group
    converged: bool  # the emulator already holds every value

    @property
    def secrets(self) -> int:
        return self.repos * self.groups * self.keys

    @property
    def min_requests(self) -> int:
        reads = self.repos + self.repos * self.groups  # resolve each slug, list each group
        writes = 0 if self.converged else self.secrets
        return reads + 2 * writes  # a write and at least one poll of its operation

    @property
    def lower_bound_s(self) -> float:
        return self.min_requests * LATENCY_S / MAX_IN_FLIGHT + OP_DELAY_S

    @property
    def strict_bound_s(self) -> float | None:
        """Without the 100 ms: a plan has no operation to wait for."""
        return self.lower_bound_s - OP_DELAY_S if self.converged else None


CASES = [
    Case(
        name="apply 2,000 new secrets, 100 repos x 1 group",
        command="apply",
        repos=100,
        groups=1,
        keys=20,
        converged=False,
    ),
    Case(
        name="apply 10,000 new secrets, 500 repos",
        command="apply",
        repos=500,
        groups=1,
        keys=20,
        converged=False,
    ),
    Case(
        name="plan converged, 500 repos x 2 groups x 10 keys",
        command="plan",
        repos=500,
        groups=2,
        keys=10,
        converged=True,
    ),
]


def value(repo: int, group: int, key: int) -> str:
    return f"value-{repo}-{group}-{key}-{'x' * 24}"


def write_workspace(case: Case, root: Path) -> tuple[Path, Path]:
    """A manifest whose groups each read one .env file, and the emulator seed."""
    env_dir = root / "env"
    env_dir.mkdir(parents=True)
    lines = ["version: 1", "repos:"]
    seed_repos = []
    for r in range(case.repos):
        lines += [f"  - repo: bench/svc-{r:04d}", "    groups:"]
        stored: dict[str, dict[str, str]] = {}
        for g in range(case.groups):
            group = "default" if g == 0 else f"env{g}"
            env_file = env_dir / f"svc-{r:04d}-{group}.env"
            env_file.write_text(
                "".join(f"KEY_{k:02d}={value(r, g, k)}\n" for k in range(case.keys))
            )
            lines += [f"      {group}:", f"        dotenv: env/{env_file.name}"]
            if case.converged:
                stored[group] = {f"KEY_{k:02d}": value(r, g, k) for k in range(case.keys)}
        seed_repos.append({"slug": f"svc-{r:04d}", "secrets": stored})
    manifest = root / "secretsync.yaml"
    manifest.write_text("\n".join(lines) + "\n")
    seed = root / "seed.json"
    seed.write_text(json.dumps({"orgs": [{"slug": "bench", "repos": seed_repos}]}))
    return manifest, seed


class Emulator(EmulatorProcess):
    def __init__(self, seed: Path) -> None:
        super().__init__(
            [
                "--seed",
                str(seed),
                "--token",
                TOKEN,
                "--quiet",
                "--latency-ms",
                str(LATENCY_S * 1000),
                "--op-delay-ms",
                str(OP_DELAY_S * 1000),
                "--max-in-flight",
                str(MAX_IN_FLIGHT),
            ]
        )

    def stats(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/_emulator/stats", headers=AUTH, timeout=10).json()

    def stored_count(self) -> int:
        state = httpx.get(f"{self.url}/_emulator/state", headers=AUTH, timeout=30).json()
        return sum(len(g) for r in state["repos"].values() for g in r["groups"].values())

    def close(self) -> None:
        self.stop()


@dataclass
class Run:
    wall_s: float
    rss_mb: float
    requests: int
    throttled: int
    startup_s: float  # process start -> first request arrives at the emulator
    requesting_s: float  # first arrival -> last answer
    tail_s: float  # last answer -> process exit


# The installed `secretsync` program, as users run it (`python -m` would add runpy's start-up).
_SCRIPT = Path(sys.executable).with_name("secretsync")
SECRETSYNC = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "secretsync"]


def run_cli(args: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB) and start time (time.time()) of one secretsync process."""
    started_at = time.time()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*SECRETSYNC, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.stderr is not None
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode not in (0,):
        raise SystemExit(f"secretsync {' '.join(args)} exited {proc.returncode}:\n{stderr}")
    return wall, usage.ru_maxrss / 1024, started_at


def run_case(case: Case, parallelism: int, root: Path) -> Run:
    manifest, seed = (
        write_workspace(case, root)
        if not (root / "seed.json").exists()
        else (root / "secretsync.yaml", root / "seed.json")
    )
    emulator = Emulator(seed)
    try:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "SOURCECRAFT_TOKEN": TOKEN,
            "SOURCECRAFT_API_URL": emulator.url,
            "NO_COLOR": "1",
        }
        args = [case.command, "-f", str(manifest), "--parallelism", str(parallelism), "--quiet"]
        if case.command == "apply":
            args.append("--yes")
        wall, rss, started_at = run_cli(args, env)
        stats = emulator.stats()
        # Not the request log: fetching 20,000 entries would grow this process, and a child
        # forked from it starts with its peak RSS.
        first, last = stats["first_received"], stats["last_answered"]
        if case.command == "apply" and emulator.stored_count() != case.secrets:
            raise SystemExit(f"{case.name}: emulator holds {emulator.stored_count()} secrets")
        return Run(
            wall_s=wall,
            rss_mb=rss,
            requests=stats["requests_total"],
            throttled=stats["throttled_429"],
            startup_s=first - started_at,
            requesting_s=last - first,
            tail_s=started_at + wall - last,
        )
    finally:
        emulator.close()


def measure(case: Case, parallelism: int, runs: int) -> list[Run]:
    with tempfile.TemporaryDirectory(prefix="secretsync-bench-") as tmp:
        return [run_case(case, parallelism, Path(tmp)) for _ in range(runs)]


def report_case(case: Case, fast: list[Run], slow: list[Run] | None) -> None:
    wall = statistics.median(r.wall_s for r in fast)
    writes = 0 if case.converged else case.secrets
    requests = statistics.median(r.requests for r in fast)
    print(f"\n{case.name}")
    strict = case.strict_bound_s
    print(
        f"  lower bound {case.lower_bound_s:.2f} s  ({case.min_requests} requests minimum"
        + (f"; {strict:.2f} s without the 100 ms)" if strict is not None else ")")
    )
    print(
        f"  {'parallelism':>11} {'wall (median)':>14} {'secrets/s':>10} {'req/write':>10} "
        f"{'429s':>6} {'peak RSS':>9} {'efficiency':>11}"
    )
    rows = [(16, fast)] + ([(1, slow)] if slow else [])
    for par, runs in rows:
        w = statistics.median(r.wall_s for r in runs)
        req = statistics.median(r.requests for r in runs)
        per_write = f"{req / writes:.2f}" if writes else "-"
        print(
            f"  {par:>11} {w:>12.2f} s {case.secrets / w:>10.0f} {per_write:>10} "
            f"{max(r.throttled for r in runs):>6} {max(r.rss_mb for r in runs):>6.0f} MB "
            f"{case.lower_bound_s / w:>11.2f}"
        )
    if strict is not None:
        print(f"  efficiency against the bound without the 100 ms: {strict / wall:.2f}")
    startup, requesting, tail = (
        statistics.median(getattr(r, part) for r in fast)
        for part in ("startup_s", "requesting_s", "tail_s")
    )
    print(
        f"  wall time split (medians): start-up {startup:.3f} s, requests {requesting:.3f} s, "
        f"tail {tail:.3f} s"
    )
    if slow:
        ratio = statistics.median(r.wall_s for r in slow) / wall
        print(f"  parallelism 16 is {ratio:.1f}x faster than parallelism 1 (medians, same run)")
    print(f"  runs: {', '.join(f'{r.wall_s:.2f}' for r in fast)} s; requests sent {requests:.0f}")


def version_case(runs: int) -> None:
    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([*SECRETSYNC, "--version"], check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
    print(
        f"\nsecretsync --version: median {statistics.median(walls):.3f} s wall over {runs} runs "
        f"(target <= 0.3 s)"
    )


def emulator_capacity() -> None:
    """The emulator must not be the bottleneck: measure it alone first, with a plain threaded
    standard-library client (16 keep-alive connections), at 0 ms and at the benchmark's 20 ms."""
    script = Path(__file__).with_name("emulator_capacity.py")
    for latency, cap in (("0", "0"), (str(LATENCY_S * 1000), str(MAX_IN_FLIGHT))):
        out = subprocess.run(
            [
                sys.executable,
                str(script),
                "--seconds",
                "3",
                "--threads",
                "16",
                "--latency-ms",
                latency,
                "--max-in-flight",
                cap,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        print(f"emulator alone: {out}")
    ideal = MAX_IN_FLIGHT / LATENCY_S
    print(f"  (at 20 ms and 16 in flight no client can exceed {ideal:.0f} req/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per case at parallelism 16")
    parser.add_argument(
        "--sequential",
        choices=["all", "small", "none"],
        default="small",
        help="also run cases at --parallelism 1 (once each): all, only the "
        "2,000-secret and plan cases (default), or none",
    )
    parser.add_argument("--case", type=int, action="append", help="only case N (1-3); repeatable")
    parser.add_argument("--no-capacity", action="store_true", help="skip the emulator-alone run")
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; emulator: "
        f"{LATENCY_S * 1000:.0f} ms latency, {OP_DELAY_S * 1000:.0f} ms operations, "
        f"{MAX_IN_FLIGHT} in flight"
    )
    if not args.no_capacity:
        emulator_capacity()
    for index, case in enumerate(CASES, start=1):
        if args.case and index not in args.case:
            continue
        fast = measure(case, 16, args.runs)
        slow = None
        if args.sequential == "all" or (
            args.sequential == "small"
            and case.secrets <= 10_000
            and case.repos * case.groups <= 1000
            and index != 2
        ):
            slow = measure(case, 1, 1)
        report_case(case, fast, slow)
    version_case(max(5, args.runs * 3))


if __name__ == "__main__":
    main()

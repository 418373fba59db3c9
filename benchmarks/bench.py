"""secretsync against the local emulator, side by side with a plain client, in one run.

The emulator runs as its own process with SourceCraft-like limits: 20 ms latency per request
(50 ms in the *50 cases), operations ending 100 ms after the write, at most 16 requests in
flight (429 + Retry-After beyond). secretsync runs as a subprocess exactly as CI would run it,
from a regular install in a new venv with its runtime dependencies only (`--dev-install`: the
development venv's editable one instead), so wall time includes interpreter start-up and peak
RSS is that of the secretsync process.
Each run of secretsync is followed by a run of the plain baseline (baseline.py: 16 threads,
one keep-alive http.client connection each) on a fresh emulator with the same settings, so
both see the same stretch of a noisy machine.

    request bound = minimum requests x latency / 16 in flight (+ 100 ms when the job writes)
    efficiency    = request bound / median wall time
    vs baseline   = median wall time / the baseline's median wall time

Each secretsync run's wall time is split, with the emulator's request log, into start-up
(process start to the first request's arrival), requests (first arrival to last answer) and
tail (to exit). The slot turnaround is what the request phase holds beyond the emulator's own
time per request: (16 x requests phase - the time requests spent in the emulator) / requests,
for secretsync and the baseline alike. `validate` of a 26,000-line manifest is split into
parse, schema, rules and build, timed in process.

Run: .venv/bin/python benchmarks/bench.py [--runs 3] [--quick] [--case KEY ...]
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
from tables import print_row, summary
from workspace import (
    MAX_IN_FLIGHT,
    SECRETSYNC,
    Case,
    anchors_supported,
    install_as_users_do,
    write_validate_manifest,
    write_workspace,
)

from secretsync.emulator.process import EmulatorProcess

TOKEN = "bench-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}  # the emulator's control routes need it too
BASELINE = Path(__file__).with_name("baseline.py")


def plan_1000(name: str, key: str, latency_s: float) -> Case:
    return Case(name, "plan", 1000, 2, 10, True, key=key, latency_s=latency_s, shared=True)


def apply_2000(name: str, key: str, latency_s: float) -> Case:
    return Case(name, "apply", 100, 1, 20, False, key=key, latency_s=latency_s)


CASES = [
    plan_1000("plan converged, 1,000 repos x 2 groups x 10 keys", "plan", 0.020),
    apply_2000("apply 2,000 new secrets, 100 repos x 1 group", "apply", 0.020),
    plan_1000("the same plan at 50 ms latency", "plan50", 0.050),
    apply_2000("the same apply at 50 ms latency", "apply50", 0.050),
    Case(
        "apply 10,000 new secrets, 500 repos (peak RSS)",
        key="rss10k",
        command="apply",
        repos=500,
        groups=1,
        keys=20,
        converged=False,
        baseline=False,
        runs=1,
    ),
    Case(
        "apply 100,000 new secrets, 5,000 repos (peak RSS; 1 ms latency, 10 ms operations)",
        key="rss100k",
        command="apply",
        repos=5000,
        groups=1,
        keys=20,
        converged=False,
        latency_s=0.001,
        op_delay_s=0.010,
        baseline=False,
        runs=1,
        speed=False,
    ),
]
QUICK = ("plan", "apply")


class Emulator(EmulatorProcess):
    def __init__(self, seed: Path, case: Case) -> None:
        super().__init__(
            [
                *("--seed", str(seed), "--token", TOKEN, "--quiet"),
                *("--latency-ms", str(case.latency_s * 1000)),
                *("--op-delay-ms", str(case.op_delay_s * 1000)),
                *("--max-in-flight", str(MAX_IN_FLIGHT)),
            ]
        )

    def stats(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/_emulator/stats", headers=AUTH, timeout=10).json()  # type: ignore[no-any-return]

    def stored_count(self) -> int:
        state = httpx.get(f"{self.url}/_emulator/state", headers=AUTH, timeout=60).json()
        return sum(len(g) for r in state["repos"].values() for g in r["groups"].values())


@dataclass
class Run:
    wall_s: float
    rss_mb: float
    requests: int
    throttled: int
    startup_s: float  # process start -> first request arrives at the emulator
    requesting_s: float  # first arrival -> last answer
    tail_s: float  # last answer -> process exit
    cpu_s: float  # user + system CPU of the client process: steadier than wall on a busy host
    # Between an answer leaving the emulator and the same slot's next request arriving, on
    # average: (slots x request phase - time requests spent in the emulator) / requests. It
    # holds the client's own work per request, its waiting behind other answers, and the
    # emulator's wait for its GIL before it reads a request line.
    turnaround_ms: float


def run_process(command: list[str], env: dict[str, str]) -> tuple[float, float, float, float]:
    """Wall seconds, peak RSS (MB), start time (time.time()) and CPU seconds of one process."""
    started_at = time.time()
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    assert proc.stderr is not None
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed:\n{stderr}")
    return wall, usage.ru_maxrss / 1024, started_at, usage.ru_utime + usage.ru_stime


def run_once(case: Case, root: Path, *, baseline: bool) -> Run:
    emulator = Emulator(root / "seed.json", case)
    try:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "SOURCECRAFT_TOKEN": TOKEN,
            "SOURCECRAFT_API_URL": emulator.url,
            "NO_COLOR": "1",
        }
        if baseline:
            command = [sys.executable, str(BASELINE), case.command, "--url", emulator.url]
            command += ["--job", str(root / "job.json"), "--threads", str(MAX_IN_FLIGHT)]
        else:
            command = [*SECRETSYNC, case.command, "-f", str(root / "secretsync.yaml"), "--quiet"]
            command += ["--parallelism", str(MAX_IN_FLIGHT)]
            command += ["--yes"] if case.command == "apply" else []
        wall, rss, started_at, cpu = run_process(command, env)
        # Not the request log: fetching 20,000 entries would grow this process, and a child
        # forked from it starts with its peak RSS.
        stats = emulator.stats()
        if case.command == "apply" and emulator.stored_count() != case.secrets:
            raise SystemExit(f"{case.name}: the emulator holds {emulator.stored_count()} secrets")
        first, last = stats["first_received"], stats["last_answered"]
        return Run(
            wall_s=wall,
            rss_mb=rss,
            requests=stats["requests_total"],
            throttled=stats["throttled_429"],
            startup_s=first - started_at,
            requesting_s=last - first,
            tail_s=started_at + wall - last,
            cpu_s=cpu,
            turnaround_ms=(MAX_IN_FLIGHT * (last - first) - stats["held_s"])
            / stats["requests_total"]
            * 1000,
        )
    finally:
        emulator.stop()


def median(runs: list[Run], field: str) -> float:
    return float(statistics.median(getattr(r, field) for r in runs))


def measure(case: Case, runs: int, tmp: Path) -> dict[str, Any]:
    root = tmp / (case.key or "case")
    write_workspace(case, root)
    ours: list[Run] = []
    plain: list[Run] = []
    for _ in range(case.runs or runs):  # alternate, so both meet the same noise
        ours.append(run_once(case, root, baseline=False))
        if case.baseline:
            plain.append(run_once(case, root, baseline=True))
    wall = median(ours, "wall_s")
    row: dict[str, Any] = {
        "case": case.name,
        "latency_ms": case.latency_s * 1000,
        "wall_s": wall,
        "runs_s": [round(r.wall_s, 3) for r in ours],
        "bound_s": case.lower_bound_s,
        "min_requests": case.min_requests,
        "efficiency": case.lower_bound_s / wall if case.speed else None,
        "requests": median(ours, "requests"),
        "req_per_secret": median(ours, "requests") / case.secrets,
        "throttled": max(r.throttled for r in ours),
        "rss_mb": max(r.rss_mb for r in ours),
        "split_s": [median(ours, f) for f in ("startup_s", "requesting_s", "tail_s")],
        "cpu_s": median(ours, "cpu_s"),
        "turnaround_ms": median(ours, "turnaround_ms"),
    }
    if plain:
        row["baseline_s"] = median(plain, "wall_s")
        row["baseline_runs_s"] = [round(r.wall_s, 3) for r in plain]
        row["vs_baseline"] = wall / row["baseline_s"]
        row["baseline_req_per_secret"] = median(plain, "requests") / case.secrets
        row["baseline_cpu_s"] = median(plain, "cpu_s")
        row["baseline_turnaround_ms"] = median(plain, "turnaround_ms")
    return row


def validate_case(runs: int, tmp: Path) -> dict[str, Any]:
    manifest, _ = write_validate_manifest(tmp / "validate", 26_000)
    lines = manifest.read_text().count("\n")
    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [*SECRETSYNC, "validate", "-f", str(manifest), "--no-env", "-q"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        walls.append(time.perf_counter() - start)
    split = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("validate_split.py")),
            str(manifest),
            "--runs",
            str(runs),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    parts = json.loads(split)
    print(
        f"\nsecretsync validate, {lines:,} lines: {statistics.median(walls):.3f} s wall median "
        "(process); CPU time in process: "
        + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in parts.items())
    )
    return {"lines": lines, "wall_s": statistics.median(walls), "split_s": parts}


def version_case(runs: int) -> float:
    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([*SECRETSYNC, "--version"], check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
    print(f"\nsecretsync --version: median {statistics.median(walls):.3f} s over {runs} runs")
    return statistics.median(walls)


def emulator_capacity() -> None:
    """The emulator must not be the bottleneck: measure it alone first, with a plain threaded
    standard-library client (16 keep-alive connections), at 0 ms and at 20 ms."""
    script = Path(__file__).with_name("emulator_capacity.py")
    for latency, cap in (("0", "0"), ("20", str(MAX_IN_FLIGHT))):
        out = subprocess.run(
            [
                *(sys.executable, str(script), "--seconds", "3", "--threads", "16"),
                *("--latency-ms", latency, "--max-in-flight", cap),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        print(f"emulator alone: {out}")
    print(f"  (at 20 ms and 16 in flight no client can exceed {MAX_IN_FLIGHT / 0.020:.0f} req/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per case (median taken)")
    keys = [c.key for c in CASES]
    parser.add_argument(
        "--case", action="append", choices=[*keys, "validate"], help="only this case; repeatable"
    )
    parser.add_argument(
        "--quick", action="store_true", help="1 run each of the 20 ms plan and apply, validate"
    )
    parser.add_argument("--no-capacity", action="store_true", help="skip the emulator-alone run")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--dev-install",
        action="store_true",
        help="run the development venv's secretsync (editable) instead of a regular install",
    )
    args = parser.parse_args()
    chosen = args.case or ([*QUICK, "validate"] if args.quick else [*keys, "validate"])
    runs = 1 if args.quick else args.runs
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: {os.cpu_count()} "
        f"cores, load {os.getloadavg()[0]:.1f}, Python {sys.version.split()[0]}; emulator: "
        f"{MAX_IN_FLIGHT} in flight, 100 ms operations unless said"
    )
    if not args.no_capacity and not args.quick:
        emulator_capacity()
    rows = []
    with tempfile.TemporaryDirectory(prefix="secretsync-bench-") as tmp:
        if not args.dev_install:
            install_as_users_do(Path(tmp))
        print(f"secretsync: {SECRETSYNC[0]}")
        if not anchors_supported(Path(tmp)):
            print(
                "note: this secretsync refuses YAML anchors; the plan's shared groups are "
                "written out in every repository instead (same content)"
            )
        for case in CASES:
            if case.key in chosen:
                rows.append(measure(case, runs, Path(tmp)))
                print_row(rows[-1])
        validate = validate_case(max(3, runs), Path(tmp)) if "validate" in chosen else None
        version = version_case(max(5, runs * 3))
    summary(rows)
    if args.json:
        payload = {"rows": rows, "validate": validate, "version_s": version}
        args.json.write_text(json.dumps(payload, indent=1))


if __name__ == "__main__":
    main()

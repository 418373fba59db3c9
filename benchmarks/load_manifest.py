"""Manifest loading and source resolution at bench.py's sizes, in process: median wall times.

Workspaces: bench.py's three cases (write_workspace: one .env file per group, 10-20 keys),
the brief's 144 KB manifest (50 repos x 3 groups x 20 secrets), a manifest just under the
1 MiB limit (same shape, ~360 repos), and issue 13's anchored manifest (1,000 repos x 2 groups
x 10 keys, one anchored group reused by every repository: `groups: {default: *g, prod: *g}`).
The last three name env variables, resolved from a generated environment. Target: load +
resolve <= 100 ms for the bench cases, load <= 2 s for 1 MiB.

    .venv/bin/python benchmarks/load_manifest.py [--runs 7] [--compare REV] [--cpu]

--cpu takes the least process CPU time of the runs instead of the median wall time: on a
machine shared with other work, the figure that moves least between runs.

Each figure is taken with libyaml (ruamel.yaml.clib) when it is installed, and with the
pure-Python parser (as without the C extension). --compare REV also runs the same cases on
the package tree of git revision REV (e.g. the commit before the speed work) in a subprocess.
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
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from bench import CASES
from workspace import write_workspace

TARGET_BENCH_S = 0.100
TARGET_MIB_S = 2.0


def big_manifest(root: Path, repos: int | None, limit: int) -> tuple[Path, dict[str, str]]:
    """repos x 3 groups x 20 env secrets (or as many repos as fit in `limit` bytes)."""
    lines = ["version: 1", "repos:"]
    environ: dict[str, str] = {}
    size = sum(len(line) + 1 for line in lines)
    r = 0
    while repos is None or r < repos:
        block = [f"  - repo: acme/service-{r:04d}", "    groups:"]
        for group in ("default", "staging", "production"):
            block += [f"      {group}:", "        secrets:"]
            for k in range(20):
                name = f"SVC{r:04d}_{group.upper()}_KEY_{k:02d}"
                block.append(f"          KEY_{k:02d}: {{env: {name}}}")
                environ[name] = f"value-{r}-{k}"
        text = "\n".join(block) + "\n"
        if size + len(text) > limit:
            break
        lines += block
        size += len(text)
        r += 1
    path = root / "secretsync.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path, environ


def anchored_manifest(root: Path, repos: int) -> tuple[Path, dict[str, str]]:
    """Issue 13's plan case: every repository reuses one anchored group of 10 env secrets."""
    secrets = ", ".join(f"KEY_{k:02d}: {{env: SHARED_KEY_{k:02d}}}" for k in range(10))
    environ = {f"SHARED_KEY_{k:02d}": f"value-{k}" for k in range(10)}
    lines = ["version: 1", "repos:"]
    group = f"{{secrets: {{{secrets}}}}}"
    lines.append(f"  - {{repo: acme/service-0000, groups: {{default: &g {group}, prod: *g}}}}")
    for r in range(1, repos):
        lines.append(f"  - {{repo: acme/service-{r:04d}, groups: {{default: *g, prod: *g}}}}")
    path = root / "secretsync.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path, environ


def workspaces(root: Path) -> list[tuple[str, Path, dict[str, str], float | None]]:
    out: list[tuple[str, Path, dict[str, str], float | None]] = []
    for index, case in enumerate(CASES):
        folder = root / f"case{index}"
        manifest, _ = write_workspace(case, folder)
        out.append((case.name, manifest, {}, TARGET_BENCH_S))
    for name, repos, limit, target in (
        ("144 KB: 50 repos x 3 groups x 20 env secrets", 50, 1 << 20, None),
        ("1 MiB: repos x 3 groups x 20 env secrets, up to the size limit", None, 1 << 20, None),
    ):
        folder = root / name.split(":")[0].replace(" ", "")
        folder.mkdir()
        manifest, environ = big_manifest(folder, repos, limit)
        out.append((name, manifest, environ, target))
    folder = root / "anchored"
    folder.mkdir()
    manifest, environ = anchored_manifest(folder, 1000)
    name = "anchored: 1,000 repos x 2 groups x 10 keys, one group reused"
    out.append((name, manifest, environ, None))
    return out


CPU = "--cpu" in sys.argv  # the --compare child gets the flag too


def median_s(action: Callable[[], object], runs: int) -> float:
    clock = time.process_time if CPU else time.perf_counter
    times = []
    for _ in range(runs):
        start = clock()
        action()
        times.append(clock() - start)
    return min(times) if CPU else statistics.median(times)


def stages() -> tuple[Any, Callable[..., Any], Callable[..., Any]]:
    """yamlread, load_manifest and resolve_sources, wherever the tree measured keeps them."""
    try:
        from secretsync.manifest import yamlread
        from secretsync.manifest.loader import load_manifest
        from secretsync.sources.resolve import resolve_sources
    except ImportError:  # a revision from before the subpackages (--compare)
        from secretsync import yamlread  # type: ignore[attr-defined,no-redef]
        from secretsync.manifest import load_manifest  # type: ignore[attr-defined,no-redef]
        from secretsync.sources import resolve_sources  # type: ignore[attr-defined,no-redef]
    return yamlread, load_manifest, resolve_sources


def measure(runs: int, pure: bool) -> list[dict[str, object]]:
    yamlread, load_manifest, resolve_sources = stages()
    if pure:
        yamlread._c_parser = None  # as without the C extension
    results = []
    with tempfile.TemporaryDirectory(prefix="secretsync-load-") as tmp:
        for name, path, environ, target in workspaces(Path(tmp)):
            big = path.stat().st_size > 200_000
            n = max(3, runs // 3) if big else runs
            try:
                manifest = load_manifest(path)  # warm: schema compiled, imports done
            except Exception as err:  # a tree that refuses anchors: its own ManifestError
                if type(err).__name__ != "ManifestError":
                    raise
                results.append({"name": name, "bytes": path.stat().st_size, "refused": True})
                continue
            load = median_s(partial(load_manifest, path), n)
            resolve = median_s(partial(resolve_sources, manifest, environ), n)
            results.append(
                {
                    "name": name,
                    "bytes": path.stat().st_size,
                    "load": load,
                    "resolve": resolve,
                    "target": target,
                    "runs": n,
                }
            )
    return results


def libyaml_available() -> bool:
    return getattr(stages()[0], "_c_parser", None) is not None


def show(title: str, results: list[dict[str, object]]) -> None:
    print(f"\n{title}")
    print(f"  {'workspace':<66} {'bytes':>9} {'load':>9} {'resolve':>9} {'total':>9}")
    for r in results:
        if r.get("refused"):
            print(f"  {str(r['name'])[:66]:<66} {r['bytes']:>9}   refused (anchors)")
            continue
        load, resolve = float(r["load"]), float(r["resolve"])  # type: ignore[arg-type]
        total = load + resolve
        verdict = ""
        if r["target"] is not None:
            verdict = "  ok" if total <= float(r["target"]) else "  OVER target"  # type: ignore[arg-type]
        elif int(r["bytes"]) > 1_000_000:  # type: ignore[call-overload]
            verdict = "  ok" if load <= TARGET_MIB_S else "  OVER target (load)"
        print(
            f"  {str(r['name'])[:66]:<66} {r['bytes']:>9} {load * 1000:>7.1f}ms "
            f"{resolve * 1000:>7.1f}ms {total * 1000:>7.1f}ms{verdict}"
        )


def compare(rev: str, runs: int) -> None:
    repo = Path(__file__).resolve().parent.parent
    # Before the move to the top level, the package lived in src/.
    probe = ["git", "-C", str(repo), "cat-file", "-e", f"{rev}:src"]
    old = subprocess.run(probe, capture_output=True).returncode == 0
    with tempfile.TemporaryDirectory(prefix="secretsync-rev-") as tmp:
        archive = subprocess.run(
            ["git", "-C", str(repo), "archive", rev, "src" if old else "secretsync"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        env = {**os.environ, "PYTHONPATH": str(Path(tmp) / "src") if old else tmp}
        out = subprocess.run(
            [sys.executable, __file__, "--runs", str(runs), "--json", *(["--cpu"] if CPU else [])],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    for title, results in json.loads(out):
        show(f"{title} -- at {rev}", results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per figure (median)")
    parser.add_argument("--compare", metavar="REV", help="also measure git revision REV")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cpu", action="store_true", help="least CPU time, not median wall")
    args = parser.parse_args()
    modes = [("libyaml", False)] if libyaml_available() else []
    modes.append(("pure-Python parser", True))
    if args.json:  # the --compare child: the tree at REV, as it loads by default
        print(json.dumps([("as installed", measure(args.runs, pure=False))]))
        return
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; "
        f"libyaml {'installed' if libyaml_available() else 'NOT installed'}"
    )
    if args.compare:
        compare(args.compare, args.runs)
    for title, pure in modes:
        show(f"{title} -- working tree", measure(args.runs, pure))


if __name__ == "__main__":
    main()

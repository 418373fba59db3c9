"""What hostile manifests cost: wall time and peak RSS of `secretsync validate` and `plan`.

Two inputs from issue 12, both small files:
  near-miss  3,000 sets and 3,000 `use:` names one letter off a set's name (~105 KB):
             "did you mean" compared every pair.
  expansion  300 groups reading one 20,000-key .env file whole (~177 KB): 6 million secrets.
  at-limit   12 such groups: 240,000 secrets, near the most one run may plan (limits.py).

Each runs the installed `secretsync` program as a subprocess (as CI does), `plan` against the
emulator on 127.0.0.1. Peak RSS is the child's (resource.getrusage of the children).
A run is stopped after --timeout seconds (the old code took minutes).

Run: .venv/bin/python benchmarks/hostile_input.py [--timeout 120]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from secretsync.emulator.process import EmulatorProcess

TOKEN = "bench-token"


def near_miss(folder: Path) -> Path:
    lines = ["version: 1", "sets:"]
    lines += [f"  set{i:05d}x:\n    secrets: {{K: {{env: V}}}}" for i in range(3000)]
    lines += ["repos:", "  - repo: acme/app", "    groups:"]
    lines += [f"      g{i}: {{use: [set{i:05d}y]}}" for i in range(3000)]
    path = folder / "near-miss.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def expansion(folder: Path, groups: int = 300, name: str = "expansion") -> Path:
    (folder / "big.env").write_text("".join(f"K{i}=v{i}\n" for i in range(20_000)))
    lines = ["version: 1", "repos:", "  - repo: acme/app", "    groups:"]
    lines += [f"      g{i}: {{dotenv: big.env}}" for i in range(groups)]
    path = folder / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def measure(argv: list[str], env: dict[str, str], timeout: float) -> str:
    """Run `argv` in a fresh wrapper process so RUSAGE_CHILDREN is that one child's peak."""
    wrapper = """
import resource, subprocess, sys, time
argv, timeout = sys.argv[2:], float(sys.argv[1])
start = time.perf_counter()
try:
    proc = subprocess.run(argv, capture_output=True, timeout=timeout)
    first = (proc.stderr.decode().splitlines() or [''])[0][:100]
    outcome = f'exit {proc.returncode}: {first}'
except subprocess.TimeoutExpired:
    outcome = f'stopped after {timeout:.0f} s'
seconds = time.perf_counter() - start
rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f'{seconds:8.2f} s {rss_mb:8.1f} MB  {outcome}')
"""
    command = [sys.executable, "-c", wrapper, str(timeout), *argv]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    program = str(Path(sys.executable).with_name("secretsync"))
    seed = "tokens: [bench-token]\norgs:\n  - slug: acme\n    repos:\n      - slug: app\n"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "seed.yaml").write_text(seed)
        cases = [
            ("near-miss", near_miss(folder)),
            ("expansion", expansion(folder)),
            # Near the most a manifest may now ask for: 12 groups x 20,000 keys.
            ("at-limit", expansion(folder, groups=12, name="at-limit")),
        ]
        with EmulatorProcess(["--seed", str(folder / "seed.yaml")]) as emulator:
            env = {
                "PATH": os.environ.get("PATH", ""),
                "SOURCECRAFT_TOKEN": TOKEN,
                "SOURCECRAFT_API_URL": emulator.url,
                "V": "value",
            }
            for name, manifest in cases:
                for command in ("validate", "plan"):
                    argv = [program, command, "-f", str(manifest)]
                    line = measure(argv, env, args.timeout).rstrip()
                    print(f"{name:10} {command:8} {line}", flush=True)


if __name__ == "__main__":
    main()

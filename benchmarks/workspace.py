"""bench.py's cases and the files each one runs on: manifest, .env files, emulator seed, and
the same job as JSON for the plain baseline (baseline.py)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from secretsync.plan.resolving import LIST_THRESHOLD
from secretsync.sourcecraft.client import ORG_PAGE_SIZE

MAX_IN_FLIGHT = 16
OP_DELAY_S = 0.100

# The `secretsync` program the cases run: the development venv's until install_as_users_do()
# points it at a regular install (`python -m` would add runpy's start-up). Changed in place, so
# every module that imported it sees the change.
_SCRIPT = Path(sys.executable).with_name("secretsync")
SECRETSYNC = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "secretsync"]
REPO_ROOT = Path(__file__).resolve().parent.parent


def install_as_users_do(folder: Path) -> None:
    """Install secretsync into a new venv in `folder` the way CI and users do (a regular
    install, runtime dependencies only) and run that from now on: what is timed is what users
    run, without setuptools' editable finder in every import or the test tools (pygments, which
    httpx imports when present). Measured side by side, the two start alike (within noise)."""
    venv = folder / "user-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The development venv may have no pip of its own (scripts/bootstrap): use the host's, as
    # bootstrap does, through --python.
    has_pip = subprocess.run(
        [sys.executable, "-m", "pip", "--version"], capture_output=True, check=False
    )
    pip = [sys.executable, "-m", "pip"] if has_pip.returncode == 0 else ["python3", "-m", "pip"]
    installed = subprocess.run(
        [
            *pip,
            "--python",
            str(python),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(REPO_ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if installed.returncode != 0:
        raise SystemExit(f"installing secretsync for the benchmark failed:\n{installed.stderr}")
    SECRETSYNC[:] = [str(venv / "bin" / "secretsync")]


@dataclass(frozen=True)
class Case:
    name: str
    command: str  # plan | apply
    repos: int
    groups: int
    keys: int  # per group
    converged: bool  # the emulator already holds every value
    key: str = ""  # short name for --case
    latency_s: float = 0.020
    op_delay_s: float = OP_DELAY_S
    shared: bool = False  # one set of groups (anchored in the manifest) reused by every repo
    baseline: bool = True  # also run the plain baseline
    runs: int | None = None  # None: --runs
    speed: bool = True  # False: run for its peak RSS; CPU-bound, so no request bound applies

    @property
    def secrets(self) -> int:
        return self.repos * self.groups * self.keys

    @property
    def resolve_requests(self) -> int:
        """Slugs of one org: pages of its listing from LIST_THRESHOLD names, else one each."""
        if self.repos >= LIST_THRESHOLD:
            return math.ceil(self.repos / ORG_PAGE_SIZE)
        return self.repos

    @property
    def min_requests(self) -> int:
        reads = self.resolve_requests + self.repos * self.groups  # one listing per group
        writes = 0 if self.converged else self.secrets
        return reads + 2 * writes  # a write and at least one poll of its operation

    @property
    def lower_bound_s(self) -> float:
        """Minimum requests x latency / 16 in flight, plus one operation's duration when the
        job writes (a plan has no operation to wait for)."""
        wire = self.min_requests * self.latency_s / MAX_IN_FLIGHT
        return wire if self.converged else wire + self.op_delay_s


def value(repo: int, group: int, key: int) -> str:
    return f"value-{repo}-{group}-{key}-{'x' * 24}"


def group_name(g: int) -> str:
    return "default" if g == 0 else f"env{g}"


_anchors: bool | None = None


def anchors_supported(root: Path) -> bool:
    """Whether this secretsync reads YAML anchors (issue 13); until then the shared-group
    manifest is written out in full, with the same content."""
    global _anchors  # asked once per bench run
    if _anchors is None:
        folder = root / "anchor-probe"
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / "secretsync.yaml"
        probe.write_text(
            "version: 1\nrepos:\n  - repo: a/b\n    groups: &g\n      default:\n"
            "        secrets: {K: {env: K}}\n  - repo: a/c\n    groups: *g\n"
        )
        done = subprocess.run(
            [*SECRETSYNC, "validate", "-f", str(probe), "--no-env", "-q"],
            capture_output=True,
            check=False,
        )
        _anchors = done.returncode == 0
    return _anchors


def write_workspace(case: Case, root: Path) -> tuple[Path, Path]:
    """The manifest (groups read .env files), the emulator seed, and job.json beside them."""
    env_dir = root / "env"
    env_dir.mkdir(parents=True, exist_ok=True)
    anchored = case.shared and anchors_supported(root)
    lines = ["version: 1", "repos:"]
    seed_repos, job_repos = [], []
    for r in range(case.repos):
        lines.append(f"  - repo: bench/svc-{r:04d}")
        if anchored and r > 0:
            lines.append("    groups: *groups")
        else:
            lines.append("    groups: &groups" if anchored else "    groups:")
        source = 0 if case.shared else r  # shared: every repo holds repo 0's values
        wanted: dict[str, dict[str, str]] = {}
        for g in range(case.groups):
            group = group_name(g)
            wanted[group] = {f"KEY_{k:02d}": value(source, g, k) for k in range(case.keys)}
            env_file = env_dir / (f"{group}.env" if case.shared else f"svc-{r:04d}-{group}.env")
            if not env_file.exists():
                env_file.write_text("".join(f"{k}={v}\n" for k, v in wanted[group].items()))
            if not (anchored and r > 0):
                lines += [f"      {group}:", f"        dotenv: env/{env_file.name}"]
        seed_repos.append({"slug": f"svc-{r:04d}", "secrets": wanted if case.converged else {}})
        job_repos.append({"slug": f"bench/svc-{r:04d}", "groups": wanted})
    manifest = root / "secretsync.yaml"
    manifest.write_text("\n".join(lines) + "\n")
    seed = root / "seed.json"
    seed.write_text(json.dumps({"orgs": [{"slug": "bench", "repos": seed_repos}]}))
    (root / "job.json").write_text(json.dumps({"repos": job_repos}))
    return manifest, seed


def write_validate_manifest(root: Path, lines_wanted: int) -> tuple[Path, dict[str, str]]:
    """About `lines_wanted` lines: repos x 3 groups x 20 env secrets (68 lines a repo), with
    names short enough for 26,000 lines to stay under the 1 MiB manifest limit."""
    lines = ["version: 1", "repos:"]
    environ: dict[str, str] = {}
    r = 0
    while len(lines) < lines_wanted:
        lines += [f"  - repo: acme/service-{r:04d}", "    groups:"]
        for group in ("default", "staging", "production"):
            lines += [f"      {group}:", "        secrets:"]
            for k in range(20):
                name = f"S{r:04d}_{group[0].upper()}_{k:02d}"
                lines.append(f"          KEY_{k:02d}: {{env: {name}}}")
                environ[name] = f"value-{r}-{k}"
        r += 1
    path = root / "secretsync.yaml"
    root.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path, environ

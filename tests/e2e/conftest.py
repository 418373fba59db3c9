"""End-to-end fixtures: the emulator and the CLI each run as a real subprocess on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from secretsync.emulator.process import EmulatorProcess

TOKEN = "e2e-token-5f3a9c"


class RunningEmulator(EmulatorProcess):
    def __init__(self, args: list[str]) -> None:
        super().__init__(args)
        self._http = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )

    def control(self, name: str, body: dict[str, Any] | None = None) -> Any:
        if body is None and name not in ("reset-stats",):
            response = self._http.get(f"/_emulator/{name}")
        else:
            response = self._http.post(f"/_emulator/{name}", json=body or {})
        response.raise_for_status()
        return response.json()

    def secrets(self, repo: str, group: str = "default") -> dict[str, bytes | None]:
        repos = self.control("state")["repos"]
        entry = repos.get(repo) or next(r for r in repos.values() if r["id"] == repo)
        stored = entry["groups"].get(group, {})
        return {k: None if v is None else base64.b64decode(v) for k, v in stored.items()}

    def stats(self) -> dict[str, Any]:
        return self.control("stats")

    def configure(self, **knobs: Any) -> None:
        self.control("config", knobs)

    def writes(self) -> list[dict[str, Any]]:
        return [r for r in self.control("log")["requests"] if r["method"] in ("PUT", "DELETE")]

    def stop(self) -> None:
        self._http.close()
        super().stop()


def start_emulator(seed: Path, *args: str, state_file: Path | None = None) -> RunningEmulator:
    command = ["--seed", str(seed), "--token", TOKEN, "--quiet", *args]
    if state_file is not None:
        command += ["--state-file", str(state_file)]
    return RunningEmulator(command)


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


@dataclass
class Workspace:
    """A manifest folder, its environment, and a way to run the CLI in it."""

    root: Path
    env: dict[str, str]

    def write(self, name: str, text: str | bytes) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return path

    def run(self, *args: str, timeout: float = 60, **env: str) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "secretsync", *args],
            cwd=self.root,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def spawn(self, *args: str, ignore_sigint: bool = False, **env: str) -> subprocess.Popen[str]:
        """`ignore_sigint`: start it as `cmd &` in a non-interactive shell would."""
        return subprocess.Popen(
            [sys.executable, "-m", "secretsync", *args],
            cwd=self.root,
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            preexec_fn=_ignore_sigint if ignore_sigint else None,
        )

    def report(self, name: str) -> dict[str, Any]:
        return json.loads((self.root / name).read_text())


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def write_seed(path: Path, seed: dict[str, Any]) -> Path:
    path.write_text(json.dumps(seed))
    return path


@pytest.fixture
def emulators() -> Iterator[list[RunningEmulator]]:
    running: list[RunningEmulator] = []
    yield running
    for emulator in running:
        emulator.stop()


@pytest.fixture
def launch(tmp_path: Path, emulators: list[RunningEmulator]):  # type: ignore[no-untyped-def]
    def go(seed: dict[str, Any], *args: str, state_file: Path | None = None) -> RunningEmulator:
        emulator = start_emulator(
            write_seed(tmp_path / f"seed{len(emulators)}.json", seed), *args, state_file=state_file
        )
        emulators.append(emulator)
        return emulator

    return go


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    root.mkdir()
    # A clean environment, but for coverage's own variables: scripts/coverage measures the
    # CLI in these child processes too.
    keep = {
        k: v
        for k, v in os.environ.items()
        if k in ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR") or k.startswith("COVERAGE_")
    }
    keep.pop("SOURCECRAFT_API_URL", None)
    return Workspace(root=root, env={**keep, "SOURCECRAFT_TOKEN": TOKEN, "NO_COLOR": "1"})


def wait_until(predicate: Any, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)

"""`secretsync-emulator` as a child process, for tests and benchmarks that want it in its own
interpreter (so its threads never share the client's GIL)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence

LISTENING = "secretsync-emulator listening on "


class EmulatorProcess:
    """Starts the emulator on 127.0.0.1, a free port, with `args`; `url` once it listens."""

    def __init__(self, args: Sequence[str]) -> None:
        command = [sys.executable, "-m", "secretsync.emulator.cli", "--port", "0", *args]
        # stderr to DEVNULL: a pipe nobody reads would fill up and stall the server.
        self.proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith(LISTENING):
            self.stop()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.url = line[len(LISTENING) :].strip()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

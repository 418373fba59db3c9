"""A small hostile HTTP/1.1 server on 127.0.0.1, in a background thread, for tests that attack
secretsync from the network side.

It parses requests by hand (nothing normalises what arrives: the request line is recorded as
received) and writes whatever its handler returns: an answer in one piece, or pieces with
pauses between them (a drip), or an endless stream it stops writing when the client hangs
up. Optionally over TLS. A request in absolute form (`GET http://host/path`, as a client sends
it to a proxy) is answered too, so the same server can stand in for a proxy.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Seen:
    line: str  # the request line, exactly as received
    method: str
    target: str  # the request target as received (absolute form when sent to a proxy)
    path: str  # the target's path and query, whatever its form
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    """Bytes to write, with float items meaning 'pause this many seconds here'."""

    pieces: Iterable[bytes | float]
    close: bool = False  # hang up after the answer


Handler = Callable[[Seen], Reply]


def answer(
    status: int = 200,
    body: bytes = b"",
    *headers: str,
    length: bool = True,
    close: bool = False,
) -> Reply:
    head = [f"HTTP/1.1 {status} {'OK' if status < 400 else 'Error'}", *headers]
    if length:
        head.append(f"Content-Length: {len(body)}")
    return Reply([("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body], close=close)


def json_answer(status: int, document: object, *headers: str) -> Reply:
    body = json.dumps(document).encode()
    return answer(status, body, "Content-Type: application/json", *headers)


@dataclass
class HostileServer:
    handler: Handler
    tls: ssl.SSLContext | None = None
    seen: list[Seen] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def __enter__(self) -> HostileServer:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hostile-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the hostile server did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def lines(self) -> list[str]:
        return [s.line for s in self.seen]

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())
        self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        tasks: set[asyncio.Task[None]] = set()

        def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.ensure_future(self._serve(reader, writer))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        server = await asyncio.start_server(accept, "127.0.0.1", 0, ssl=self.tls)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
                    return
                line, *rest = head.decode("latin-1").rstrip("\r\n").split("\r\n")
                method, target, _ = line.split(" ", 2)
                headers = {}
                for item in rest:
                    name, _, value = item.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                parts = urlsplit(target)
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                if not target.startswith(("http://", "https://")):
                    path = target
                seen = Seen(line, method, target, path, headers, body)
                self.seen.append(seen)
                try:
                    reply = self.handler(seen)
                except Exception as exc:  # a broken test handler: say so, answer 500
                    self.errors.append(exc)
                    reply = answer(500, b"handler failed", close=True)
                for piece in reply.pieces:
                    if isinstance(piece, float):
                        await asyncio.sleep(piece)
                        continue
                    writer.write(piece)
                    await writer.drain()
                if reply.close:
                    return
        except (ConnectionError, ssl.SSLError, asyncio.CancelledError):
            return
        finally:
            writer.close()


# ---------------------------------------------------------------------------- a fake API

REPO_ID = "6f1c0a52-0000-4000-8000-00000000beef"


class FakeSourceCraft:
    """Just enough of the API for plan and apply on one repository, `acme/app`: listings
    from `groups` (group -> key -> value), writes answered with a finished operation, or a
    failed one for the keys in `failing`. The server's own checks are none: whatever target
    arrives is recorded and answered, as a careless server would."""

    def __init__(self, groups: dict[str, dict[str, str]], *, failing: Iterable[str] = ()):
        self.groups = groups
        self.failing = set(failing)

    def __call__(self, seen: Seen) -> Reply:
        path, _, query = seen.path.partition("?")
        if path == "/repos/acme/app" or path == f"/repos/id:{REPO_ID}":
            repo = {"id": REPO_ID, "slug": "app", "organization": {"slug": "acme"}}
            return json_answer(200, repo)
        group = query.partition("secret_group=")[2].partition("&")[0] or "default"
        if seen.method == "GET" and path == f"/repos/id:{REPO_ID}/secrets":
            stored = self.groups.get(group, {})
            entries = [{"key": k, "value": _b64(v)} for k, v in stored.items()]
            return json_answer(200, {"secrets": entries})
        if seen.method in ("PUT", "DELETE"):
            key = path.rpartition("/")[2]
            if key in self.failing:
                error = {"error_code": "ValidationError", "message": "refused"}
                failed = {"operation_id": "op-f", "status": "failed", "error": error}
                return json_answer(202, failed)
            return json_answer(202, {"operation_id": f"op-{len(key)}", "status": "success"})
        return json_answer(404, {"error_code": "NotFound", "message": "no such path"})


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# ---------------------------------------------------------------------------- the CLI

MANIFEST = """\
version: 1
repos:
  - repo: acme/app
    groups:
      default:
        prune: true
        secrets:
          KEEP: {env: KEEP_VALUE}
"""


def run_cli(
    root: Path, *args: str, api_url: str, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    """`secretsync ARGS` in `root` against `api_url`, with a clean environment."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    base |= {
        "SOURCECRAFT_TOKEN": "hostile-test-token",
        "SOURCECRAFT_API_URL": api_url,
        "KEEP_VALUE": "kept",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "secretsync", *args],
        cwd=root,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )

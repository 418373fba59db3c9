"""`Emulator`: the API and control endpoints served from a daemon thread.

Per API request: count it and apply the caps (429) -> sleep until `latency_ms` after its
arrival -> maybe an injected 500/503 -> under the state lock: settle due operations, answer,
save the state file if data changed -> leave the in-flight count -> maybe drop the connection,
else write the answer.
The in-flight count is left before the answer is written: a client that sends its next
request the moment it reads an answer must not find its previous one still counted.

Control endpoints (not counted, never faulted): GET /_emulator/stats, /_emulator/log,
/_emulator/state, /_emulator/config; POST /_emulator/reset-stats, /_emulator/config (JSON knobs).
They need one of the emulator's bearer tokens, like the API: the state holds every value and
the config can add tokens.

Every request must name the emulator by a loopback name or the address it is bound to in its
Host header (421 otherwise): a web page that points its own DNS name at 127.0.0.1 (DNS
rebinding) can make a browser send requests here, but only with its own name as the Host.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from secretsync.emulator.api import authorized, classify, dispatch
from secretsync.emulator.config import EmulatorConfig
from secretsync.emulator.httpd import Handler, Server, read_body, send
from secretsync.emulator.protocol import Call, Reply, error_reply
from secretsync.emulator.seed import read_seed_file, save_state, world_from_seed
from secretsync.emulator.traffic import Traffic

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/_emulator/"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def _is_loopback_ip(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Emulator:
    """The SourceCraft secrets API on 127.0.0.1, for tests and benchmarks.

    `seed` is a dict in the seed format (see `seed`), a path to a seed file, or None.
    With `state_file`, an existing file is loaded instead of the seed, and the whole state is
    written there after every change. `clock` and `sleep` are seams for exact tests.
    """

    def __init__(
        self,
        seed: Mapping[str, Any] | Path | str | None = None,
        config: EmulatorConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        state_file: Path | str | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._config = config or EmulatorConfig()
        self._address = (host, port)
        self._clock = clock
        self._sleep = sleep
        self._state_file = Path(state_file) if state_file is not None else None
        if self._state_file is not None and self._state_file.exists():
            seed = self._state_file
        data = read_seed_file(seed) if isinstance(seed, Path | str) else seed
        self._world = world_from_seed(data)
        self._lock = threading.Lock()
        self._traffic = Traffic(self._config.random_seed)
        self._base_ops = self._base_writes = 0
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        if self._state_file is not None and not self._state_file.exists():
            save_state(self._world, self._state_file)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> str:
        if self._server is None:
            self._server = Server(self._address, self._serve, self._clock)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="secretsync-emulator",
                daemon=True,
            )
            self._thread.start()
        return self.url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    # -- for tests and benchmarks ----------------------------------------------------------
    @property
    def config(self) -> EmulatorConfig:
        return self._config

    def configure(self, **knobs: Any) -> EmulatorConfig:
        config = self._config.with_overrides(knobs)
        if "random_seed" in knobs:
            self._traffic.reseed(config.random_seed)
        self._config = config
        return config

    def stats(self) -> dict[str, Any]:
        out = self._traffic.stats()
        with self._lock:
            out["operations_created"] = self._world.operations_created - self._base_ops
            out["writes_applied"] = self._world.writes_applied - self._base_writes
        return out

    def reset_stats(self) -> None:
        with self._lock:
            self._base_ops = self._world.operations_created
            self._base_writes = self._world.writes_applied
        self._traffic.reset()

    def request_log(self) -> list[dict[str, Any]]:
        return self._traffic.log()

    def secrets(self, repo: str, group: str = "default") -> dict[str, bytes | None]:
        """The settled content of a group; `repo` is "org/slug", a repo id, or a unique slug."""
        with self._lock:
            self._settle(self._clock())
            found = self._world.find(repo)
            if found is None:
                raise KeyError(repo)
            return dict(sorted(found.groups.get(group, {}).items()))

    def repo_id(self, slug: str) -> str:
        with self._lock:
            found = self._world.find(slug)
        if found is None:
            raise KeyError(slug)
        return found.id

    def state(self) -> dict[str, Any]:
        with self._lock:
            self._settle(self._clock())
            return self._world.snapshot()

    def _settle(self, now: float) -> None:
        """Caller holds the lock."""
        before = self._world.changes
        self._world.settle(now)
        self._saved_if_changed(before)

    def _saved_if_changed(self, changes_before: int) -> None:
        if self._state_file is not None and self._world.changes != changes_before:
            save_state(self._world, self._state_file)

    # -- serving ---------------------------------------------------------------------------
    def _serve(self, h: Handler) -> None:
        split = urlsplit(h.path)
        body = read_body(h)
        if not self._host_allowed(h.headers.get("Host")):
            rid = uuid.uuid4().hex
            message = "this emulator answers only to a loopback name or its bound address"
            send(h, error_reply(421, "MisdirectedRequest", message, rid), rid)
            return
        if split.path.startswith(CONTROL_PREFIX):
            if authorized(self._config, self._world, h.headers.get("Authorization")):
                reply = self._control(h.command, split.path, body)
            else:
                reply = error_reply(
                    401, "Unauthenticated", "missing or invalid bearer token", uuid.uuid4().hex
                )
            send(h, reply, str(reply.body.get("request_id", "")))
            return
        request_id = uuid.uuid4().hex
        # Split before decoding, so an encoded "/" stays inside its segment.
        segments = tuple(unquote(s) for s in split.path.strip("/").split("/"))
        kind = classify(h.command, segments)
        config = self._config
        if not self._traffic.admit(kind, self._clock(), config):
            retry = (("Retry-After", str(config.retry_after_s)),)
            reply = error_reply(
                429, "ResourceExhausted", "too many requests", request_id, None, retry
            )
            self._finish(h, split.path, split.query, kind, request_id, reply, drop=False)
            return
        try:
            if config.latency_ms > 0:
                # Latency counts from the request's arrival, as a client sees it: the time
                # spent parsing headers and waiting for this thread is part of it, not extra.
                spent = self._clock() - h.received
                self._sleep(max(0.0, config.latency_ms / 1000 - spent))
            reply = self._answer(h, body, segments, split.query, config, request_id)
            drop = self._traffic.roll_drop(config)
        finally:
            self._traffic.release()
        self._finish(h, split.path, split.query, kind, request_id, reply, drop=drop)

    def _host_allowed(self, host_header: str | None) -> bool:
        """A Host of a loopback name or the bound address, with or without the port."""
        if not host_header or self._server is None:
            return False
        host = urlsplit(f"//{host_header}").hostname or ""
        try:
            port = urlsplit(f"//{host_header}").port
        except ValueError:
            return False
        bound_host, bound_port = self._server.server_address[:2]
        if port is not None and port != bound_port:
            return False
        return host in _LOOPBACK_NAMES or host == str(bound_host).lower() or _is_loopback_ip(host)

    def _answer(
        self,
        h: Handler,
        body: bytes | None,
        segments: tuple[str, ...],
        query: str,
        config: EmulatorConfig,
        request_id: str,
    ) -> Reply:
        fault = self._traffic.roll_error(config)
        if fault is not None:
            code = "Internal" if fault == 500 else "Unavailable"
            return error_reply(fault, code, "injected fault", request_id)
        if body is None:
            return error_reply(413, "PayloadTooLarge", "body too large or unreadable", request_id)
        call = Call(
            method=h.command,
            segments=segments,
            query=parse_qs(query, keep_blank_values=True),
            authorization=h.headers.get("Authorization"),
            body=body,
            base_url=f"http://{h.headers.get('Host')}" if h.headers.get("Host") else self.url,
            request_id=request_id,
        )
        try:
            with self._lock:
                now = self._clock()
                before = self._world.changes
                self._world.settle(now)
                reply = dispatch(self._world, config, call, now)
                self._saved_if_changed(before)
        except Exception:
            log.exception("emulator bug answering %s %s", h.command, "/".join(segments))
            return error_reply(500, "Internal", "emulator error", request_id)
        return reply

    def _finish(
        self, h: Handler, path: str, query: str, kind: str, rid: str, reply: Reply, *, drop: bool
    ) -> None:
        status = 0 if drop else reply.status
        self._traffic.record(
            method=h.command,
            path=path,
            query=query,
            status=status,
            kind=kind,
            received=h.received,
            answered=self._clock(),
        )
        log.info("%s %s%s %s", h.command, path, f"?{query}" if query else "", status or "dropped")
        if drop:
            h.close_connection = True
            with contextlib.suppress(OSError):
                h.connection.shutdown(socket.SHUT_RDWR)
            return
        send(h, reply, rid)

    def _control(self, method: str, path: str, body: bytes | None) -> Reply:
        name = path[len(CONTROL_PREFIX) :]
        rid = uuid.uuid4().hex
        allowed = {"stats": "GET", "log": "GET", "state": "GET", "reset-stats": "POST"}
        if name == "config":
            if method == "GET":
                return Reply(status=200, body=self._config.public())
            if method == "POST":
                try:
                    knobs = json.loads(body if body is not None else b"")
                    if not isinstance(knobs, dict):
                        raise ValueError("the body must be a JSON object of knobs")
                    return Reply(status=200, body=self.configure(**knobs).public())
                except (ValueError, TypeError) as exc:
                    return error_reply(400, "ValidationError", str(exc), rid)
        elif name not in allowed:
            return error_reply(404, "NotFound", "no such control endpoint", rid)
        if method != allowed.get(name, "GET or POST"):
            return error_reply(405, "MethodNotAllowed", f"{method} is not allowed here", rid)
        if name == "stats":
            return Reply(status=200, body=self.stats())
        if name == "log":
            return Reply(status=200, body={"requests": self.request_log()})
        if name == "state":
            return Reply(status=200, body=self.state())
        self.reset_stats()
        return Reply(status=200, body=self.stats())

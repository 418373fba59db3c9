"""`secretsync-emulator`: serve the emulator until SIGTERM or SIGINT.

stdout gets exactly one line, `secretsync-emulator listening on http://HOST:PORT` (scripts
parse it); the request log (method, path, status; never a value or a token) goes to stderr.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from types import FrameType

from secretsync.emulator.config import DEFAULT_TOKEN, DELETE_MISSING_MODES, EmulatorConfig
from secretsync.emulator.process import LISTENING
from secretsync.emulator.seed import SeedError
from secretsync.emulator.server import Emulator

TOKEN_ENV = "SECRETSYNC_EMULATOR_TOKEN"  # noqa: S105 (a variable name)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="secretsync-emulator",
        description="A local emulator of the SourceCraft secrets API, for tests and benchmarks.",
        epilog="The seed file format, the fault knobs and the admin routes (/_emulator/...) "
        "are described in docs/emulator.md.",
    )
    add = p.add_argument
    add("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    add("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
    add("--seed", metavar="FILE", help="YAML or JSON seed: tokens, orgs, repos, secrets")
    add("--state-file", metavar="FILE", help="load from FILE if present; save every change")
    add(
        "--token",
        action="append",
        default=[],
        help=f"accepted bearer token (repeatable; default: ${TOKEN_ENV} or {DEFAULT_TOKEN!r})",
    )
    add("--latency-ms", type=float, default=0.0, help="time from a request's arrival to its answer")
    add("--op-delay-ms", type=float, default=0.0, help="time for a write operation to end")
    add("--max-in-flight", type=int, default=0, help="429 beyond this many concurrent requests")
    add("--max-rps", type=float, default=0.0, help="429 beyond this many requests per second")
    add("--retry-after", type=int, default=1, metavar="S", help="Retry-After of a 429, seconds")
    add("--error-rate", type=float, default=0.0, help="fraction of requests answered 500/503")
    add("--random-seed", type=int, help="seed of the error and drop dice")
    add("--fail-key", action="append", default=[], help="operations on KEY end failed")
    add("--cancel-key", action="append", default=[], help="operations on KEY end cancel")
    add("--stuck-key", action="append", default=[], help="operations on KEY never end")
    add("--drop-rate", type=float, default=0.0, help="fraction of answers dropped (socket shut)")
    add(
        "--delete-missing",
        choices=DELETE_MISSING_MODES,
        default="404",
        help="DELETE of an absent key: 404, or an operation ending failed or success",
    )
    add("--quiet", action="store_true", help="no request log on stderr")
    return p


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    env = os.environ if environ is None else environ
    tokens = tuple(args.token) or ((env[TOKEN_ENV],) if env.get(TOKEN_ENV) else ())
    try:
        config = EmulatorConfig(
            tokens=tokens,
            latency_ms=args.latency_ms,
            op_delay_ms=args.op_delay_ms,
            max_in_flight=args.max_in_flight,
            max_rps=args.max_rps,
            retry_after_s=args.retry_after,
            error_rate=args.error_rate,
            random_seed=args.random_seed,
            fail_keys=frozenset(args.fail_key),
            cancel_keys=frozenset(args.cancel_key),
            stuck_keys=frozenset(args.stuck_key),
            drop_rate=args.drop_rate,
            delete_missing=args.delete_missing,
        )
    except ValueError as exc:
        parser.error(str(exc))

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("secretsync.emulator")
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if args.quiet else logging.INFO)

    try:
        emulator = Emulator(
            args.seed, config, host=args.host, port=args.port, state_file=args.state_file
        )
        url = emulator.start()
    except SeedError as exc:
        print(f"secretsync-emulator: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"secretsync-emulator: error: cannot serve: {exc.strerror or exc}", file=sys.stderr)
        return 1

    # A thread whose latency sleep ends waits for the GIL while another one parses; the default
    # 5 ms switch interval would add that wait to the answer of a busy emulator.
    sys.setswitchinterval(0.0005)
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    print(f"{LISTENING}{url}", flush=True)
    while not stop.wait(0.5):
        pass
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

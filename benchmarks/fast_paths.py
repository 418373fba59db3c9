"""Two fenced fast paths against the library paths they replace, in one run: medians of CPU
time (user + system), so that a shared machine's neighbours do not count.

- schema: the check compiled by `manifest/schemacheck.py` (`schema.quick_valid`) against
  jsonschema's `is_valid` on the same data, then `load_manifest` whole with the quick check
  and with it switched off (jsonschema then validates every manifest);
- .env: `sources/dotenvfile.py`'s reader of simple lines against python-dotenv's
  `parse_stream` (the fast path switched off) on bench.py's .env files and on one large
  file, then `resolve_sources` whole both ways;
- what each library costs to import, paid only on its path (a fresh interpreter each time);
- `secretsync validate` as a whole process on bench.py's plan workspace (500 repos x 2
  groups, one .env file each): both fast paths on, then each switched off. This is the gain
  set against a whole run.
- HTTP (`--only http`): the client's CPU per request (1,000 group listings in one process,
  against bench.py's emulator on the same workspace), as shipped and with each fast path of
  `http/` switched off: the URL shortcut (`urlpath.py`'s `UrlMaker` swap), the `send`
  override (`client.py`'s `LeanAsyncClient.send`), both, the HTTP/1.1 codec (`codec.py`;
  h11 in its place, through `h11codec.py`; also alone, on one listing's bytes), the prepared
  headers (`sourcecraft/prepared.py`: httpx's `build_request` instead), and the lean
  transport itself
  (`transport.py`; httpx's own in its place). The variants take turns, run after run, so
  that a shared machine's load falls on all of them alike.

    .venv/bin/python benchmarks/fast_paths.py [--runs 9] [--only schema|dotenv|process|http]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from bench import TOKEN, Emulator
from load_manifest import big_manifest
from workspace import Case, write_workspace

from secretsync.http import client as http_client
from secretsync.http import codec as codec_module
from secretsync.http import connection, h11codec, urlpath
from secretsync.manifest import schema
from secretsync.manifest.loader import load_manifest
from secretsync.manifest.yamlread import read_yaml
from secretsync.models import Secret
from secretsync.sourcecraft import prepared
from secretsync.sourcecraft.client import SourceCraftClient, build_http_client
from secretsync.sources import dotenvfile
from secretsync.sources.resolve import resolve_sources
from secretsync.tasks import map_bounded

PLAN_CASE = Case("plan converged", "plan", 500, 2, 10, True, key="fast-paths")
SCHEMA_OFF = "import secretsync.manifest.schema as s; s.quick_valid = lambda data: False"
DOTENV_OFF = "import secretsync.sources.dotenvfile as d; d._parse_simple = lambda text: None"


def median_s(action: Callable[[], object], runs: int) -> float:
    """Median CPU time (the machine may be shared: wall time would measure the neighbours)."""
    times = []
    for _ in range(runs):
        start = time.process_time()
        action()
        times.append(time.process_time() - start)
    return statistics.median(times)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def row(name: str, library: float, fast: float) -> None:
    print(f"  {name:<58} {ms(library)} {ms(fast)}   {library / fast:5.1f}x  -{ms(library - fast)}")


def header(title: str) -> None:
    print(f"\n{title}")
    print(f"  {'':<58} {'library':>11} {'fast path':>11}  {'ratio':>6}  {'saved':>11}")


def swap(owner: object, name: str, value: object) -> Callable[[], None]:
    """Set `owner.name` to `value` (a fast path switched off); returns the undo."""
    real = getattr(owner, name)
    setattr(owner, name, value)
    return lambda: setattr(owner, name, real)


def slow_dotenv() -> Callable[[], None]:
    """Switch the .env fast path off (as DOTENV_OFF does); returns the undo."""
    return swap(dotenvfile, "_parse_simple", lambda text: None)


def slow_schema() -> Callable[[], None]:
    return swap(schema, "quick_valid", lambda data: False)


def both_ways(
    action: Callable[[], object], switch_off: Callable[[], Callable[[], None]], n: int
) -> tuple[float, float]:
    fast = median_s(action, n)
    undo = switch_off()
    try:
        library = median_s(action, n)
    finally:
        undo()
    return library, fast


def schema_figures(root: Path, plan_manifest: Path, runs: int) -> None:
    header("schema check: jsonschema is_valid vs the compiled check (valid manifests)")
    (root / "mib").mkdir()
    mib, _ = big_manifest(root / "mib", None, 1 << 20)
    validator = schema._validator()
    for name, path in (("bench plan workspace (1,000 groups)", plan_manifest), ("1 MiB", mib)):
        doc, _ = read_yaml(path.read_text(), str(path))
        assert doc is not None and schema.quick_valid(doc.data) and validator.is_valid(doc.data)
        n = max(3, runs // 3) if path.stat().st_size > 200_000 else runs
        library = median_s(partial(validator.is_valid, doc.data), n)
        fast = median_s(partial(schema.quick_valid, doc.data), n)
        row(f"validate only: {name}, {path.stat().st_size:,} bytes", library, fast)
        library, fast = both_ways(partial(load_manifest, path), slow_schema, n)
        row(f"load_manifest whole: {name}", library, fast)


def dotenv_figures(root: Path, plan_manifest: Path, runs: int) -> None:
    header(".env files: python-dotenv's parse_stream vs the reader of simple lines")
    files = [p.read_bytes() for p in sorted((plan_manifest.parent / "env").iterdir())]
    total = sum(len(f) for f in files)
    library, fast = both_ways(lambda: [dotenvfile.parse_env(f) for f in files], slow_dotenv, runs)
    row(f"bench's {len(files):,} files of 10 KEY=value lines ({total:,} bytes)", library, fast)
    mixed = "".join(
        f"export KEY_{i:05d}='v {i}' # note\n# comment\nPLAIN_{i:05d}=v{i} #c\n\n"
        for i in range(6000)
    ).encode()
    plain = "".join(f"KEY_{i:05d}=value-{i}-{'x' * 24}\n" for i in range(20000)).encode()
    for name, data in (
        ("one file of plain KEY=value lines", plain),
        ("one file of quotes, export, comments", mixed),
    ):
        assert len(data) <= 1 << 20
        n = max(3, runs // 3)
        library, fast = both_ways(partial(dotenvfile.parse_env, data), slow_dotenv, n)
        row(f"{name} ({len(data):,} bytes)", library, fast)
    manifest = load_manifest(plan_manifest)
    library, fast = both_ways(lambda: resolve_sources(manifest, {}), slow_dotenv, runs)
    row("resolve_sources whole: bench plan workspace", library, fast)


def process_s(code: str, runs: int) -> float:
    """Median CPU time (user + system) of a fresh interpreter running `code`."""
    times = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times)


def process_figures(plan_manifest: Path, runs: int) -> None:
    print("\nimports, paid only on the library path (above a bare interpreter)")
    bare = process_s("pass", runs)
    for module in ("jsonschema", "dotenv.parser"):
        print(f"  import {module:<51} {ms(process_s(f'import {module}', runs) - bare)}")
    header("secretsync validate as a whole process (fresh interpreter each run)")
    validate = (
        "from secretsync.cli import main; "
        f"main(['validate', '-f', {str(plan_manifest)!r}, '--no-env'])"
    )
    fast = process_s(validate, runs)
    for name, off in (
        ("schema check off", SCHEMA_OFF),
        (".env reader off", DOTENV_OFF),
        ("both off", f"{SCHEMA_OFF}; {DOTENV_OFF}"),
    ):
        row(f"bench plan workspace, {name}", process_s(f"{off}; {validate}", runs), fast)


def url_off() -> Callable[[], None]:
    """Switch the URL shortcut off for clients made from now on."""
    made = urlpath.UrlMaker.__init__

    def public_only(self: urlpath.UrlMaker, base: httpx.URL) -> None:
        made(self, base)
        self._fast = False

    return swap(urlpath.UrlMaker, "__init__", public_only)


def send_off() -> Callable[[], None]:
    """Switch the send override off."""
    return swap(http_client.LeanAsyncClient, "send", httpx.AsyncClient.send)


def prepared_off() -> Callable[[], None]:
    """httpx's build_request for every request (sourcecraft/prepared.py switched off)."""
    return swap(prepared.RequestMaker, "__call__", prepared.RequestMaker._library)


def listings_cpu_s(url: str, n: int) -> float:
    """CPU time of `n` group listings (16 in flight) through a fresh client, in this process."""

    async def main() -> float:
        async with build_http_client(parallelism=16) as http:
            client = SourceCraftClient(
                http, base_url=url, token=Secret(TOKEN.encode()), parallelism=16
            )
            repo = await client.get_repo("bench/svc-0000")  # warms the connection
            await client.list_secrets(repo.repo_id, "default")
            start = time.process_time()
            await map_bounded(lambda _: client.list_secrets(repo.repo_id, "default"), range(n), 16)
            return time.process_time() - start

    return asyncio.run(main())


def codec_off() -> Callable[[], None]:
    """h11 in place of codec.py's request writer and answer parser (h11codec.py)."""
    undo_writer = swap(connection, "encode_request", h11codec.encode_request)
    undo_parser = swap(connection, "Answer", h11codec.Answer)

    def undo() -> None:
        undo_writer()
        undo_parser()

    return undo


def lean_off() -> Callable[[], None]:
    """httpx's own transport instead of the lean one: what a run gets when a proxy variable
    is set (here none is, so it connects directly)."""
    return swap(http_client, "proxy_configured", lambda: True)


LISTING_HEADERS = [
    (b"Host", b"127.0.0.1:8080"),
    (b"Accept", b"*/*"),
    (b"Accept-Encoding", b"identity"),
    (b"Connection", b"keep-alive"),
    (b"User-Agent", b"secretsync/0.1"),
    (b"Authorization", b"Bearer tok-0123456789abcdef0123456789"),
]
LISTING_ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n"
    b"Date: Sun, 29 Nov 2026 21:00:00 GMT\r\nServer: emulator\r\n\r\n" + b"x" * 1000
)


def codec_figures(runs: int) -> None:
    """codec.py against h11 (h11codec.py) alone: one listing's request written and its answer
    parsed, and what h11codec.py's priming of a fresh h11.Connection costs of that."""
    target = b"/v1/repos/0123/secret-groups/default/secrets?page_size=100"

    def exchange(codec: Any) -> None:
        codec.encode_request(b"GET", target, LISTING_HEADERS, b"")
        answer = codec.Answer(b"GET", 1 << 24, None)
        answer.feed(LISTING_ANSWER)

    def priming() -> None:
        h11codec.Answer(b"GET", 1 << 24, None)

    n = 2000
    spent: dict[str, list[float]] = {"codec.py": [], "h11": [], "priming": []}
    for _ in range(runs):
        actions: list[tuple[str, Callable[[], None]]] = [
            ("codec.py", partial(exchange, codec_module)),
            ("h11", partial(exchange, h11codec)),
            ("priming", priming),
        ]
        for name, action in actions:
            start = time.process_time()
            for _ in range(n):
                action()
            spent[name].append(time.process_time() - start)
    fast, h11, prime = (statistics.median(spent[k]) / n for k in ("codec.py", "h11", "priming"))
    row(f"codec alone: one listing's request and answer, x{n:,}", h11 * n, fast * n)
    print(
        f"  {'':<58} {h11 * 1e6:.1f} us -> {fast * 1e6:.1f} us per request "
        f"(h11codec.py's priming: {prime * 1e6:.1f} us of it)"
    )


def http_figures(seed: Path, runs: int) -> None:
    per_run = 1000
    header(
        f"HTTP fast paths: CPU of {per_run:,} group listings in one process, 16 in flight "
        "(bench's emulator)"
    )
    switches: dict[str, list[Callable[[], Callable[[], None]]]] = {
        "as shipped": [],
        "URL shortcut off": [url_off],
        "send override off": [send_off],
        "both off": [url_off, send_off],
        "codec off (h11)": [codec_off],
        "prepared headers off": [prepared_off],
        "lean transport off (httpx's own)": [lean_off],
    }
    codec_figures(runs)
    spent: dict[str, list[float]] = {name: [] for name in switches}
    emulator = Emulator(seed, PLAN_CASE)
    try:
        for _ in range(runs):
            for name, offs in switches.items():
                undos = [off() for off in offs]
                try:
                    spent[name].append(listings_cpu_s(emulator.url, per_run))
                finally:
                    for undo in undos:
                        undo()
    finally:
        emulator.stop()
    shipped = statistics.median(spent["as shipped"])
    print(f"  as shipped: {shipped / per_run * 1e6:.0f} us of CPU per request (median of {runs})")
    for name in list(switches)[1:]:
        off = statistics.median(spent[name])
        row(f"{name} (median of {runs})", off, shipped)
        print(f"  {'':<58} {(off - shipped) / per_run * 1e6:+8.1f} us per request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="runs per figure (median)")
    parser.add_argument(
        "--only", choices=["schema", "dotenv", "process", "http"], help="one section only"
    )
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="secretsync-fast-") as tmp:
        root = Path(tmp)
        plan_manifest, seed = write_workspace(PLAN_CASE, root / "plan")
        if args.only in (None, "schema"):
            schema_figures(root, plan_manifest, args.runs)
        if args.only in (None, "dotenv"):
            dotenv_figures(root, plan_manifest, args.runs)
        if args.only in (None, "process"):
            process_figures(plan_manifest, args.runs)
        if args.only in (None, "http"):
            http_figures(seed, args.runs)


if __name__ == "__main__":
    main()

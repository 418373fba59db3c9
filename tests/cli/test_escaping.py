"""Names from a server reach output escaped, on every path: plan text, --quiet, Markdown and
JSON on stdout and in reports, warnings, error lines. Off a terminal, output holds no ESC, BEL,
C1 control (`\\x9b` starts a terminal escape) or Unicode line break at all."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

TOKEN = "escaping-token-81c2"
RAW = ("\x1b", "\x07", "\x9b", "\u2028", "\u2029", "\x00", "\r")
SLUG_1 = "svc\x1b]0;owned\x07"
SLUG_2 = "a\u2028b\x9b31m"
MANIFEST = """\
version: 1
repos:
  - org: acme
    match: "*"
    prune: true
    groups:
      default:
        secrets: {K: {env: V}}
"""


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


ROUTES: dict[str, tuple[int, object]] = {
    "/orgs/acme/repos": (
        200,
        {
            "repositories": [
                {"id": "r1", "slug": SLUG_1, "organization": {"slug": "acme"}},
                {"id": "r2", "slug": SLUG_2, "organization": {"slug": "acme"}},
            ],
            "next_page_token": "",
        },
    ),
    "/repos/id:r1/secrets": (
        200,
        {"secrets": [{"key": "K", "value": b64("v")}, {"key": "OLD\x1b[2J", "value": b64("x")}]},
    ),
    "/repos/id:r2/secrets": (200, {"secrets": [{"key": "B\x07EL\u2029", "value": b64("y")}]}),
}
BROKEN: dict[str, tuple[int, object]] = {
    "/orgs/acme/repos": (
        400,
        {"error_code": "Bad\x1b[31mCode", "message": "no\x07pe\x9b\u2028x", "request_id": "r\x1b"},
    ),
}


class Handler(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, object]] = ROUTES

    def do_GET(self) -> None:
        status, body = self.routes.get(urlsplit(self.path).path, (404, {"error_code": "NotFound"}))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def serve(routes: dict[str, tuple[int, object]]) -> Iterator[str]:
    handler = type("Routes", (Handler,), {"routes": routes})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def hostile() -> Iterator[str]:
    yield from serve(ROUTES)


@pytest.fixture
def broken() -> Iterator[str]:
    yield from serve(BROKEN)


def run(tmp_path: Path, url: str, *args: str) -> tuple[int, str]:
    (tmp_path / "secretsync.yaml").write_text(MANIFEST)
    env = {"PATH": "/usr/bin:/bin", "SOURCECRAFT_TOKEN": TOKEN, "V": "value-1"}
    proc = subprocess.run(
        [sys.executable, "-m", "secretsync", "plan", "--api-url", url, "-j", "1", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    everything = proc.stdout + proc.stderr
    for report in tmp_path.glob("report.*"):
        everything += report.read_bytes()
    text = everything.decode("utf-8")  # strict: no lone surrogate either
    return proc.returncode, text


def assert_clean(text: str) -> None:
    found = sorted({repr(ch) for ch in RAW if ch in text})
    assert not found, f"raw control characters in output: {found}"


@pytest.mark.parametrize(
    "args",
    [
        ("-v",),
        ("--quiet",),
        ("--format", "markdown"),
        ("--format", "json"),
        ("--report", "report.md", "--report", "report.json"),
        ("--repo", "acme/\x1b[2J*", "--key", "\x9bK"),  # filters echoed in warnings and summary
    ],
    ids=["text", "quiet", "markdown", "json", "reports", "filters"],
)
def test_hostile_names_from_the_api_are_escaped_everywhere(tmp_path, hostile, args):
    code, text = run(tmp_path, hostile, *args)
    assert code in (0, 1), text
    assert_clean(text)


def test_the_text_plan_shows_the_odd_names_escaped(tmp_path, hostile):
    code, text = run(tmp_path, hostile, "-v")
    assert code == 0, text
    assert "svc\\x1b]0;owned\\x07" in text
    assert "a\\x2028b\\x9b31m" in text


def test_a_hostile_error_answer_is_one_escaped_line(tmp_path, broken):
    code, text = run(tmp_path, broken, "--report", "report.json", "--report", "report.md")
    assert code == 1
    assert_clean(text)
    (first, *_) = [line for line in text.splitlines() if line.startswith("error:")]
    assert "Bad\\x1b[31mCode" in first and "no\\x07pe\\x9b\\x2028x" in first


HOSTILE_MANIFEST = """\
version: 1
sets:
  "s\\u009b1m": {secrets: {K: {env: V}}}
repos:
  - repo: "acme/a\\e]0;x\\a"
    groups:
      "g\\u2028x":
        use: ["s\\e[2J"]
        secrets:
          "K\\x9b": {env: "V\\a"}
          L: {file: "f\\e[31m"}
  - org: "ac\\u2029me"
    match: "x\\e"
    groups: {default: {}}
"""


@pytest.mark.parametrize("args", [("validate",), ("plan", "--report", "report.md")])
def test_hostile_names_from_the_manifest_are_escaped_in_every_problem(tmp_path, args):
    (tmp_path / "secretsync.yaml").write_text(HOSTILE_MANIFEST)
    proc = subprocess.run(
        [sys.executable, "-m", "secretsync", *args],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "SOURCECRAFT_TOKEN": TOKEN},
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 1
    text = (proc.stdout + proc.stderr).decode("utf-8")
    if "--report" in args:
        text += (tmp_path / "report.md").read_text()
    assert_clean(text)
    assert len([line for line in text.splitlines() if line.startswith("error:")]) >= 6

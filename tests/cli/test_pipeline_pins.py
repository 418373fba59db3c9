"""What only the pipeline may choose, on the command line: the token's variable
(--token-env / SECRETSYNC_TOKEN_ENV) and the variables env: sources may read (--allow-env /
SECRETSYNC_ALLOW_ENV)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

OTHER = "other-ci-secret-7d1e"
MANIFEST = """\
version: 1
api: {token_env: CI_OTHER_SECRET}
repos:
  - repo: acme/app
    groups:
      default:
        secrets:
          API: {env: APP_API}
          PEEK: {env: CI_DEPLOY_KEY}
"""
ENV = {"SOURCECRAFT_TOKEN": "t", "CI_OTHER_SECRET": OTHER, "APP_API": "a", "CI_DEPLOY_KEY": "d"}


def run(tmp_path: Path, *args: str, manifest: str = MANIFEST, **env: str):
    (tmp_path / "secretsync.yaml").write_text(manifest)
    return subprocess.run(
        [sys.executable, "-m", "secretsync", *args],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization", ""))
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_plan_never_sends_a_variable_the_manifest_chose_as_the_token(tmp_path, recorder):
    url, seen = recorder
    result = run(tmp_path, "plan", "--api-url", url, "--report", "p.json", **ENV)
    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: secretsync.yaml:2:18: api.token_env: the manifest names 'CI_OTHER_SECRET'"
    )
    assert "hint: pin it in the pipeline: --token-env CI_OTHER_SECRET" in result.stderr
    assert seen == []
    assert OTHER not in result.stderr + (tmp_path / "p.json").read_text()


def test_the_pipeline_pin_makes_that_variable_the_token(tmp_path, recorder):
    url, seen = recorder
    run(tmp_path, "plan", "--api-url", url, **ENV, SECRETSYNC_TOKEN_ENV="CI_OTHER_SECRET")
    assert seen and set(seen) == {f"Bearer {OTHER}"}


def test_validate_notes_an_unpinned_token_variable_as_it_does_an_unpinned_url(tmp_path):
    # validate reads no token (the pre-commit hook has no pipeline to pin it): a note, exit 0.
    noted = run(tmp_path, "validate", "--no-env")
    assert noted.returncode == 0, noted.stderr
    assert noted.stderr.startswith(
        "note: secretsync.yaml:2:18: api.token_env: the manifest names 'CI_OTHER_SECRET'"
    )
    assert "plan and apply need it pinned" in noted.stderr
    pinned = run(tmp_path, "validate", "--no-env", "--token-env", "CI_OTHER_SECRET")
    assert pinned.returncode == 0, pinned.stderr
    assert "note:" not in pinned.stderr


def test_a_variable_outside_the_allowlist_is_refused_with_its_line(tmp_path):
    for flags, env in (
        (("--allow-env", "APP_*"), {}),
        ((), {"SECRETSYNC_ALLOW_ENV": "APP_API,OTHER_*"}),
    ):
        result = run(tmp_path, "validate", "--token-env", "CI_OTHER_SECRET", *flags, **ENV, **env)
        assert result.returncode == 1
        assert result.stderr.startswith(
            "error: secretsync.yaml:9:17: repos[0].groups.default.secrets.PEEK: env variable "
            "CI_DEPLOY_KEY is not in the pipeline's allowlist"
        )
    allowed = run(
        tmp_path,
        "validate",
        *("--token-env", "CI_OTHER_SECRET", "--allow-env", "APP_*", "--allow-env", "CI_DEPLOY_*"),
        **ENV,
    )
    assert allowed.returncode == 0, allowed.stderr


@pytest.mark.parametrize(
    "flags", [("--allow-env", "A B"), ("--allow-env", "$HOME"), ("--token-env", "A-B")]
)
def test_a_bad_pin_is_a_usage_error(tmp_path, flags):
    result = run(tmp_path, "validate", "--no-env", *flags)
    assert result.returncode == 64
    assert "Traceback" not in result.stderr

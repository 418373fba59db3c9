"""The leak matrix: every command, format, verbosity and error path, with known values and
token; none may appear anywhere, in any spelling (raw, base64, percent-encoded, JSON-escaped,
any line of a multi-line value)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from urllib.parse import quote, quote_plus

import pytest

from tests.e2e.conftest import TOKEN, Workspace

pytestmark = pytest.mark.e2e

MULTILINE = "-----BEGIN LEAKY-----\nline-one-9f2c4e\nline-two-b7d1a3\n-----END LEAKY-----\n"
VALUES = {
    "PLAIN_SRC": "plain-leak-canary-51e8",
    "SPACED_SRC": "with spaces & symbols/+=?-0c4d",
    "UNICODE_SRC": "пароль-ключ-83af",
}
FILE_VALUE = MULTILINE.encode()
SEED = {
    "orgs": [
        {
            "slug": "acme",
            "repos": [
                {"slug": "app", "secrets": {"default": {"PLAIN": "stale-canary-value-11aa"}}},
            ],
        }
    ]
}
MANIFEST = """\
version: 1
repos:
  - repo: acme/app
    groups:
      default:
        secrets:
          PLAIN: {env: PLAIN_SRC}
          SPACED: {env: SPACED_SRC}
          UNICODE: {env: UNICODE_SRC}
          PEM: {file: key.pem}
          FAILS: {env: PLAIN_SRC}
"""


def spellings(value: str) -> set[str]:
    raw = value.encode()
    forms = {
        value,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        quote(value, safe=""),
        quote_plus(value),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],
    }
    forms |= {line for line in value.splitlines() if len(line) >= 6}
    return {f for f in forms if f}


def secrets_everywhere() -> set[str]:
    found = set()
    for value in [*VALUES.values(), MULTILINE, "stale-canary-value-11aa", TOKEN]:
        found |= spellings(value)
    return found


@pytest.fixture
def leaky(workspace: Workspace, launch):  # type: ignore[no-untyped-def]
    emulator = launch(SEED, "--op-delay-ms", "20", "--fail-key", "FAILS")
    workspace.write("secretsync.yaml", MANIFEST)
    workspace.write("key.pem", FILE_VALUE)
    workspace.env.update(VALUES, SOURCECRAFT_API_URL=emulator.url)
    return workspace, emulator


FORCED_INTERNAL_ERROR = (
    "import sys, secretsync.plan.planner as p\n"
    "def boom(*a, **k):\n"
    "    raise RuntimeError('internal ' + {value!r})\n"
    "p.join_plan = boom\n"
    "import secretsync.pipeline as pl; pl.join_plan = boom\n"
    "from secretsync.cli import main; main(sys.argv[1:])\n"
)


def test_no_secret_in_any_output_of_any_command(leaky):
    ws, emulator = leaky
    runs = []
    for fmt in ("text", "json", "markdown"):
        for verbosity in ((), ("--verbose",), ("--debug",), ("--quiet",)):
            runs.append(
                ws.run(
                    "plan",
                    "--format",
                    fmt,
                    *verbosity,
                    "--report",
                    "p.json",
                    "--report",
                    "p.md",
                    "--out",
                    "p.plan",
                )
            )
    runs.append(ws.run("validate"))
    runs.append(ws.run("validate", "--no-env", "--debug"))
    runs.append(ws.run("apply", "--debug", "--verbose", "--report", "a.json", "--report", "a.md"))
    runs.append(ws.run("apply", "--format", "json", "--report", "a2.json"))
    runs.append(ws.run("apply", "--plan", "p.plan", "--debug"))  # refused: things changed
    # error paths: wrong token, a missing variable, a broken manifest, an unreachable API
    runs.append(ws.run("plan", "--debug", SOURCECRAFT_TOKEN="wrong-" + TOKEN))
    env_without = {k: v for k, v in ws.env.items() if k != "SPACED_SRC"}
    ws_missing = Workspace(root=ws.root, env=env_without)
    runs.append(ws_missing.run("apply", "--debug"))
    runs.append(ws.run("plan", "--debug", SOURCECRAFT_API_URL="http://127.0.0.1:9"))
    ws.write("broken.yaml", MANIFEST.replace("PLAIN: {env: PLAIN_SRC}", "PLAIN: {env: [x]}"))
    runs.append(ws.run("plan", "-f", "broken.yaml", "--debug"))
    assert {r.code for r in runs} >= {0, 1}

    for value in VALUES.values():
        forced = subprocess.run(
            [sys.executable, "-c", FORCED_INTERNAL_ERROR.format(value=value), "plan", "--debug"],
            cwd=ws.root,
            env=ws.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert forced.returncode == 1
        assert "internal error: RuntimeError" in forced.stderr
        assert "Traceback" in forced.stderr  # --debug shows it...
        assert "RuntimeError: internal ***" in forced.stderr  # ...with the value masked
        runs.append(forced)

    texts = [r.stdout for r in runs] + [r.stderr for r in runs]
    texts += [
        p.read_text(errors="replace")
        for p in ws.root.iterdir()
        if p.suffix in (".json", ".md", ".plan")
    ]
    haystack = "\n".join(texts)
    leaked = sorted(s for s in secrets_everywhere() if s in haystack)
    assert leaked == []
    # and the runs really did things: changes planned, one applied, one failed
    assert "FAILS" in haystack and "+ PEM" in haystack
    stored = emulator.secrets("acme/app")
    assert stored["PEM"] == FILE_VALUE and "FAILS" not in stored

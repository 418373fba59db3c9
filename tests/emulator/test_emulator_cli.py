"""`secretsync-emulator` as a subprocess: the listening line, the log, signals, errors."""

import os
import re
import select
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from secretsync.emulator.cli import main
from tests.emulator.helpers import b64

FIXTURE = Path(__file__).with_name("seed.yaml")
LISTENING = re.compile(r"secretsync-emulator listening on (http://127\.0\.0\.1:\d+)\n")
SECRET = "cli-s3cr3t-value"


def _start(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "secretsync.emulator.cli", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    ready, _, _ = select.select([proc.stdout], [], [], 20)
    if not ready:
        proc.kill()
        pytest.fail("the emulator printed nothing")
    line = proc.stdout.readline()
    match = LISTENING.fullmatch(line)
    if match is None:
        proc.kill()
        pytest.fail(f"unexpected first line {line!r}; stderr: {proc.stderr.read()}")
    return proc, match.group(1)


def _stop(proc: subprocess.Popen, signum: int) -> tuple[int, str, str]:
    proc.send_signal(signum)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, out, err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serves_logs_without_values_and_stops_on_a_signal(signum):
    proc, url = _start("--seed", str(FIXTURE), "--token", "cli-token", "--op-delay-ms", "0")
    headers = {"Authorization": "Bearer cli-token"}
    with httpx.Client(base_url=url, headers=headers, timeout=5) as c:
        put = c.put("/repos/acme/backend/secrets/NEW", json={"value": b64(SECRET)})
        listed = c.get("/repos/acme/backend/secrets", params={"keys": "NEW"})
        seeded_token = c.get("/user", headers={"Authorization": "Bearer fixture-token"})
        default_token = c.get("/user", headers={"Authorization": "Bearer emulator-token"})
    code, out, err = _stop(proc, signum)

    assert put.status_code == 202
    assert listed.json() == {"secrets": [{"key": "NEW", "value": b64(SECRET)}]}
    assert (seeded_token.status_code, default_token.status_code) == (200, 401)
    assert code == 0
    assert out == ""  # nothing after the listening line
    assert "PUT /repos/acme/backend/secrets/NEW 202" in err
    assert "GET /repos/acme/backend/secrets?keys=NEW 200" in err
    for forbidden in (SECRET, b64(SECRET), "cli-token", "fixture-token"):
        assert forbidden not in err


def test_token_from_the_environment_quiet_and_state_file(tmp_path):
    state_file = tmp_path / "state.json"
    env = {"SECRETSYNC_EMULATOR_TOKEN": "env-token"}
    proc, url = _start("--seed", str(FIXTURE), "--state-file", str(state_file), "--quiet", env=env)
    with httpx.Client(base_url=url, timeout=5) as c:
        ok = c.put(
            "/repos/acme/web/secrets/K",
            json={"value": "AAEC"},
            headers={"Authorization": "Bearer env-token"},
        )
        refused = c.get("/user", headers={"Authorization": "Bearer emulator-token"})
        state = c.get("/_emulator/state", headers={"Authorization": "Bearer env-token"}).json()
    code, _, err = _stop(proc, signal.SIGTERM)
    assert (ok.status_code, refused.status_code, code) == (202, 401, 0)
    assert err == ""
    assert state["repos"]["acme/web"]["groups"] == {"default": {"K": "AAEC"}}

    proc, url = _start("--state-file", str(state_file), "--quiet", env=env)
    with httpx.Client(base_url=url, timeout=5) as c:
        after_restart = c.get(
            "/_emulator/state", headers={"Authorization": "Bearer env-token"}
        ).json()
    _stop(proc, signal.SIGTERM)
    assert after_restart == state


def test_a_bad_seed_exits_1_with_a_message(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text("orgs: [{slug: 'a/b'}]\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "secretsync.emulator.cli", "--seed", str(seed)],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert "orgs[0].slug" in result.stderr


def test_bad_knobs_are_usage_errors(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--error-rate", "2"], environ={})
    assert info.value.code == 2
    assert "error_rate" in capsys.readouterr().err


def test_the_emulator_does_not_import_click_httpx_or_ruamel():
    code = (
        "import sys, secretsync.emulator.cli; "
        "print(sorted(m for m in ('click', 'httpx', 'ruamel.yaml') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=20
    )
    assert result.stdout.strip() == "[]"

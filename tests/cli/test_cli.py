"""The CLI's contract without a server: exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from secretsync import __version__

GOOD = """\
version: 1
repos:
  - repo: acme/app
    groups:
      default:
        secrets:
          API_KEY: {env: APP_API_KEY}
"""


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "secretsync", *args],
        cwd=tmp_path,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "secretsync.yaml"
    path.write_text(GOOD)
    return path


def test_version(tmp_path):
    result = run(tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"secretsync {__version__}"


def test_validate_ok_and_no_env(tmp_path, manifest):
    ok = run(tmp_path, "validate", APP_API_KEY="some-value-1")
    assert ok.returncode == 0, ok.stderr
    assert "secretsync.yaml: valid" in ok.stdout
    missing = run(tmp_path, "validate")
    assert missing.returncode == 1
    assert "APP_API_KEY is not set" in missing.stderr
    assert run(tmp_path, "validate", "--no-env").returncode == 0


def test_bad_manifest_is_one_line_per_problem_with_position(tmp_path):
    (tmp_path / "secretsync.yaml").write_text(GOOD.replace("groups:", "groupz:"))
    result = run(tmp_path, "validate", "--no-env")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith(("error: secretsync.yaml:", "hint:")) for line in lines)
    assert "secretsync.yaml:4:" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ("plan", "--no-such-flag"),
        ("nosuchcommand",),
        ("plan", "--parallelism", "zero"),
        ("apply", "--report", "out.txt"),
        ("apply", "--max-deletes", "-1"),
        ("plan", "--format", "xml"),
    ],
)
def test_bad_flags_exit_64(tmp_path, manifest, args):
    result = run(tmp_path, *args)
    assert result.returncode == 64, result.stderr
    assert "Traceback" not in result.stderr


def test_missing_manifest_is_exit_1_not_a_traceback(tmp_path):
    result = run(tmp_path, "plan")
    assert result.returncode == 1
    assert "secretsync.yaml" in result.stderr and "Traceback" not in result.stderr
    (tmp_path / "adir").mkdir()
    folder = run(tmp_path, "validate", "-f", "adir")  # the same kind of mistake, the same code
    assert folder.returncode == 1
    assert folder.stderr == "error: adir: the manifest is a folder, not a file\n"


def test_missing_token_names_the_variable(tmp_path, manifest):
    result = run(tmp_path, "plan", APP_API_KEY="v-123456")
    assert result.returncode == 1
    assert "SOURCECRAFT_TOKEN is not set" in result.stderr


def test_manifest_cannot_send_the_token_elsewhere(tmp_path):
    (tmp_path / "secretsync.yaml").write_text(
        GOOD.replace("version: 1\n", "version: 1\napi:\n  url: https://collector.evil.example\n")
    )
    result = run(tmp_path, "plan", APP_API_KEY="v-123456", SOURCECRAFT_TOKEN="tok-999999")
    assert result.returncode == 1
    assert "collector.evil.example" in result.stderr
    assert "--api-url" in result.stderr  # says how to pin it in the pipeline
    # validate sends no token: a note, so the pre-commit hook passes (plan/apply refuse it)
    validate = run(tmp_path, "validate", "--no-env")
    assert validate.returncode == 0, validate.stderr
    assert "note:" in validate.stderr and "collector.evil.example" in validate.stderr


def test_plain_http_refused_off_loopback(tmp_path, manifest):
    result = run(
        tmp_path,
        "plan",
        "--api-url",
        "http://example.com",
        APP_API_KEY="v-1234",
        SOURCECRAFT_TOKEN="tok-999999",
    )
    assert result.returncode == 1
    assert "plain http is allowed only on loopback" in result.stderr


def test_every_command_has_help_with_an_example(tmp_path):
    for command in ("validate", "plan", "apply", "import"):
        result = run(tmp_path, command, "--help")
        assert result.returncode == 0
        assert "Example" in result.stdout


def test_version_does_not_import_the_heavy_modules(tmp_path):
    code = (
        "import sys\n"
        "from secretsync.cli import main\n"
        "names = ('httpx', 'ruamel.yaml', 'jsonschema', 'dotenv')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_file_roots_outside_the_repository_come_from_the_pipeline(tmp_path):
    repo, temp_a, temp_b = tmp_path / "repo", tmp_path / "temp-a", tmp_path / "temp-b"
    (repo / ".git").mkdir(parents=True)
    for folder in (temp_a, temp_b):
        folder.mkdir()
        (folder / "k").write_text("v")
    (repo / "secretsync.yaml").write_text(
        "version: 1\nrepos:\n  - repo: acme/app\n    groups:\n      default:\n"
        f"        secrets: {{A: {{file: {temp_a}/k}}, B: {{file: {temp_b}/k}}}}\n"
    )
    refused = run(repo, "validate")
    assert refused.returncode == 1
    assert "outside the manifest's folder" in refused.stderr
    by_flag = run(repo, "validate", "--file-root", str(temp_a), "--file-root", str(temp_b))
    assert by_flag.returncode == 0, by_flag.stderr
    by_env = run(repo, "validate", SECRETSYNC_FILE_ROOTS=f"{temp_a}{os.pathsep}{temp_b}")
    assert by_env.returncode == 0, by_env.stderr
    missing = run(repo, "validate", "--file-root", str(tmp_path / "nope"))
    assert missing.returncode == 64

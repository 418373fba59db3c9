"""A number too long to print is a located problem, never an internal error (hypothesis found
`0x` and 5,000 digits: int() reads hex of any length, and the schema's message repr() of it
raised ValueError)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from secretsync.errors import ManifestError
from secretsync.manifest.loader import load_manifest

HUGE_HEX = "0x" + "9" * 5000


@pytest.mark.parametrize(
    ("text", "place"),
    [
        (HUGE_HEX + "\n", "1:1"),
        (f"version: 1\nrepos: {HUGE_HEX}\n", "2:8"),
        (f"version: {HUGE_HEX}\nrepos: []\n", "1:10"),
        ("version: 1\nrepos: " + "9" * 5000 + "\n", "2:8"),
    ],
    ids=["document", "repos", "version", "decimal"],
)
def test_a_number_too_long_to_show_is_a_located_problem(tmp_path, text, place):
    path = tmp_path / "secretsync.yaml"
    path.write_text(text)
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    first = str(info.value.problems[0])
    assert first.startswith(f"{path}:{place}: ")
    assert first.endswith("this value cannot be read; quote it")


def test_a_long_but_printable_number_is_still_read(tmp_path):
    path = tmp_path / "secretsync.yaml"
    path.write_text(f"version: {'0x' + 'f' * 100}\nrepos: []\n")
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert "unsupported value" in str(info.value.problems[0])


def test_the_cli_says_it_in_one_line(tmp_path):
    (tmp_path / "secretsync.yaml").write_text(HUGE_HEX + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "secretsync", "validate", "--no-env"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: secretsync.yaml:1:1: ")
    assert "internal error" not in result.stderr

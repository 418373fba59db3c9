"""check_sources (validate's offline check), and each file read once per call."""

from __future__ import annotations

import os

import pytest

from secretsync.errors import SourceError
from secretsync.sources import files as source_files
from secretsync.sources.resolve import check_sources, resolve_sources
from tests.sources.helpers import manifest, write


def test_check_sources_without_env_checks_files_only():
    write("a.env", "A=1\n")
    m = manifest("default: {secrets: {E: {env: UNSET}, A: {dotenv: a.env}}}\n")
    check_sources(m, None)
    with pytest.raises(SourceError) as info:
        check_sources(m, {})
    assert "env variable UNSET is not set" in str(info.value)
    missing = manifest("default: {secrets: {E: {env: UNSET}, F: {file: gone.bin}}}\n")
    with pytest.raises(SourceError) as info:
        check_sources(missing, None)
    assert [p.key_path for p in info.value.problems] == ["repos[0].groups.default.secrets.F"]


def test_each_file_is_read_once_per_call(monkeypatch):
    write("a.env", "A=1\nB=2\n")
    write("k.bin", "k")
    reads: list[str] = []
    real_read = source_files.read_small_file

    def counting(path, limit):
        reads.append(os.path.basename(path))
        return real_read(path, limit)

    monkeypatch.setattr(source_files, "read_small_file", counting)
    m = manifest(
        """\
        default:
          dotenv: [a.env, ./a.env]
          secrets:
            X: {dotenv: a.env, key: A}
            Y: {file: k.bin}
            Z: {file: ./k.bin}
        staging:
          dotenv: a.env
          secrets:
            Y: {file: k.bin}
            M: {file: missing.bin}
            N: {file: missing.bin}
        """
    )
    with pytest.raises(SourceError):
        resolve_sources(m, {})
    assert sorted(reads) == ["a.env", "k.bin", "missing.bin"]
    reads.clear()
    check_sources(manifest("default: {dotenv: a.env, secrets: {A: {file: a.env}}}\n"), None)
    assert reads == ["a.env"]

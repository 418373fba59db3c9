"""read_small_file: every source file, manifest and `file:` value goes through it, so each of its
refusals is pinned here (mutants of safefile.py that scripts/mutation.py found unwatched)."""

import errno
import os
import sys

import pytest

from secretsync import safefile
from secretsync.safefile import UnreadableError, read_small_file

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX files")


def _reason(path, limit=safefile.MAX_BYTES) -> str:
    with pytest.raises(UnreadableError) as info:
        read_small_file(str(path), limit)
    return info.value.reason


def test_reads_a_file_whole_across_many_reads(tmp_path):
    data = bytes(range(256)) * 1000  # 256,000 bytes: several os.read calls
    (tmp_path / "f").write_bytes(data)
    assert read_small_file(str(tmp_path / "f")) == data


def test_a_file_of_exactly_the_limit_is_read_and_one_byte_more_is_refused(tmp_path):
    (tmp_path / "ok").write_bytes(b"x" * 100)
    (tmp_path / "big").write_bytes(b"x" * 101)
    assert read_small_file(str(tmp_path / "ok"), 100) == b"x" * 100
    assert _reason(tmp_path / "big", 100) == "is larger than the 100 bytes limit"


def test_a_file_that_grows_past_the_limit_while_read_is_refused(tmp_path, monkeypatch):
    # fstat said it was empty (a /proc file, or a file still being written): the limit holds
    # on what is actually read, not only on what fstat said.
    real_fstat = os.fstat

    def stale_fstat(fd):
        info = real_fstat(fd)
        return os.stat_result((*info[:6], 0, *info[7:]))  # st_size is index 6

    monkeypatch.setattr(safefile.os, "fstat", stale_fstat)
    (tmp_path / "ok").write_bytes(b"x" * 100)
    (tmp_path / "big").write_bytes(b"x" * 101)
    assert read_small_file(str(tmp_path / "ok"), 100) == b"x" * 100
    assert _reason(tmp_path / "big", 100) == "is larger than the 100 bytes limit"


def test_a_missing_file_is_a_reason_not_a_crash(tmp_path):
    assert _reason(tmp_path / "absent") == "does not exist"


def test_a_folder_is_refused(tmp_path):
    assert _reason(tmp_path) == "is a folder, not a file"


@posix_only
def test_a_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    assert _reason(tmp_path / "pipe") == "is not a regular file"


@posix_only
def test_a_symlink_is_not_followed(tmp_path):
    (tmp_path / "target").write_bytes(b"inside")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    assert _reason(tmp_path / "link") == "is a symbolic link loop"  # ELOOP from O_NOFOLLOW


def test_a_read_error_is_a_reason_not_a_crash(tmp_path, monkeypatch):
    def failing_read(fd, size):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(safefile.os, "read", failing_read)
    (tmp_path / "f").write_bytes(b"data")
    assert _reason(tmp_path / "f") == "cannot be read (Input/output error)"


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_no_file_descriptor_is_left_open(tmp_path):
    # A manifest may name thousands of files; a leaked descriptor per file ends the run.
    (tmp_path / "f").write_bytes(b"data")
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        read_small_file(str(tmp_path / "f"))
        with pytest.raises(UnreadableError):
            read_small_file(str(tmp_path), 10)
    assert len(os.listdir("/proc/self/fd")) == before


def test_a_file_larger_than_the_limit_is_refused_before_any_byte_is_read(tmp_path, monkeypatch):
    # A multi-GB file named by a pull request costs one fstat, not a read up to the limit.
    reads = []
    real_read = os.read

    def counting_read(fd, size):
        reads.append(size)
        return real_read(fd, size)

    monkeypatch.setattr(safefile.os, "read", counting_read)
    with (tmp_path / "huge").open("wb") as handle:
        handle.truncate(safefile.MAX_BYTES * 64)  # sparse: 64 MiB that take no disk
    assert _reason(tmp_path / "huge") == "is larger than the 1 MiB limit"
    assert reads == []

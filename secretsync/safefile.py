"""Files, safely: read a small regular file without following a swapped-in symlink, blocking
on a FIFO, or reading more than a limit (saying why in words when it cannot), and write a
file atomically (reports, saved plans, imported manifests)."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

MAX_BYTES = 1 << 20  # 1 MiB: manifests, .env files and `file:` values alike


def repository_root(folder: Path) -> Path:
    """The git work tree `folder` is in (the nearest folder holding `.git`), else `folder`.

    A pull request can change anything inside it, and a reviewer sees every change there:
    the manifest may name files anywhere in it, never outside; and only there may a file's
    own content (a whole .env file's key names) reach a plan.
    """
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


class UnreadableError(Exception):
    """Internal: `reason` is a short phrase such as "does not exist". Never escapes the core."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_small_file(path: str, limit: int = MAX_BYTES) -> bytes:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        raise UnreadableError(_reason(err)) from err
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UnreadableError("is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableError("is not a regular file")
        if info.st_size > limit:
            raise UnreadableError(f"is larger than the {_size(limit)} limit")
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, 65536):
            total += len(chunk)
            if total > limit:  # grew while we read it
                raise UnreadableError(f"is larger than the {_size(limit)} limit")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as err:
        raise UnreadableError(_reason(err)) from err
    finally:
        os.close(fd)


def _reason(err: OSError) -> str:
    if err.errno in (errno.ENOENT, errno.ENOTDIR):
        return "does not exist"
    if err.errno == errno.EISDIR:
        return "is a folder, not a file"
    if err.errno in (errno.EACCES, errno.EPERM):
        return "cannot be read (permission denied)"
    if err.errno == errno.ELOOP:
        return "is a symbolic link loop"
    return f"cannot be read ({err.strerror or type(err).__name__})"


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit % (1 << 20) == 0 else f"{limit} bytes"


def write_atomically(path: Path, text: str) -> None:
    """Readers never see half a file: write beside it, then rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

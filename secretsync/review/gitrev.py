"""Files of the repository at a base revision, read with git itself.

Every call is `git` with a fixed argument list (no shell). The user's REF reaches git once,
after `--end-of-options` and only if it does not start with `-`; everything after that is
addressed by object id, so no path or name from a manifest is ever a git argument. Paths
are resolved here, through the revision's own trees and symlinks (as `os.path.realpath`
would in a checkout of it), so the confinement rules of `sources.resolve` can be applied to
the revision: nothing outside the repository, nothing under `.git`, at most 1 MiB.

git runs with a small environment of its own: no lazy fetch from a promisor remote, no
transport allowed, no prompt. Reading a revision sends nothing anywhere.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from secretsync.errors import BaseRefError, RevisionError
from secretsync.names import has_control, one_line, quote
from secretsync.safefile import MAX_BYTES

GIT_TIMEOUT_S: Final = 120.0
_OID = re.compile(rb"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
# What git may see of the caller's environment: where it is, where its configuration is
# (safe.directory lives there) and where discovery stops. Not GIT_DIR and friends: the
# repository is the manifest's. Nothing else: no token, no value reaches git.
_KEEP_ENV = (
    "PATH",
    "HOME",
    "XDG_CONFIG_HOME",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_CEILING_DIRECTORIES",
)
_MAX_LINKS = 40  # as the kernel's symlink limit: a loop ends here
_SYMLINK, _TREE, _SUBMODULE = "120000", "040000", "160000"


class Outside:
    """Marks a path that resolves outside the repository: never read, never compared."""

    def __repr__(self) -> str:
        return "OUTSIDE"


OUTSIDE: Final = Outside()


@dataclass(frozen=True, slots=True)
class _Entry:
    mode: str
    oid: str
    size: int  # 0 for trees and submodules


def repository_top(folder: Path, environ: Mapping[str, str]) -> Path:
    """The top of the git work tree holding `folder`, as git says."""
    out = _git(None, ["-C", str(folder), "rev-parse", "--show-toplevel"], environ)
    return Path(os.path.realpath(out.decode("utf-8", "replace").rstrip("\n")))


def check_ref(ref: str) -> None:
    """Refuse what could be read as an option, or break a message, before git sees it."""
    if not ref:
        raise BaseRefError("--base: the revision is empty")
    if ref.startswith("-"):
        raise BaseRefError(f"--base: {quote(ref)} starts with '-'; give a branch, tag or commit")
    if has_control(ref) or len(ref) > 256:
        raise BaseRefError(f"--base: {quote(ref)} is not a revision name")


class Revision:
    """One commit of the repository at `top`: its trees, symlinks and blobs, read lazily."""

    def __init__(self, top: Path, ref: str, environ: Mapping[str, str]) -> None:
        check_ref(ref)
        self.top = top
        self.ref = ref
        self.environ = environ
        args = ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"]
        out = _git(top, args, environ, unknown=ref).strip()
        if not _OID.match(out):
            raise BaseRefError(f"--base: {quote(ref)} is not a commit of this repository")
        self.commit = out.decode("ascii")
        self._trees: dict[str, dict[str, _Entry]] = {}
        self._blobs: dict[str, bytes] = {}

    def resolve(self, parts: Iterable[str]) -> tuple[str, ...] | Outside | str:
        """A path (split on '/', relative to the top) resolved through the revision's
        symlinks: its real parts, OUTSIDE, or why it cannot be (a short phrase)."""
        pending = [p for p in parts if p not in ("", ".")]
        done: list[str] = []
        entry: _Entry | None = None
        links = 0
        while pending:
            part = pending.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if not done:
                    return OUTSIDE
                done.pop()
                entry = None
                continue
            tree = self._tree_of(done)
            if isinstance(tree, str):
                return tree
            entry = tree.get(part)
            if entry is None:
                return "does not exist"
            if entry.mode == _SYMLINK:
                links += 1
                if links > _MAX_LINKS:
                    return "is a symbolic link loop"
                target = self.blob(entry.oid).decode("utf-8", "surrogateescape")
                if target.startswith("/"):
                    return OUTSIDE  # an absolute link leaves the revision's tree
                pending[:0] = target.split("/")
                entry = None
                continue
            done.append(part)
        return tuple(done)

    def entry(self, parts: tuple[str, ...]) -> _Entry | None:
        if not parts:
            return None
        tree = self._tree_of(list(parts[:-1]))
        return None if isinstance(tree, str) else tree.get(parts[-1])

    def read(self, parts: tuple[str, ...]) -> bytes | str:
        """The bytes of a resolved path, or why not."""
        entry = self.entry(parts)
        if entry is None:
            return "does not exist"
        if entry.mode == _TREE:
            return "is a folder, not a file"
        if entry.mode == _SUBMODULE:
            return "is a submodule, not a file"
        if entry.size > MAX_BYTES:
            return f"is larger than the {MAX_BYTES >> 20} MiB limit"
        return self.blob(entry.oid)

    def prefetch(self, paths: Iterable[tuple[str, ...]]) -> None:
        """Read the blobs of many resolved paths with one git process."""
        wanted = []
        for parts in paths:
            entry = self.entry(parts)
            usable = entry and entry.mode not in (_TREE, _SUBMODULE) and entry.size <= MAX_BYTES
            if entry and usable and entry.oid not in self._blobs:
                wanted.append(entry.oid)
        wanted = list(dict.fromkeys(wanted))
        if not wanted:
            return
        out = _git(
            self.top, ["cat-file", "--batch"], self.environ, stdin=("\n".join(wanted) + "\n")
        )
        at = 0
        for oid in wanted:
            header_end = out.index(b"\n", at)
            header = out[at:header_end].split(b" ")
            if len(header) != 3 or header[0].decode("ascii", "replace") != oid:
                raise RevisionError(f"git cat-file gave an unexpected answer for {oid}")
            size = int(header[2])
            self._blobs[oid] = out[header_end + 1 : header_end + 1 + size]
            at = header_end + 1 + size + 1

    def blob(self, oid: str) -> bytes:
        found = self._blobs.get(oid)
        if found is None:
            found = self._blobs[oid] = _git(self.top, ["cat-file", "blob", oid], self.environ)
        return found

    def _tree_of(self, parts: list[str]) -> dict[str, _Entry] | str:
        """The entries of the folder at `parts` (already resolved), or why there is none."""
        entries = self._list(self.commit)
        for part in parts:
            entry = entries.get(part)
            if entry is not None and entry.mode == _SUBMODULE:
                return "is inside a submodule"
            if entry is None or entry.mode != _TREE:
                return "does not exist"  # as a checkout's open() says for a file as a folder
            entries = self._list(entry.oid)
        return entries

    def _list(self, oid: str) -> dict[str, _Entry]:
        found = self._trees.get(oid)
        if found is not None:
            return found
        out = _git(self.top, ["ls-tree", "-z", "--long", "--end-of-options", oid], self.environ)
        entries: dict[str, _Entry] = {}
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, name = record.partition(b"\t")
            mode, _kind, object_id, size = meta.split()
            entries[name.decode("utf-8", "surrogateescape")] = _Entry(
                mode=mode.decode("ascii"),
                oid=object_id.decode("ascii"),
                size=int(size) if size != b"-" else 0,
            )
        self._trees[oid] = entries
        return entries


def _git(
    top: Path | None,
    args: list[str],
    environ: Mapping[str, str],
    *,
    stdin: str | None = None,
    unknown: str | None = None,
) -> bytes:
    git = shutil.which("git", path=environ.get("PATH"))
    if git is None:
        raise RevisionError("git is not installed; plan --base reads the base revision with it")
    env = {name: environ[name] for name in _KEEP_ENV if name in environ}
    env |= {
        "GIT_NO_LAZY_FETCH": "1",  # a partial clone must not fetch a missing object
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
        "LC_ALL": "C",
    }
    command = [git, "-c", "protocol.allow=never", "-c", "core.fsmonitor=false"]
    command += ["-C", str(top)] if top is not None else []
    try:
        done = subprocess.run(  # a fixed argument list, no shell
            [*command, *args],
            input=None if stdin is None else stdin.encode("ascii"),
            capture_output=True,
            env=env,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise RevisionError(f"git could not be run: {type(err).__name__}") from None
    if done.returncode == 0:
        return done.stdout
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    said = one_line(lines[-1] if lines else f"exit status {done.returncode}")[:300]
    if unknown is not None and done.returncode == 1:
        raise BaseRefError(
            f"--base: {quote(unknown)} names no commit of this repository",
            hint="fetch it first (a shallow CI checkout has only the pull request's commit): "
            "git fetch --depth=1 origin main, then --base origin/main",
        )
    if "not a git repository" in said:
        raise RevisionError(
            "plan --base needs the manifest inside a git repository: "
            + said.removeprefix("fatal: ")
        )
    raise RevisionError(f"git {args[-1] if top is None else args[0]} failed: {said}")

"""The files behind `file:` and `dotenv:` sources: where each path really leads (symlinks
included), whether it may be read, and its bytes, each read at most once per run.

A path must resolve inside one of `Manifest.file_roots` (the manifest's folder, folders of the
repository it lists, folders the pipeline allows) and never into a .git folder; the file must
be regular and at most 1 MiB. `in_repository` says whether a path is in the git work tree the
reviewer sees (`safefile.repository_root`): only such files may be read whole.
"""

from __future__ import annotations

import logging
import os
import stat

from secretsync.models import Manifest
from secretsync.safefile import MAX_BYTES, UnreadableError, read_small_file, repository_root

log = logging.getLogger(__name__)

_GIT_PART = f"{os.sep}.git{os.sep}"


class SourceFiles:
    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.files: dict[str, bytes | str] = {}  # real path -> bytes, or why not
        self.real: dict[str, str] = {}  # ref as written -> real path
        self.folders: dict[str, str] = {}  # folder -> real path
        self.root = str(manifest.root)
        repository = str(repository_root(manifest.root))
        self.repository = (repository, repository.rstrip(os.sep) + os.sep)
        self.roots = [(str(r), str(r).rstrip(os.sep) + os.sep) for r in manifest.file_roots]

    def read(self, ref: str) -> bytes | str:
        """The bytes of the file `ref` names, or why it cannot be read (a short phrase)."""
        try:
            real = self.locate(ref)
        except ValueError:  # a lone surrogate: load_manifest refuses it, a hand-built one may not
            return "is not a valid file name"
        if real not in self.files:
            self.files[real] = self.load(real)
        return self.files[real]

    def in_repository(self, real: str) -> bool:
        folder, inside = self.repository
        return real == folder or real.startswith(inside)

    def locate(self, ref: str) -> str:
        real = self.real.get(ref)
        if real is None:
            real = self.real[ref] = self.realpath(ref)
        return real

    def realpath(self, ref: str) -> str:
        """os.path.realpath(root / ref), with each folder resolved once per call.

        A full realpath costs an lstat per path component; 1,000 .env files in one folder
        need the folder resolved once and one lstat each. os.path, not Path: a Path per file
        costs more than reading the file.
        """
        path = os.path.join(self.root, ref)  # noqa: PTH118
        folder, name = os.path.split(path)
        if name in ("", ".", ".."):
            return os.path.realpath(path)
        real_folder = self.folders.get(folder)
        if real_folder is None:
            real_folder = self.folders[folder] = os.path.realpath(folder)
        try:
            is_link = stat.S_ISLNK(os.lstat(os.path.join(real_folder, name)).st_mode)  # noqa: PTH118
        except (OSError, ValueError):
            return os.path.realpath(path)
        if is_link:
            return os.path.realpath(path)
        return os.path.join(real_folder, name)  # noqa: PTH118

    def load(self, real: str) -> bytes | str:
        # Both sides come from realpath: a string prefix test is Path.is_relative_to here.
        if not any(real == root or real.startswith(inside) for root, inside in self.roots):
            if len(self.manifest.file_roots) > 1:
                return "is outside the manifest's folder and every file_roots folder"
            return "is outside the manifest's folder; list its folder under file_roots: to allow it"
        if _GIT_PART in real + os.sep:
            # git's own files hold what a checkout left there (CI tokens in .git/config).
            return "is inside a .git folder; secretsync never reads git's own files"
        try:
            data = read_small_file(real, MAX_BYTES)
        except UnreadableError as err:
            return err.reason
        log.debug("read %d bytes from a source file", len(data))
        return data

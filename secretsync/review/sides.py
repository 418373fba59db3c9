"""One side of a structural plan: every (repository entry, group, key) a manifest manages,
with the source of each key and, for sources inside the repository, the value's bytes.

The bytes stay inside `Secret` (redacted in every str and repr) and are only ever compared
with each other: what leaves this module is a label and a changed/unchanged mark. Environment
variables are never read; files outside the repository are never opened.

The precedence is `sources.resolve`'s: a group's dotenv files, then each used set, then its
own `secrets`, later wins.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from secretsync.errors import Problem
from secretsync.models import (
    DotenvSpec,
    GroupSpec,
    Location,
    Manifest,
    RepoSpec,
    Secret,
    SecretSpec,
)
from secretsync.names import key_path, shown_path
from secretsync.review.gitrev import OUTSIDE, Outside, Revision
from secretsync.safefile import MAX_BYTES, UnreadableError, read_small_file
from secretsync.sources.dotenvfile import EnvFile, parse_env

Found = bytes | Outside | str  # the bytes, OUTSIDE, or why the file cannot be used

_NOT_IN_ROOTS = "is outside the manifest's folder; list its folder under file_roots: to allow it"
_IN_GIT = "is inside a .git folder; secretsync never reads git's own files"


class Reader(Protocol):
    """Reads a file named relative to the manifest's folder, at one revision."""

    def read(self, ref: str) -> Found: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Value:
    """Where one key's value comes from at one revision."""

    label: str  # env:X, file:path, dotenv:path#KEY
    content: Secret | None  # the bytes, for a source inside the repository that was read
    where: Literal["repository", "outside", "environment", "unreadable"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SideGroup:
    name: str
    prune: bool
    keys: dict[str, Value]
    unlisted: tuple[str, ...]  # whole .env files outside the repository: keys unknown


@dataclass(frozen=True, slots=True, kw_only=True)
class SideRepo:
    identity: tuple[str, ...]  # the same entry at both revisions has the same identity
    spec: RepoSpec
    groups: dict[str, SideGroup]


def identities(repos: tuple[RepoSpec, ...]) -> list[tuple[str, ...]]:
    """An entry is the same across revisions by slug or id (any case), or, for an org
    selector, by org and its rank among that org's selectors (so a changed `match` reads
    as a change of the selector, not as one removed and one added)."""
    seen: dict[str, int] = {}
    out: list[tuple[str, ...]] = []
    for spec in repos:
        if spec.slug:
            out.append(("repo", spec.slug.lower()))
        elif spec.repo_id:
            out.append(("repo_id", spec.repo_id.lower()))
        else:
            org = (spec.org or "").lower()
            seen[org] = seen.get(org, 0) + 1
            out.append(("org", org, str(seen[org])))
    return out


def read_side(manifest: Manifest, reader: Reader) -> tuple[list[SideRepo], list[Problem]]:
    """Every entry, group and key of `manifest`, and the problems met reading its files."""
    side = _Side(reader)
    repos = [
        SideRepo(
            identity=identity,
            spec=spec,
            groups={group.name: side.group(group) for group in spec.groups},
        )
        for identity, spec in zip(identities(manifest.repos), manifest.repos, strict=True)
    ]
    return repos, list(side.problems)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetUse:
    """A set as the groups that use it see it: what it declares, and who uses it."""

    declares: tuple[tuple[str, str], ...]  # (key or "dotenv", source label or file), in order
    used_by: tuple[str, ...]  # "repo · group"


def set_uses(manifest: Manifest) -> dict[str, SetUse]:
    """Every set some group uses (an unused set changes nothing). Its layers are found in a
    user's layers by the key path the loader gave them, `sets.NAME...`."""
    found: dict[str, tuple[tuple[tuple[str, str], ...], list[str]]] = {}
    for spec in manifest.repos:
        for group in spec.groups:
            for name in group.uses:
                prefix = key_path(("sets", name))
                declares = tuple(
                    ("dotenv", f"dotenv:{layer.ref}")
                    if isinstance(layer, DotenvSpec)
                    else (layer.key, layer.source.label)
                    for layer in group.layers
                    if layer.key_path[len(prefix) : len(prefix) + 1] in (".", "[")
                    and layer.key_path.startswith(prefix)
                )
                entry = found.setdefault(name, (declares, []))
                entry[1].append(f"{spec.label} · {group.name}")
    return {
        name: SetUse(declares=declares, used_by=tuple(users))
        for name, (declares, users) in found.items()
    }


def source_refs(manifest: Manifest) -> list[str]:
    """Every file a manifest names, each once (to read them in one go)."""
    refs: dict[str, None] = {}
    for spec in manifest.repos:
        for group in spec.groups:
            for layer in group.layers:
                if isinstance(layer, DotenvSpec):
                    refs[layer.ref] = None
                elif layer.source.kind != "env":
                    refs[layer.source.ref] = None
    return list(refs)


class _Side:
    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.files: dict[str, Found] = {}
        self.envs: dict[str, EnvFile | Found] = {}
        self.problems: dict[Problem, None] = {}  # in order, each once

    def note(self, file: str, line: int | None, key_path: str, message: str) -> None:
        self.problems[Problem(file=file, line=line, key_path=key_path, message=message)] = None

    def group(self, group: GroupSpec) -> SideGroup:
        keys: dict[str, Value] = {}
        unlisted: list[str] = []
        for layer in group.layers:
            if isinstance(layer, SecretSpec):
                keys[layer.key] = self.explicit(layer)
                continue
            got = self.env_file(layer.ref, layer.location, layer.key_path)
            if got is OUTSIDE:
                unlisted.append(f"dotenv:{layer.ref}")
            elif isinstance(got, EnvFile):
                for key, text in got.values.items():
                    keys[key] = Value(
                        label=f"dotenv:{layer.ref}#{key}",
                        content=Secret(text.encode("utf-8")),
                        where="repository",
                    )
        return SideGroup(name=group.name, prune=group.prune, keys=keys, unlisted=tuple(unlisted))

    def explicit(self, layer: SecretSpec) -> Value:
        source = layer.source
        if source.kind == "env":
            return Value(label=source.label, content=None, where="environment")
        if source.kind == "file":
            if source.ref not in self.files:
                self.files[source.ref] = self.reader.read(source.ref)
            got = self.files[source.ref]
            if isinstance(got, bytes):
                return Value(label=source.label, content=Secret(got), where="repository")
            if isinstance(got, str):
                where = source.location
                message = f"file {shown_path(source.ref)} {got}"
                self.note(where.file, where.line, layer.key_path, message)
                return Value(label=source.label, content=None, where="unreadable")
            return Value(label=source.label, content=None, where="outside")
        env = self.env_file(source.ref, source.location, layer.key_path)
        if env is OUTSIDE:
            return Value(label=source.label, content=None, where="outside")
        if isinstance(env, EnvFile):
            dotenv_key = source.key or layer.key
            text = env.values.get(dotenv_key)
            if text is not None:
                content = Secret(text.encode("utf-8"))
                return Value(label=source.label, content=content, where="repository")
            message = f"key {dotenv_key} not found in {shown_path(source.ref)}"
            self.note(source.location.file, source.location.line, layer.key_path, message)
        return Value(label=source.label, content=None, where="unreadable")

    def env_file(self, ref: str, at: Location, key_path: str) -> EnvFile | Found:
        if ref not in self.envs:
            got = self.reader.read(ref)
            self.envs[ref] = parse_env(got) if isinstance(got, bytes) else got
            env = self.envs[ref]
            if isinstance(env, EnvFile):
                for line, message in env.problems:  # reported once, at the first use
                    self.note(shown_path(ref), line, key_path, message)
        env = self.envs[ref]
        if isinstance(env, str):
            self.note(at.file, at.line, key_path, f"dotenv file {shown_path(ref)} {env}")
        if isinstance(env, EnvFile) and env.problems:
            return "cannot be parsed"
        return env


# ---------------------------------------------------------------------------- readers


class WorkTreeReader:
    """The pull request's side: files of the working tree, confined as `sources.resolve`
    confines them, and nothing outside the repository is opened."""

    def __init__(self, manifest: Manifest, top: Path) -> None:
        self.root = str(manifest.root)
        self.top = str(top)
        self.roots = [str(r) for r in manifest.file_roots if _inside(str(r), self.top)]

    def read(self, ref: str) -> Found:
        if "\0" in ref:
            return "must not contain a NUL character"
        real = os.path.realpath(os.path.join(self.root, ref))  # noqa: PTH118
        if not _inside(real, self.top):
            return OUTSIDE
        if not any(_inside(real, root) for root in self.roots):
            return _NOT_IN_ROOTS
        if f"{os.sep}.git{os.sep}" in real + os.sep:
            return _IN_GIT
        try:
            return read_small_file(real, MAX_BYTES)
        except UnreadableError as err:
            return err.reason


class RevisionReader:
    """The base side: the same rules, applied to the revision's own trees and symlinks."""

    def __init__(self, manifest: Manifest, top: Path, revision: Revision) -> None:
        self.revision = revision
        self.folder = _parts(os.path.relpath(manifest.root, top))
        self.roots = [
            _parts(os.path.relpath(r, top))
            for r in manifest.file_roots
            if _inside(str(r), str(top))
        ]

    def prefetch(self, refs: list[str]) -> None:
        paths = [self.locate(ref) for ref in refs]
        self.revision.prefetch(p for p in paths if isinstance(p, tuple))

    def locate(self, ref: str) -> tuple[str, ...] | Found:
        if "\0" in ref:
            return "must not contain a NUL character"
        if ref.startswith("/"):  # os.path.join would drop the manifest's folder
            return OUTSIDE
        resolved = self.revision.resolve([*self.folder, *ref.split("/")])
        if isinstance(resolved, (Outside, str)):
            return resolved
        if not any(resolved[: len(root)] == root for root in self.roots):
            return _NOT_IN_ROOTS
        if any(part.lower() == ".git" for part in resolved):
            return _IN_GIT
        return resolved

    def read(self, ref: str) -> Found:
        located = self.locate(ref)
        return self.revision.read(located) if isinstance(located, tuple) else located


def _parts(relative: str) -> tuple[str, ...]:
    return tuple(p for p in relative.replace(os.sep, "/").split("/") if p not in ("", "."))


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)

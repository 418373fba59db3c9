"""Load `secretsync.yaml`: YAML with positions (yamlread), the JSON Schema (schema), the rules
a schema cannot say (rules), then the records of models.py.

Every problem found is reported at once, each as `file:line:col: key.path: message`.
Only the manifest file is read; the files it names are read by `secretsync.sources`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

from secretsync.errors import ManifestError, Problem
from secretsync.limits import EXACT_RECHECK_CHARS
from secretsync.manifest.rules import inside, items, rule_problems, strs
from secretsync.manifest.schema import schema_problems
from secretsync.manifest.yamlread import Document, read_yaml
from secretsync.models import (
    DotenvSpec,
    GroupSpec,
    Location,
    Manifest,
    RepoSpec,
    SecretSpec,
    SourceSpec,
)
from secretsync.names import NodePath, capped, key_path
from secretsync.safefile import MAX_BYTES, UnreadableError, read_small_file, repository_root
from secretsync.sourcecraft.endpoint import DEFAULT_TOKEN_ENV

__all__ = ["inside", "load_manifest", "repository_root"]

_SOURCE_KINDS: tuple[Literal["env", "file", "dotenv"], ...] = ("env", "file", "dotenv")


def load_manifest(path: Path, *, extra_roots: Sequence[Path] = ()) -> Manifest:
    """`extra_roots`: folders the pipeline (never the manifest) allows files from, wherever."""
    file = str(path)
    folder = Path(os.path.realpath(path.absolute().parent))  # relative paths start here
    repository = repository_root(folder)
    data = _read_bytes(path, file, repository)
    return manifest_from_bytes(data, path, shown=file, extra_roots=extra_roots)


def manifest_from_bytes(
    data: bytes, path: Path, *, shown: str, extra_roots: Sequence[Path] = ()
) -> Manifest:
    """A manifest whose bytes were read elsewhere (`plan --base`: from a git revision), checked
    as if it were at `path`; problems name `shown` (e.g. `origin/main:secretsync.yaml`)."""
    file = shown
    folder = Path(os.path.realpath(path.absolute().parent))
    repository = repository_root(folder)
    text = _decode(data, file)
    doc, problems = _check(text, file, folder, repository, fast=True)
    if problems and doc is not None and not doc.exact and len(text) <= EXACT_RECHECK_CHARS:
        # Shown problems point where ruamel's pure parser puts things (libyaml places empty
        # values elsewhere); reading twice costs only when there is something to fix. The pure
        # parser takes ~100 us an event (10 s for a 105 KB manifest): past the limit, a
        # problem keeps libyaml's place, exact but for an empty value's column.
        doc, problems = _check(text, file, folder, repository, fast=False)
    if problems or doc is None:
        raise ManifestError(capped(_in_order(problems), file))
    return _Builder(doc, path).manifest(folder, extra_roots)


def _check(
    text: str, file: str, folder: Path, repository: Path, *, fast: bool
) -> tuple[Document | None, list[Problem]]:
    doc, problems = read_yaml(text, file, fast=fast)
    if doc is not None:
        problems += schema_problems(doc, file)
        problems += rule_problems(doc, file, folder, repository)
    return doc, problems


def _read_bytes(path: Path, file: str, repository: Path) -> bytes:
    try:
        real = Path(os.path.realpath(path))
        if path.is_symlink() and not inside(real, repository):
            message = "the manifest is a symlink to a file outside the repository"
            raise ManifestError([Problem(file=file, message=message)])
        data = read_small_file(str(real), MAX_BYTES)
    except UnreadableError as err:
        raise ManifestError([Problem(file=file, message=f"the manifest {err.reason}")]) from err
    except ValueError as err:  # a NUL byte in the path
        raise ManifestError([Problem(file=file, message="not a valid file name")]) from err
    return data


def _decode(data: bytes, file: str) -> str:
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        col = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        problem = Problem(file=file, line=line, col=col, message="not valid UTF-8")
        raise ManifestError([problem]) from err


def _in_order(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line or 0, p.col or 0, p.key_path, p.message))


# ---------------------------------------------------------------------------- records


class _Builder:
    """Turns schema-valid plain data into records; every position comes from the Document.

    A mapping reused through aliases is one object in the data, written in one place: the
    places of everything in it are the anchor's whichever path reaches it, and only the key
    paths (`repos[7].groups.default.dotenv`) differ from one use to the next. So the records of
    a shared `groups:` mapping or group are built once, by id, and each further use copies them
    with its own key paths. Issue 13's 1,000 repositories reusing `*groups` (bench.py case
    `plan`): the build step takes 16 ms of CPU instead of 38 (medians, benchmarks/
    validate_split.py, before and after run alternately, 10 x 5 runs). `share=False` builds
    every use from scratch: the reference tests/manifest/test_shared_records.py compares the
    shared records with.
    """

    def __init__(self, doc: Document, path: Path, *, share: bool = True) -> None:
        assert isinstance(doc.data, dict)
        self.doc = doc
        self.data: dict[str, object] = doc.data
        self.path = path
        self.file = str(path)
        # Without an alias nothing is reached twice: no memo to fill.
        self.share = share and bool(doc.links)
        # (id of a `secrets` mapping, key) -> its source and key place; the data outlives this.
        self.built: dict[tuple[int, str], tuple[SourceSpec, Location]] = {}
        # id of a `groups:` mapping -> per group: name, group, key place, key path segment.
        self.shared_groups: dict[int, list[tuple[str, dict[str, object], Location, str]]] = {}
        # id of a group -> the key path it was first built under, its layers, the rest of each
        # layer's key path after that (None: a set's, the same in every use), its `use`.
        self.shared_layers: dict[
            int,
            tuple[
                str, tuple[DotenvSpec | SecretSpec, ...], tuple[str | None, ...], tuple[str, ...]
            ],
        ] = {}

    def at(self, path: NodePath, *, key: bool = False) -> Location:
        line, col = self.doc.key_at(path) if key else self.doc.pos(path)
        return Location(file=self.file, line=line, col=col)

    def manifest(self, root: Path, extra_roots: Sequence[Path]) -> Manifest:
        roots = [root]
        listed = [Path(name) for name in strs(self.data.get("file_roots"))]
        for extra in [*listed, *extra_roots]:
            resolved = Path(os.path.realpath(root / extra))
            if resolved not in roots:
                roots.append(resolved)
        api = self.data.get("api")
        api = api if isinstance(api, dict) else {}
        url = api.get("url")
        token_env = api.get("token_env", DEFAULT_TOKEN_ENV)
        assert isinstance(token_env, str)
        return Manifest(
            path=self.path,
            root=root,
            file_roots=tuple(roots),
            api_url=url if isinstance(url, str) else None,
            token_env=token_env,
            token_env_at=self.at(("api", "token_env")) if "token_env" in api else None,
            repos=tuple(self.repo(i, entry) for i, entry in items(self.data.get("repos"))),
        )

    def repo(self, index: int, entry: object) -> RepoSpec:
        assert isinstance(entry, dict)
        prune = bool(entry.get("prune", False))
        return RepoSpec(
            slug=entry.get("repo"),
            repo_id=entry.get("repo_id"),
            org=entry.get("org"),
            match=tuple(strs(entry.get("match"))),
            exclude=tuple(strs(entry.get("exclude"))),
            groups=self.groups(("repos", index, "groups"), entry["groups"], prune),
            location=self.at(("repos", index)),
        )

    def groups(
        self, path: NodePath, groups: dict[str, dict[str, object]], prune: bool
    ) -> tuple[GroupSpec, ...]:
        if not self.share:
            return tuple(
                self.group((*path, name), name, group, prune) for name, group in groups.items()
            )
        entries = self.shared_groups.get(id(groups))
        if entries is None:
            # The key path of `repos[i].groups` plus each name's segment is each group's.
            entries = self.shared_groups[id(groups)] = [
                (name, group, self.at((*path, name), key=True), key_path(("g", name))[1:])
                for name, group in groups.items()
            ]
        owner = key_path(path)
        return tuple(
            [
                self.shared_group(path, name, owner + segment, group, prune, where)
                for name, group, where, segment in entries
            ]
        )

    def shared_group(
        self,
        path: NodePath,
        name: str,
        shown: str,
        group: dict[str, object],
        prune: bool,
        where: Location,
    ) -> GroupSpec:
        """The group named `name` under `path` (key path `shown`), its place `where`. Its
        layers are built at its first use; a later use gets copies whose key paths start with
        its own `shown` (a set's layers, under `sets.`, are the same objects)."""
        known = self.shared_layers.get(id(group))
        if known is None:
            layers = self.layers((*path, name), group)
            cut = len(shown)
            tails = tuple(
                layer.key_path[cut:] if layer.key_path.startswith(shown) else None
                for layer in layers
            )
            uses = tuple(strs(group.get("use")))
            known = self.shared_layers[id(group)] = (shown, layers, tails, uses)
        first, layers, tails, uses = known
        if shown != first:
            layers = tuple(
                [
                    layer
                    if tail is None
                    else DotenvSpec(
                        ref=layer.ref,
                        allow_empty=layer.allow_empty,
                        location=layer.location,
                        key_path=shown + tail,
                    )
                    if isinstance(layer, DotenvSpec)
                    else SecretSpec(
                        key=layer.key,
                        source=layer.source,
                        location=layer.location,
                        key_path=shown + tail,
                    )
                    for layer, tail in zip(layers, tails, strict=True)
                ]
            )
        return GroupSpec(
            name=name,
            prune=bool(group.get("prune", prune)),
            layers=layers,
            location=where,
            uses=uses,
        )

    def group(self, path: NodePath, name: str, group: dict[str, object], prune: bool) -> GroupSpec:
        return GroupSpec(
            name=name,
            prune=bool(group.get("prune", prune)),
            layers=self.layers(path, group),
            location=self.at(path, key=True),
            uses=tuple(strs(group.get("use"))),
        )

    def layers(
        self, path: NodePath, group: dict[str, object]
    ) -> tuple[DotenvSpec | SecretSpec, ...]:
        layers: list[DotenvSpec | SecretSpec] = list(self.dotenvs(path, group))
        sets = self.data.get("sets")
        for set_name in strs(group.get("use")):
            assert isinstance(sets, dict)
            used = sets[set_name]
            layers += self.dotenvs(("sets", set_name), used)
            layers += self.secrets(("sets", set_name), used)
        layers += self.secrets(path, group)
        return tuple(layers)

    def dotenvs(self, owner: NodePath, holder: dict[str, object]) -> Iterator[DotenvSpec]:
        value = holder.get("dotenv")
        allow_empty = bool(holder.get("allow_empty", False))
        refs: list[tuple[NodePath, object]] = []
        if isinstance(value, str):
            refs.append(((*owner, "dotenv"), value))
        refs += [((*owner, "dotenv", i), ref) for i, ref in items(value)]
        for path, ref in refs:
            assert isinstance(ref, str)
            yield DotenvSpec(
                ref=ref, allow_empty=allow_empty, location=self.at(path), key_path=key_path(path)
            )

    def secrets(self, owner: NodePath, holder: dict[str, object]) -> Iterator[SecretSpec]:
        secrets = holder.get("secrets")
        for key, source in secrets.items() if isinstance(secrets, dict) else ():
            assert isinstance(source, dict)
            path = (*owner, "secrets", key)
            # A mapping reused through an alias is written once: its sources and places too.
            built = self.built.get((id(secrets), key)) if self.doc.links else None
            if built is None:
                kind = next(k for k in _SOURCE_KINDS if k in source)
                spec = SourceSpec(
                    kind=kind,
                    ref=source[kind],
                    key=source.get("key", key) if kind == "dotenv" else None,
                    allow_empty=bool(source.get("allow_empty", False)),
                    location=self.at(path),
                )
                built = self.built[(id(secrets), key)] = (spec, self.at(path, key=True))
            spec, where = built
            yield SecretSpec(key=key, source=spec, location=where, key_path=key_path(path))

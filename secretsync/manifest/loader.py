"""Load `secretsync.yaml`: YAML with positions (yamlread), the JSON Schema (schema), the rules
a schema cannot say (here), then the records of models.py.

Every problem found is reported at once, each as `file:line:col: key.path: message`.
Only the manifest file is read; the files it names are read by `secretsync.sources`.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

from secretsync import names
from secretsync.errors import ConfigError, ManifestError, Problem
from secretsync.limits import MAX_EXPANDED_ENTRIES, MAX_SUGGESTION_CANDIDATES, MAX_SUGGESTIONS
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
from secretsync.names import NodePath, capped, has_control, key_path, quote
from secretsync.safefile import MAX_BYTES, UnreadableError, read_small_file, repository_root
from secretsync.sourcecraft.endpoint import DEFAULT_TOKEN_ENV, check_url

__all__ = ["inside", "load_manifest", "repository_root"]

_SET_RE = re.compile(names.SET)
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
    if problems and doc is not None and not doc.exact:
        # Shown problems point where ruamel's pure parser puts things (libyaml places empty
        # values elsewhere); reading twice costs only when there is something to fix.
        doc, problems = _check(text, file, folder, repository, fast=False)
    if problems or doc is None:
        raise ManifestError(capped(_in_order(problems), file))
    return _Builder(doc, path).manifest(folder, extra_roots)


def inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def _check(
    text: str, file: str, folder: Path, repository: Path, *, fast: bool
) -> tuple[Document | None, list[Problem]]:
    doc, problems = read_yaml(text, file, fast=fast)
    if doc is not None:
        problems += schema_problems(doc, file)
        problems += _rule_problems(doc, file, folder, repository)
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


# ---------------------------------------------------------------------------- rules


def _rule_problems(doc: Document, file: str, folder: Path, repository: Path) -> list[Problem]:
    """What the schema cannot say: duplicate repositories, unknown sets, control characters,
    file_roots outside the repository, a malformed api.url.

    Runs on schema-invalid data too (skipping what has the wrong type), so one run shows all.
    """
    out: list[Problem] = []

    def add(path: NodePath, message: str) -> None:
        line, col = doc.pos(path)
        message += doc.via(path)  # the place is the anchor's; the path says where it is used
        out.append(Problem(file=file, line=line, col=col, key_path=key_path(path), message=message))

    data = doc.data if isinstance(doc.data, dict) else {}
    sets = data.get("sets") if isinstance(data.get("sets"), dict) else {}
    assert isinstance(sets, dict)
    seen_repos: dict[tuple[str, str], int] = {}
    suggest = _Suggester([str(name) for name in sets])
    expanded = _Expansion(sets)
    for path in _control_in_paths(data, (), in_path_field=False):
        add(path, "must not contain control characters (newline, tab, NUL...)")
    for path, root in _names(data.get("file_roots"), ("file_roots",)):
        if has_control(root):
            continue  # said above
        if not inside(Path(os.path.realpath(folder / root)), repository):
            add(
                path,
                f"{quote(root)} is outside the repository ({repository}); a folder outside "
                "it can be allowed only by the pipeline: --file-root or SECRETSYNC_FILE_ROOTS",
            )
    api = data.get("api")
    url = api.get("url") if isinstance(api, dict) else None
    if isinstance(url, str):
        try:
            check_url(url, origin="api.url")
        except ConfigError as err:
            add(("api", "url"), err.message.removeprefix("api.url: "))
    for index, entry in _items(data.get("repos")):
        if not isinstance(entry, dict):
            continue
        for field, kind in (("repo", "repository"), ("repo_id", "repository id")):
            name = entry.get(field)
            if isinstance(name, str):
                first = seen_repos.setdefault((field, name.lower()), index)
                if first != index:
                    add(
                        ("repos", index, field),
                        f"{kind} {quote(name)} is already listed at repos[{first}]",
                    )
        groups = entry.get("groups")
        for group_name, group in groups.items() if isinstance(groups, dict) else ():
            if not isinstance(group, dict):
                continue
            group_path: NodePath = ("repos", index, "groups", group_name)
            for path, set_name in _names(group.get("use"), (*group_path, "use")):
                if set_name not in sets and _SET_RE.fullmatch(set_name):  # else the schema said
                    message = f"unknown set {quote(set_name)}"
                    hint = suggest(set_name)
                    if hint:
                        message += f" (did you mean {quote(hint)}?)"
                    elif not sets:
                        message += " (there is no top-level 'sets:')"
                    add(path, message)
            if expanded.over(group):
                add(
                    group_path,
                    f"with the sets it uses, the groups so far hold over {MAX_EXPANDED_ENTRIES:,} "
                    "entries (the limit per manifest); split the manifest or use fewer sets",
                )
    return out


class _Suggester:
    """"did you mean": at most MAX_SUGGESTIONS per manifest, and none among too many names
    (each suggestion compares the name with every candidate)."""

    def __init__(self, candidates: list[str]) -> None:
        self.candidates = candidates if len(candidates) <= MAX_SUGGESTION_CANDIDATES else []
        self.left = MAX_SUGGESTIONS

    def __call__(self, name: str) -> str | None:
        if self.left <= 0 or not self.candidates:
            return None
        self.left -= 1
        found = difflib.get_close_matches(name, self.candidates, n=1)
        return found[0] if found else None


class _Expansion:
    """Counts a group's entries with the sets it uses copied in, as the builder will."""

    def __init__(self, sets: dict[object, object]) -> None:
        self.sets = sets
        self.total = 0
        self.said = False

    def over(self, group: dict[object, object]) -> bool:
        self.total += _entries(group)
        for name in _strs(group.get("use")):
            used = self.sets.get(name)
            self.total += _entries(used) if isinstance(used, dict) else 0
        if self.total <= MAX_EXPANDED_ENTRIES or self.said:
            return False
        self.said = True  # once: the groups after it are over too
        return True


def _entries(holder: dict[object, object]) -> int:
    secrets = holder.get("secrets")
    count = len(secrets) if isinstance(secrets, dict) else 0
    return count + len(_strs(holder.get("dotenv")))


def _items(value: object) -> Iterator[tuple[int, object]]:
    return enumerate(value) if isinstance(value, list) else iter(())


def _names(value: object, path: NodePath) -> Iterator[tuple[NodePath, str]]:
    if isinstance(value, str):
        yield path, value
    for index, item in _items(value):
        if isinstance(item, str):
            yield (*path, index), item


_PATH_FIELDS = frozenset({"file", "dotenv", "file_roots", "match", "exclude"})


def _control_in_paths(value: object, path: NodePath, *, in_path_field: bool) -> list[NodePath]:
    """Paths of strings with control characters under a path-like field (whatever nests
    between: a list of paths, or a mapping where the schema wanted a string)."""
    if isinstance(value, str):
        return [path] if in_path_field and has_control(value) else []
    found: list[NodePath] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) or key in _PATH_FIELDS:
                child = (*path, key)
                found += _control_in_paths(item, child, in_path_field=key in _PATH_FIELDS)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, (dict, list, str)):
                found += _control_in_paths(item, (*path, index), in_path_field=in_path_field)
    return found


# ---------------------------------------------------------------------------- records


class _Builder:
    """Turns schema-valid plain data into records; every position comes from the Document."""

    def __init__(self, doc: Document, path: Path) -> None:
        assert isinstance(doc.data, dict)
        self.doc = doc
        self.data: dict[str, object] = doc.data
        self.path = path
        self.file = str(path)
        # (id of a `secrets` mapping, key) -> its source and key place; the data outlives this.
        self.built: dict[tuple[int, str], tuple[SourceSpec, Location]] = {}

    def at(self, path: NodePath, *, key: bool = False) -> Location:
        line, col = self.doc.key_at(path) if key else self.doc.pos(path)
        return Location(file=self.file, line=line, col=col)

    def manifest(self, root: Path, extra_roots: Sequence[Path]) -> Manifest:
        roots = [root]
        listed = [Path(name) for name in _strs(self.data.get("file_roots"))]
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
            repos=tuple(self.repo(i, entry) for i, entry in _items(self.data.get("repos"))),
        )

    def repo(self, index: int, entry: object) -> RepoSpec:
        assert isinstance(entry, dict)
        prune = bool(entry.get("prune", False))
        groups = entry["groups"]
        return RepoSpec(
            slug=entry.get("repo"),
            repo_id=entry.get("repo_id"),
            org=entry.get("org"),
            match=tuple(_strs(entry.get("match"))),
            exclude=tuple(_strs(entry.get("exclude"))),
            groups=tuple(
                self.group(("repos", index, "groups", name), name, group, prune)
                for name, group in groups.items()
            ),
            location=self.at(("repos", index)),
        )

    def group(self, path: NodePath, name: str, group: dict[str, object], prune: bool) -> GroupSpec:
        layers: list[DotenvSpec | SecretSpec] = list(self.dotenvs(path, group))
        sets = self.data.get("sets")
        for set_name in _strs(group.get("use")):
            assert isinstance(sets, dict)
            used = sets[set_name]
            layers += self.dotenvs(("sets", set_name), used)
            layers += self.secrets(("sets", set_name), used)
        layers += self.secrets(path, group)
        return GroupSpec(
            name=name,
            prune=bool(group.get("prune", prune)),
            layers=tuple(layers),
            location=self.at(path, key=True),
            uses=tuple(_strs(group.get("use"))),
        )

    def dotenvs(self, owner: NodePath, holder: dict[str, object]) -> Iterator[DotenvSpec]:
        value = holder.get("dotenv")
        allow_empty = bool(holder.get("allow_empty", False))
        refs: list[tuple[NodePath, object]] = []
        if isinstance(value, str):
            refs.append(((*owner, "dotenv"), value))
        refs += [((*owner, "dotenv", i), ref) for i, ref in _items(value)]
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


def _strs(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []

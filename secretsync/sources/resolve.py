"""Resolve the manifest's value sources (env variables, files, .env files) to bytes.

Every file is read at most once per call, whatever number of entries name it (`files`). Files
must resolve (symlinks included) inside one of `Manifest.file_roots`, be regular and at most
1 MiB. A whole .env file (`dotenv:` on a group or set) lists its keys into the plan, so it must be
inside the repository (`safefile.repository_root`), which the reviewer sees; a file outside it
(a `--file-root` folder of the pipeline) is read per named key only, and no problem quotes it.
Every named source must exist; emptiness is judged on the value that wins a key, so an empty
.env entry overridden by an explicit secret is not an error. Problems name the manifest entry
and never contain a value.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from secretsync.errors import Problem, SourceError
from secretsync.limits import MAX_SECRETS
from secretsync.models import (
    DesiredGroup,
    DesiredRepo,
    DesiredSecret,
    DotenvSpec,
    GroupSpec,
    Manifest,
    RepoSpec,
    Secret,
    SecretSpec,
)
from secretsync.names import HELP, KEY, capped, shown_path
from secretsync.sources.allow import ALLOW_ENV_ENV, EnvAllowlist
from secretsync.sources.dotenvfile import EnvFile, parse_env
from secretsync.sources.files import SourceFiles

log = logging.getLogger(__name__)

_ALLOW_EMPTY = "add allow_empty: true to the entry to allow it"


def resolve_sources(
    manifest: Manifest, environ: Mapping[str, str], *, allow_env: EnvAllowlist | None = None
) -> tuple[DesiredRepo, ...]:
    return tuple(iter_sources(manifest, environ, allow_env=allow_env))


def iter_sources(
    manifest: Manifest, environ: Mapping[str, str], *, allow_env: EnvAllowlist | None = None
) -> Iterator[DesiredRepo]:
    """resolve_sources one repository at a time, so a caller can do other work in between.

    Problems are collected over every repository and raised after the last one, so the
    error is the same however the iteration is interleaved.
    """
    resolver = _Resolver(manifest, environ, allow_env)
    for repo in manifest.repos:
        yield DesiredRepo(spec=repo, groups=tuple(resolver.group(repo, g) for g in repo.groups))
    resolver.raise_problems()


def check_sources(
    manifest: Manifest,
    environ: Mapping[str, str] | None,
    *,
    allow_env: EnvAllowlist | None = None,
) -> None:
    """Everything resolve_sources checks; env variables only when `environ` is given (the
    allowlist is checked either way)."""
    resolver = _Resolver(manifest, environ, allow_env)
    for repo in manifest.repos:
        for group in repo.groups:
            resolver.group(repo, group)
    resolver.raise_problems()


class _Candidate(NamedTuple):
    """An explicit source's value for a key, and what to point at if it is empty."""

    value: bytes
    label: str
    allow_empty: bool
    spec: SecretSpec
    use: str


class _Layer(NamedTuple):
    """A resolved layer: a whole .env file's entries, or one explicit value."""

    spec: DotenvSpec | SecretSpec
    got: EnvFile | _Candidate
    use: str


def _decides(layer: DotenvSpec | SecretSpec) -> tuple[object, ...]:
    """What a layer's outcome depends on: its source, never where the manifest says it."""
    if isinstance(layer, DotenvSpec):
        return ("dotenv", layer.ref, layer.allow_empty)
    source = layer.source
    return ("secret", layer.key, source.kind, source.ref, source.key, source.allow_empty)


class _Resolver:
    def __init__(
        self,
        manifest: Manifest,
        environ: Mapping[str, str] | None,
        allow_env: EnvAllowlist | None = None,
    ) -> None:
        self.manifest = manifest
        self.allow_env = allow_env
        self.file = str(manifest.path)
        self.environ = environ
        self.files = SourceFiles(manifest)
        self.envs: dict[str, EnvFile] = {}
        self.secrets_left = MAX_SECRETS
        # base problem -> the secrets it affects ("secret X in acme/app, group default")
        self.problems: dict[Problem, list[str]] = {}
        self.noted = 0  # calls of `add`: a group that noted nothing resolved cleanly
        # What a group resolved to, by what decides it (see `group`), with the key counts it
        # took from the run's limit, in order: for the next group that names the same sources
        self.resolved: dict[tuple[object, ...], tuple[tuple[int, ...], DesiredGroup]] = {}
        self.counted: list[int] = []  # the counts the group being resolved took

    # ------------------------------------------------------------------ problems

    def add(self, where: Problem, message: str, use: str | None = None) -> None:
        self.noted += 1
        base = replace(where, message=message)
        uses = self.problems.setdefault(base, [])
        if use and use not in uses:
            uses.append(use)

    def raise_problems(self) -> None:
        if not self.problems:
            return
        out = []
        for base, uses in self.problems.items():
            message = base.message
            if uses:
                more = f"; and {len(uses) - 1} more" if len(uses) > 1 else ""
                message += f" ({uses[0]}{more})"
            out.append(replace(base, message=message))
        out.sort(key=lambda p: (p.file != self.file, p.file, p.line or 0, p.col or 0, p.key_path))
        raise SourceError(capped(out, self.file))

    def entry(self, spec: SecretSpec | DotenvSpec) -> Problem:
        """A message-less Problem pointing at a manifest entry."""
        location = spec.source.location if isinstance(spec, SecretSpec) else spec.location
        return Problem(
            file=location.file,
            line=location.line,
            col=location.col,
            key_path=spec.key_path,
            message="",
        )

    # ------------------------------------------------------------------ groups

    def group(self, repo: RepoSpec, group: GroupSpec) -> DesiredGroup:
        # Many groups name the same sources (a YAML anchor, a set): 1,000 repositories often
        # share a few .env files. What a group resolves to depends only on its name, prune
        # flag and each layer's source (names, files and the environment do not change within
        # a run), so a group that resolved without noting any problem is reused for the next
        # group with the same sources; it still takes its keys from the run's limit, in the
        # same steps. Locations and key paths only shape problems, so they are not part of it.
        if self.secrets_left < 0:
            return DesiredGroup(name=group.name, prune=group.prune, secrets=())  # said once
        key = (group.name, group.prune, *map(_decides, group.layers))
        known = self.resolved.get(key)
        if known is not None:
            counts, desired = known
            for keys in counts:
                if not self.within_limit(keys, repo, group):
                    return DesiredGroup(name=group.name, prune=group.prune, secrets=())
            return desired
        noted, self.counted = self.noted, []
        desired = self.resolve_group(repo, group)
        if self.noted == noted:
            self.resolved[key] = (tuple(self.counted), desired)
        return desired

    def resolve_group(self, repo: RepoSpec, group: GroupSpec) -> DesiredGroup:
        # Which layer wins each key; values are taken from the winners only (a whole .env
        # file's entries are not copied: 10,000 of them in a 1,000-file job).
        layers: list[_Layer] = []
        winners: dict[str, int] = {}
        place = f"{shown_path(repo.label)}, group {shown_path(group.name)}"
        for layer in group.layers:
            if isinstance(layer, DotenvSpec):
                use = f"in {place}"
                env = self.whole_dotenv(layer, use)
                if env is not None:
                    # Counted before it is merged: a .env file read whole by many groups, or
                    # listed many times in one, multiplies (keys in two layers count twice).
                    if not self.within_limit(len(env.values), repo, group):
                        return DesiredGroup(name=group.name, prune=group.prune, secrets=())
                    winners.update(dict.fromkeys(env.values, len(layers)))
                    layers.append(_Layer(layer, env, use))
            else:
                use = f"secret {shown_path(layer.key)} in {place}"
                explicit = self.source(layer, use)
                if explicit is not None:
                    if not self.within_limit(1, repo, group):
                        return DesiredGroup(name=group.name, prune=group.prune, secrets=())
                    winners[layer.key] = len(layers)
                    layers.append(_Layer(layer, explicit, use))
        secrets = []
        for key in sorted(winners):
            spec, got, use = layers[winners[key]]
            if isinstance(got, _Candidate):
                value, label, allow_empty = got.value, got.label, got.allow_empty
            else:
                assert isinstance(spec, DotenvSpec)
                value = got.values[key].encode("utf-8")
                label, allow_empty = f"dotenv:{spec.ref}#{key}", spec.allow_empty
            if not value and not allow_empty:
                self.add(*self.empty(spec, key, got), use)
                continue
            secrets.append(DesiredSecret(key=key, value=Secret(value), source=label))
        return DesiredGroup(name=group.name, prune=group.prune, secrets=tuple(secrets))

    def within_limit(self, keys: int, repo: RepoSpec, group: GroupSpec) -> bool:
        """Counts `keys` against the run's MAX_SECRETS; False (said once) past it."""
        self.counted.append(keys)
        self.secrets_left -= keys
        if self.secrets_left >= 0:
            return True
        at = group.location
        self.add(
            Problem(file=at.file, line=at.line, col=at.col, message=""),
            f"with group {shown_path(group.name)} of {shown_path(repo.label)}, the run reads "
            f"over {MAX_SECRETS:,} secrets (the limit per run); split the manifest",
        )
        return False

    def empty(
        self, spec: DotenvSpec | SecretSpec, key: str, got: EnvFile | _Candidate
    ) -> tuple[Problem, str]:
        """Where to point, and what to say, when the value that won a key is empty."""
        if isinstance(spec, DotenvSpec):
            assert isinstance(got, EnvFile)
            owner = "set" if spec.key_path.startswith("sets") else "group"
            where = Problem(
                file=self.display(spec.ref), line=got.lines[key], key_path=spec.key_path, message=""
            )
            return where, f"key {key} is empty; add allow_empty: true to the {owner} to allow it"
        source = spec.source
        if source.kind == "env":
            what = f"env variable {source.ref}"
        elif source.kind == "file":
            what = f"file {shown_path(source.ref)}"
        else:
            what = f"key {source.key or spec.key} in {shown_path(source.ref)}"
        return self.entry(spec), f"{what} is empty; {_ALLOW_EMPTY}"

    def source(self, spec: SecretSpec, use: str) -> _Candidate | None:
        source = spec.source
        if source.kind == "env":
            return self.env_var(spec, use)
        if source.kind == "file":
            data = self.read(spec, source.ref, "file", use)
            if data is None:
                return None
        else:
            env = self.read_env(spec, source.ref, use)
            dotenv_key = source.key or spec.key
            if env is None:
                return None
            found = env.values.get(dotenv_key)
            if found is None:
                message = f"key {dotenv_key} not found in {shown_path(source.ref)}"
                self.add(self.entry(spec), message, use)
                return None
            data = found.encode("utf-8")
        return _Candidate(data, source.label, source.allow_empty, spec, use)

    def env_var(self, spec: SecretSpec, use: str) -> _Candidate | None:
        name = spec.source.ref
        if self.allow_env is not None and not self.allow_env.allows(name):
            message = (
                f"env variable {name} is not in the pipeline's allowlist "
                f"(--allow-env / {ALLOW_ENV_ENV}: {self.allow_env})"
            )
            self.add(self.entry(spec), message, use)
            return None
        if self.environ is None:
            return None  # `validate --no-env`
        raw = self.environ.get(name)
        if raw is None:
            self.add(self.entry(spec), f"env variable {name} is not set", use)
            return None
        try:
            data = raw.encode("utf-8")
        except UnicodeEncodeError:
            self.add(self.entry(spec), f"env variable {name} is not valid UTF-8", use)
            return None
        return _Candidate(data, spec.source.label, spec.source.allow_empty, spec, use)

    def whole_dotenv(self, spec: DotenvSpec, use: str) -> EnvFile | None:
        if self.read(spec, spec.ref, "dotenv file", use) is None:
            return None
        if not self.files.in_repository(self.files.locate(spec.ref)):
            # Its key names would be shown in the plan: the content of a file nobody reviewed.
            message = (
                f"dotenv file {shown_path(spec.ref)} is outside the repository, so it cannot be "
                "read whole (its keys would be shown); name each key instead: "
                "secrets: {KEY: {dotenv: FILE, key: NAME}}"
            )
            self.add(self.entry(spec), message, use)
            return None
        env = self.read_env(spec, spec.ref, use)
        if env is not None and env.bad_key_lines:
            shown = self.display(spec.ref)
            what, rule = HELP[KEY]
            for line in env.bad_key_lines:
                self.add(
                    Problem(file=shown, line=line, key_path=spec.key_path, message=""),
                    f"this key is not a valid secret {what}: must {rule}",
                )
        return env

    # ------------------------------------------------------------------ files

    def read_env(self, spec: SecretSpec | DotenvSpec, ref: str, use: str) -> EnvFile | None:
        data = self.read(spec, ref, "dotenv file", use)
        if data is None:
            return None
        real = self.files.locate(ref)
        env = self.envs.get(real)
        if env is None:
            env = self.envs[real] = parse_env(data, name_keys=self.files.in_repository(real))
            # Reported once, pointing at the first entry that uses the file.
            for line, message in env.problems:
                at = Problem(file=self.display(ref), line=line, key_path=spec.key_path, message="")
                self.add(at, message)
        return None if env.problems else env

    def read(self, spec: SecretSpec | DotenvSpec, ref: str, kind: str, use: str) -> bytes | None:
        """The file's bytes, or None when it cannot be used (the problem is noted)."""
        if "\0" in ref:  # load_manifest refuses these; a hand-built Manifest may not
            self.add(
                self.entry(spec), f"{kind} {shown_path(ref)} must not contain a NUL character", use
            )
            return None
        got = self.files.read(ref)
        if isinstance(got, str):
            self.add(self.entry(spec), f"{kind} {shown_path(ref)} {got}", use)
            return None
        return got

    def display(self, ref: str) -> str:
        """A .env file's name in messages, as seen from where the user ran secretsync."""
        return shown_path(str(Path(self.file).parent / ref))

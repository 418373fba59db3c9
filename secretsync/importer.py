"""`secretsync import`: a starting manifest for secrets that already exist.

Only key names are read back out of the listing; every value becomes an `env:` source and a
line of a .env template with the variable name and no value.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from secretsync.models import RepoInfo
from secretsync.names import KEY_RE, UUID
from secretsync.sourcecraft.client import SourceCraftClient

SCHEMA_URL = "https://secretsync.dev/schemas/manifest.schema.json"
_UUID = re.compile(UUID)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportedRepo:
    """One repository's listed keys, for `secretsync import`."""

    repo: RepoInfo
    address: str  # as the user named it: "org/repo" or a repo id
    groups: tuple[tuple[str, tuple[str, ...]], ...]  # (group, sorted keys)
    skipped: int = 0  # listed keys that are not valid secret names (a manifest cannot hold them)


async def fetch_existing(
    client: SourceCraftClient, repo: str, groups: Sequence[str]
) -> ImportedRepo:
    info = await (client.get_repo_by_id(repo) if _UUID.match(repo) else client.get_repo(repo))
    found = []
    skipped = 0
    for group in groups:
        listed = (await client.list_secrets(info.repo_id, group)).keys()
        # A name from the API goes into YAML and a .env template: only valid names do.
        keys = sorted(key for key in listed if KEY_RE.fullmatch(key))
        skipped += len(listed) - len(keys)
        found.append((group, tuple(keys)))
    return ImportedRepo(repo=info, address=repo, groups=tuple(found), skipped=skipped)


def env_name(repo: ImportedRepo, group: str, key: str) -> str:
    """The readable name: REPO[_GROUP]_KEY. Not unique on its own (see env_names)."""
    base = (repo.repo.slug or repo.address).rpartition("/")[2]
    parts = [base] if group == "default" else [base, group]
    prefix = re.sub(r"[^A-Za-z0-9]+", "_", "_".join(parts)).strip("_").upper()
    if not prefix or prefix[0].isdigit():
        prefix = "S_" + prefix
    return f"{prefix}_{key}"


def env_names(repo: ImportedRepo) -> dict[tuple[str, str], str]:
    """A variable per (group, key), unique across the manifest written.

    The readable name folds case and punctuation and drops the group `default`, so
    `default.PROD_DB` and `prod.DB`, or groups `prod.eu` and `prod_eu`, would share one
    variable, and applying the manifest would copy one group's value into the other. Every
    pair whose readable name is shared gets a suffix from a digest of the exact (group, key):
    the same listing always gives the same names, and names that were unique stay as they are.
    """
    readable = {(g, k): env_name(repo, g, k) for g, keys in repo.groups for k in keys}
    # Compared without case: some secret stores (GitHub's) do not tell API_Key from API_KEY.
    counts = Counter(name.upper() for name in readable.values())
    names = {pair: name for pair, name in readable.items() if counts[name.upper()] == 1}
    taken = {name.upper() for name in names.values()}
    for pair, name in sorted(readable.items()):
        if counts[name.upper()] == 1:
            continue
        digest = hashlib.sha256(json.dumps(pair).encode()).hexdigest().upper()
        length = 6
        while f"{name}_{digest[:length]}".upper() in taken:  # 24 bits collided: lengthen
            length += 2
        names[pair] = f"{name}_{digest[:length]}"
        taken.add(names[pair].upper())
    return names


def render_manifest(repo: ImportedRepo) -> str:
    # JSON strings are valid YAML scalars: quoting with json.dumps keeps odd names safe.
    address_key = "repo_id" if _UUID.match(repo.address) else "repo"
    lines = [
        f"# yaml-language-server: $schema={SCHEMA_URL}",
        "# Written by `secretsync import`. Every value comes from an environment variable:",
        "# set them in your CI secrets (names in the .env template), then run `secretsync plan`.",
        "version: 1",
        "repos:",
        f"  - {address_key}: {json.dumps(repo.address)}",
        "    prune: false",
        "    groups:",
    ]
    names = env_names(repo)
    for group, keys in repo.groups:
        lines.append(f"      {json.dumps(group)}:")
        if not keys:
            lines.append("        secrets: {}")
            continue
        lines.append("        secrets:")
        lines += [f"          {key}: {{env: {names[group, key]}}}" for key in keys]
    return "\n".join(lines) + "\n"


def render_env_template(repo: ImportedRepo) -> str:
    lines = ["# Variable names for the imported manifest. Fill values in CI, never commit them."]
    names = env_names(repo)
    for group, keys in repo.groups:
        lines += [f"{names[group, key]}=" for key in keys]
    return "\n".join(lines) + "\n"

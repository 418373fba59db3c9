"""Read the remote side of a plan: resolve every repository, list every wanted group.

Each repository is one unit of work (its id, then its groups' listings together), so the
listings of the first repositories start while later ids are still being resolved.
"""

from __future__ import annotations

import asyncio
import fnmatch
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from secretsync.errors import ApiError, ManifestError, Problem
from secretsync.models import Manifest, RepoInfo, RepoSpec, Secret, Target
from secretsync.plan.planner import GroupPlan, Selection
from secretsync.plan.resolving import locate
from secretsync.sourcecraft.client import SourceCraftClient
from secretsync.tasks import gather_all, map_bounded

Listing = dict[str, Secret | None]  # a group's stored keys: value, or None when unreadable
Early = GroupPlan | None  # None: the group's values were not read yet
PlanEarly = Callable[[int, int, Target, Listing], Early]


async def read_remote(
    manifest: Manifest,
    client: SourceCraftClient,
    *,
    selection: Selection,
    parallelism: int,
    plan_early: PlanEarly,
) -> list[list[Read]]:
    """Resolve every repository and list every wanted (repo, group).

    Each repository is resolved and then its groups are listed together by the same worker,
    so listings start as soon as the first id is known instead of after the last one (no
    phase barrier), and the run's last moments are one request deep, not one per group.
    Slugs are resolved by resolving.locate (from the org's listing when the manifest names
    many repositories of one org); each repository is read as soon as its id is known.
    `plan_early` plans a group as soon as its listing is in (None: its values are not yet).
    """
    orgs = sorted({r.org for r in manifest.repos if r.org})
    org_repos = dict(
        zip(orgs, await map_bounded(client.list_org_repos, orgs, parallelism), strict=True)
    )
    units: list[tuple[int, RepoInfo | str]] = []
    for index, spec in enumerate(manifest.repos):
        if spec.slug:
            units.append((index, spec.slug))
        elif spec.repo_id:
            units.append((index, RepoInfo(repo_id=spec.repo_id, slug=None)))
        else:
            selected = select_repos(org_repos[spec.org or ""], spec.match, spec.exclude)
            units += [(index, info) for info in selected]

    unresolved: list[Problem] = []

    async def read(index: int, address: RepoInfo | str) -> list[Read]:
        spec = manifest.repos[index]
        try:
            return await read_one(index, spec, address)
        except ApiError as exc:
            # A repository that does not exist (or the token cannot see) is the manifest's
            # problem: keep going, so every such entry is reported at once.
            if exc.status != 404 or not (spec.slug or spec.repo_id):
                raise
            unresolved.append(_not_found(spec, exc))
            return []

    async def read_one(index: int, spec: RepoSpec, address: RepoInfo | str) -> list[Read]:
        info = await client.get_repo(address) if isinstance(address, str) else address
        name = info.slug or f"id:{info.repo_id}"
        targets = [
            Target(repo=name, repo_id=info.repo_id, group=group.name, prune=group.prune)
            for group in spec.groups
        ]
        wanted = [i for i, target in enumerate(targets) if selection.wants_target(target)]
        listed = await gather_all(
            [client.list_secrets(info.repo_id, targets[i].group) for i in wanted]
        )
        listings: list[Listing | None] = [None] * len(targets)  # None: not listed
        for i, listing in zip(wanted, listed, strict=True):
            listings[i] = listing
        return [
            Read(
                spec=spec,
                repo_index=index,
                group_index=i,
                info=info,
                target=target,
                listing=listing,
                planned=None if listing is None else plan_early(index, i, target, listing),
            )
            for i, (target, listing) in enumerate(zip(targets, listings, strict=True))
        ]

    reads = await _dispatch(client, units, read, org_repos, parallelism)
    if unresolved:
        raise ManifestError(
            sorted(unresolved, key=lambda p: p.line or 0),
            hint="check each name or id and that the token can see the repository "
            "(plan and apply print ids as id:UUID; `secretsync import --repo ORG/REPO` writes "
            "a repository's entry)",
        )
    return reads


async def _dispatch(
    client: SourceCraftClient,
    units: Sequence[tuple[int, RepoInfo | str]],
    read: Callable[[int, RepoInfo | str], Awaitable[list[Read]]],
    org_repos: Mapping[str, Sequence[RepoInfo]],
    parallelism: int,
) -> list[list[Read]]:
    """`read` every unit with `parallelism` workers; results in unit order.

    Units whose id is known go first, in manifest order; slugs follow as locate hands them
    over (at once for single lookups, page by page from an org's listing), so no worker waits
    for a page while another repository could be read.
    """
    results: list[list[Read]] = [[] for _ in units]
    ready: asyncio.Queue[tuple[int, RepoInfo | str] | None] = asyncio.Queue()
    named = [u for u, (_, address) in enumerate(units) if isinstance(address, str)]
    for u, (_, address) in enumerate(units):
        if not isinstance(address, str):
            ready.put_nowait((u, address))
    workers = max(1, min(parallelism, len(units)))

    def found(position: int, address: RepoInfo | str) -> None:
        ready.put_nowait((named[position], address))

    async def feed() -> None:
        slugs = [str(units[u][1]) for u in named]
        await locate(client, slugs, found, listed=org_repos)
        for _ in range(workers):
            ready.put_nowait(None)

    async def worker() -> None:
        while (item := await ready.get()) is not None:
            u, address = item
            results[u] = await read(units[u][0], address)

    await gather_all([feed(), *(worker() for _ in range(workers))])
    return results


def _not_found(spec: RepoSpec, exc: ApiError) -> Problem:
    what = f"repository {spec.slug}" if spec.slug else f"no repository has the id {spec.repo_id}"
    found = "was not found" if spec.slug else "(or the token cannot see it)"
    request = f"{exc.method} {exc.path} -> HTTP 404, request_id {exc.request_id or 'none'}"
    return Problem(
        file=spec.location.file,
        line=spec.location.line,
        col=spec.location.col,
        key_path="repos",
        message=f"{what} {found} ({request})",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Read:
    """One (repository, group) as read: where it is, its listing, maybe its plan."""

    spec: RepoSpec
    repo_index: int  # in Manifest.repos
    group_index: int  # in RepoSpec.groups
    info: RepoInfo
    target: Target
    listing: Listing | None  # None: not selected, not listed
    planned: GroupPlan | None  # None: not listed, or its values were not read yet


def refuse_repeats(reads: Sequence[Read]) -> None:
    """One manifest entry per repository: a slug and an id (or a selector) naming the same
    repository would make two plans fight over it."""
    claimed: dict[str, str] = {}  # repo_id -> the manifest entry that manages it
    problems: list[Problem] = []
    for read in reads:
        spec, repo_id = read.spec, read.info.repo_id
        if repo_id in claimed:
            problems.append(
                Problem(
                    file=spec.location.file,
                    line=spec.location.line,
                    col=spec.location.col,
                    key_path="repos",
                    message=f"repository {read.target.repo} (id {repo_id}) is already managed "
                    f"by the entry {claimed[repo_id]}; manage each repository once",
                )
            )
            continue
        claimed[repo_id] = f"{spec.label} at line {spec.location.line}"
    if problems:
        raise ManifestError(problems)


def select_repos(
    repos: Sequence[RepoInfo], match: Sequence[str], exclude: Sequence[str]
) -> list[RepoInfo]:
    def name(info: RepoInfo) -> str:
        return (info.slug or "").rpartition("/")[2]

    chosen = [
        r
        for r in repos
        if (not match or any(fnmatch.fnmatchcase(name(r), g) for g in match))
        and not any(fnmatch.fnmatchcase(name(r), g) for g in exclude)
    ]
    return sorted(chosen, key=lambda r: r.slug or r.repo_id)

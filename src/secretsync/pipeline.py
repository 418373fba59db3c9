"""Glue: load -> resolve -> read remote -> plan -> [apply]. No printing, no exit codes."""

from __future__ import annotations

import asyncio
import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from secretsync.endpoint import choose_api_url
from secretsync.errors import ConfigError, DeletionLimitError, ManifestError, Problem
from secretsync.manifest import load_manifest
from secretsync.models import (
    Action,
    ApplyResult,
    DesiredGroup,
    DesiredRepo,
    Manifest,
    Outcome,
    Plan,
    RepoInfo,
    RepoSpec,
    Secret,
    Target,
)
from secretsync.planner import GroupPlan, Selection, join_plan, plan_group
from secretsync.remote import SourceCraftClient, build_http_client
from secretsync.sources import iter_sources
from secretsync.tasks import gather_all, map_bounded, overlap

HttpFactory = Callable[[int], httpx.AsyncClient]
Listing = dict[str, Secret | None]  # a group's stored keys: value, or None when unreadable
Early = GroupPlan | None  # None: the group's values were not read yet
PlanEarly = Callable[[int, int, Target, Listing], Early]


@dataclass(frozen=True, slots=True, kw_only=True)
class JobSettings:
    """What the command line asks for: manifest, API, parallelism, selection, limits."""

    manifest_path: Path
    pipeline_api_url: str | None = None  # --api-url / SOURCECRAFT_API_URL
    parallelism: int = 16
    selection: Selection = field(default_factory=Selection)
    overwrite_unknown: bool = False
    operation_timeout_s: float = 300.0
    max_deletes: int | None = 10  # None: no limit


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Job:
    """Everything the first request needs. The values themselves (env variables, files, .env
    files) are read while the first requests are in flight: see compute_plan."""

    manifest: Manifest
    api_url: str
    token: Secret
    environ: Mapping[str, str]

    def __repr__(self) -> str:
        return f"Job({self.manifest.path}, {len(self.manifest.repos)} repository entries)"


def values_of(desired: Sequence[DesiredRepo]) -> list[Secret]:
    """Every value a job will send (for output redaction)."""
    return [s.value for repo in desired for group in repo.groups for s in group.secrets]


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class PlannedJob:
    """A plan and the values it was made from (for a saved plan's check)."""

    job: Job
    plan: Plan
    desired: tuple[tuple[Target, DesiredGroup], ...]

    def __repr__(self) -> str:
        return f"PlannedJob({self.plan!r})"


def prepare_job(settings: JobSettings, environ: Mapping[str, str]) -> Job:
    manifest = load_manifest(settings.manifest_path)
    api_url = choose_api_url(manifest_url=manifest.api_url, pipeline_url=settings.pipeline_api_url)
    token = read_token(manifest.token_env, environ)
    return Job(manifest=manifest, api_url=api_url, token=token, environ=environ)


def read_token(token_env: str, environ: Mapping[str, str]) -> Secret:
    raw = environ.get(token_env, "").strip()
    if not raw:
        raise ConfigError(
            f"environment variable {token_env} is not set",
            hint=f"export {token_env} with a SourceCraft personal access token "
            "(SourceCraft CI predefines SOURCECRAFT_TOKEN)",
        )
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in raw):
        raise ConfigError(
            f"environment variable {token_env} holds whitespace or control characters"
        )
    return Secret(raw.encode())


def make_client(job: Job, settings: JobSettings, http: httpx.AsyncClient) -> SourceCraftClient:
    return SourceCraftClient(
        http,
        base_url=job.api_url,
        token=job.token,
        token_env=job.manifest.token_env,
        parallelism=settings.parallelism,
    )


async def compute_plan(
    job: Job,
    client: SourceCraftClient,
    settings: JobSettings,
    *,
    on_values: Callable[[list[Secret]], object] | None = None,
) -> PlannedJob:
    """Read the local values and the remote state at once, planning each group as its
    listing arrives.

    Reading 1,000 .env files and comparing 10,000 keys are tens of milliseconds of CPU each;
    done before the first request or after the last answer, they add to the wall time. Done
    between requests, they cost next to nothing. The outcome is the same: a source problem
    still wins over any remote error, and `on_values` (output redaction) sees every value
    before a remote error can surface.
    """
    resolved: list[DesiredRepo] = []  # grows in manifest order while the reads are in flight

    def plan(group: DesiredGroup, target: Target, listing: Listing) -> GroupPlan:
        return plan_group(
            target,
            group,
            listing,
            selection=settings.selection,
            overwrite_unknown=settings.overwrite_unknown,
        )

    def plan_early(repo_index: int, group_index: int, target: Target, listing: Listing) -> Early:
        if repo_index >= len(resolved):
            return None
        return plan(resolved[repo_index].groups[group_index], target, listing)

    _, reads = await overlap(
        _resolve_between_requests(job.manifest, job.environ, into=resolved),
        _read_remote(job.manifest, client, settings, plan_early),
        then=None if on_values is None else lambda _: on_values(values_of(resolved)),
    )
    _refuse_repeats([found[0] for found in reads if found])
    parts: list[GroupPlan] = []
    wanted: list[tuple[Target, DesiredGroup]] = []
    for found in reads:
        for read in found:
            if read.listing is None:
                continue
            group = resolved[read.repo_index].groups[read.group_index]
            parts.append(read.planned or plan(group, read.target, read.listing))
            wanted.append((read.target, group))
    return PlannedJob(job=job, plan=join_plan(parts, settings.selection), desired=tuple(wanted))


async def _resolve_between_requests(
    manifest: Manifest, environ: Mapping[str, str], *, into: list[DesiredRepo]
) -> None:
    # One repository at a time, handing the event loop back in between: answers that arrive
    # meanwhile are taken at once, and the next requests leave without waiting for the rest.
    for repo in iter_sources(manifest, environ):
        into.append(repo)
        await asyncio.sleep(0)


async def _read_remote(
    manifest: Manifest, client: SourceCraftClient, settings: JobSettings, plan_early: PlanEarly
) -> list[list[_Read]]:
    """Resolve every repository and list every wanted (repo, group).

    Each repository is resolved and then its groups are listed together by the same worker,
    so listings start as soon as the first id is known instead of after the last one (no
    phase barrier), and the run's last moments are one request deep, not one per group.
    `plan_early` plans a group as soon as its listing is in (None: its values are not yet).
    """
    selection = settings.selection
    orgs = sorted({r.org for r in manifest.repos if r.org})
    org_repos = dict(
        zip(orgs, await map_bounded(client.list_org_repos, orgs, settings.parallelism), strict=True)
    )
    units: list[tuple[int, RepoInfo | str]] = []
    for index, spec in enumerate(manifest.repos):
        if spec.slug:
            units.append((index, spec.slug))
        elif spec.repo_id:
            units.append((index, RepoInfo(repo_id=spec.repo_id, slug=None)))
        else:
            selected = _select(org_repos[spec.org or ""], spec.match, spec.exclude)
            units += [(index, info) for info in selected]

    async def read(unit: tuple[int, RepoInfo | str]) -> list[_Read]:
        index, address = unit
        spec = manifest.repos[index]
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
            _Read(
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

    return await map_bounded(read, units, settings.parallelism)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Read:
    """One (repository, group) as read: where it is, its listing, maybe its plan."""

    spec: RepoSpec
    repo_index: int  # in Manifest.repos
    group_index: int  # in RepoSpec.groups
    info: RepoInfo
    target: Target
    listing: Listing | None  # None: not selected, not listed
    planned: GroupPlan | None  # None: not listed, or its values were not read yet


def _refuse_repeats(reads: Sequence[_Read]) -> None:
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


def _select(
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


def check_deletion_limit(plan: Plan, max_deletes: int | None) -> None:
    deletes = plan.count(Action.DELETE)
    if max_deletes is not None and deletes > max_deletes:
        raise DeletionLimitError(
            f"the plan deletes {deletes} secrets, more than --max-deletes {max_deletes} allows; "
            "nothing was changed",
            hint=f"review the deletions with `secretsync plan`, then run apply with "
            f"--max-deletes {deletes} to allow them",
        )


def run_plan(
    settings: JobSettings,
    job: Job,
    *,
    on_values: Callable[[list[Secret]], object] | None = None,
    http_factory: HttpFactory = lambda n: build_http_client(parallelism=n),
) -> PlannedJob:
    async def go() -> PlannedJob:
        async with http_factory(settings.parallelism) as http:
            client = make_client(job, settings, http)
            return await compute_plan(job, client, settings, on_values=on_values)

    return asyncio.run(go())


def run_apply(
    settings: JobSettings,
    job: Job,
    *,
    approve: Callable[[PlannedJob], None],
    on_outcome: Callable[[Outcome], None] | None = None,
    on_values: Callable[[list[Secret]], object] | None = None,
    http_factory: HttpFactory = lambda n: build_http_client(parallelism=n),
) -> tuple[PlannedJob, ApplyResult]:
    """Plan, let `approve` veto (saved-plan check, deletion limit, prompt), then apply."""
    from secretsync.applier import PollPolicy, apply_plan  # not needed by a plan

    async def go() -> tuple[PlannedJob, ApplyResult]:
        async with http_factory(settings.parallelism) as http:
            client = make_client(job, settings, http)
            planned = await compute_plan(job, client, settings, on_values=on_values)
            check_deletion_limit(planned.plan, settings.max_deletes)
            approve(planned)
            result = await apply_plan(
                planned.plan,
                client,
                parallelism=settings.parallelism,
                poll=PollPolicy(operation_timeout_s=settings.operation_timeout_s),
                on_outcome=on_outcome,
            )
            return planned, result

    return asyncio.run(go())

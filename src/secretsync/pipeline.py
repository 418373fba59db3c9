"""Glue: load -> resolve -> read remote -> plan -> [apply]. No printing, no exit codes."""

from __future__ import annotations

import asyncio
import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from secretsync.applier import PollPolicy, apply_plan
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
    RemoteGroup,
    RepoInfo,
    Secret,
    Target,
)
from secretsync.planner import Selection, build_plan
from secretsync.remote import SourceCraftClient, build_http_client
from secretsync.sources import resolve_sources
from secretsync.tasks import gather_all, map_bounded

HttpFactory = Callable[[int], httpx.AsyncClient]


@dataclass(frozen=True, slots=True, kw_only=True)
class JobSettings:
    manifest_path: Path
    pipeline_api_url: str | None = None  # --api-url / SOURCECRAFT_API_URL
    parallelism: int = 16
    selection: Selection = field(default_factory=Selection)
    overwrite_unknown: bool = False
    operation_timeout_s: float = 300.0
    max_deletes: int | None = 10  # None: no limit


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Job:
    """Everything known before the first request: nothing is sent unless all of it resolved."""

    manifest: Manifest
    desired: tuple[DesiredRepo, ...]
    api_url: str
    token: Secret

    def __repr__(self) -> str:
        return f"Job({self.manifest.path}, {len(self.desired)} repository entries)"

    def secrets(self) -> list[Secret]:
        """Every sensitive value of this job (for output redaction)."""
        values = [self.token]
        for repo in self.desired:
            for group in repo.groups:
                values.extend(s.value for s in group.secrets)
        return values


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class PlannedJob:
    job: Job
    plan: Plan
    desired: tuple[tuple[Target, DesiredGroup], ...]

    def __repr__(self) -> str:
        return f"PlannedJob({self.plan!r})"


def prepare_job(settings: JobSettings, environ: Mapping[str, str]) -> Job:
    manifest = load_manifest(settings.manifest_path)
    api_url = choose_api_url(manifest_url=manifest.api_url, pipeline_url=settings.pipeline_api_url)
    token = read_token(manifest.token_env, environ)
    desired = resolve_sources(manifest, environ)
    return Job(manifest=manifest, desired=desired, api_url=api_url, token=token)


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


async def compute_plan(job: Job, client: SourceCraftClient, settings: JobSettings) -> PlannedJob:
    """Resolve every repository and list every wanted (repo, group), then plan.

    Each repository is resolved and then its groups are listed together by the same worker,
    so listings start as soon as the first id is known instead of after the last one (no
    phase barrier), and the run's last moments are one request deep, not one per group.
    """
    selection = settings.selection
    orgs = sorted({r.spec.org for r in job.desired if r.spec.org})
    org_repos = dict(
        zip(orgs, await map_bounded(client.list_org_repos, orgs, settings.parallelism), strict=True)
    )
    units: list[tuple[DesiredRepo, RepoInfo | str]] = []
    for repo in job.desired:
        spec = repo.spec
        if spec.slug:
            units.append((repo, spec.slug))
        elif spec.repo_id:
            units.append((repo, RepoInfo(repo_id=spec.repo_id, slug=None)))
        else:
            selected = _select(org_repos[spec.org or ""], spec.match, spec.exclude)
            units += [(repo, info) for info in selected]

    async def read(unit: tuple[DesiredRepo, RepoInfo | str]) -> list[_Read]:
        repo, address = unit
        info = await client.get_repo(address) if isinstance(address, str) else address
        name = info.slug or f"id:{info.repo_id}"
        targets = [
            Target(repo=name, repo_id=info.repo_id, group=group.name, prune=group.prune)
            for group in repo.groups
        ]
        wanted = [i for i, target in enumerate(targets) if selection.wants_target(target)]
        listed = await gather_all(
            [client.list_secrets(info.repo_id, targets[i].group) for i in wanted]
        )
        listings: list[dict[str, Secret | None] | None] = [None] * len(targets)  # None: not listed
        for i, listing in zip(wanted, listed, strict=True):
            listings[i] = listing
        return [
            _Read(repo=repo, info=info, target=target, group=group, listing=listing)
            for target, group, listing in zip(targets, repo.groups, listings, strict=True)
        ]

    reads = await map_bounded(read, units, settings.parallelism)
    _refuse_repeats([found[0] for found in reads if found])
    wanted = [(r.target, r.group) for found in reads for r in found if r.listing is not None]
    remote = {
        (r.target.repo_id, r.target.group): RemoteGroup(target=r.target, secrets=r.listing)
        for found in reads
        for r in found
        if r.listing is not None
    }
    plan = build_plan(
        wanted, remote, selection=selection, overwrite_unknown=settings.overwrite_unknown
    )
    return PlannedJob(job=job, plan=plan, desired=tuple(wanted))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Read:
    repo: DesiredRepo
    info: RepoInfo
    target: Target
    group: DesiredGroup
    listing: dict[str, Secret | None] | None  # None: not selected, not listed


def _refuse_repeats(reads: Sequence[_Read]) -> None:
    """One manifest entry per repository: a slug and an id (or a selector) naming the same
    repository would make two plans fight over it."""
    claimed: dict[str, str] = {}  # repo_id -> the manifest entry that manages it
    problems: list[Problem] = []
    for read in reads:
        spec, repo_id = read.repo.spec, read.info.repo_id
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
    http_factory: HttpFactory = lambda n: build_http_client(parallelism=n),
) -> PlannedJob:
    async def go() -> PlannedJob:
        async with http_factory(settings.parallelism) as http:
            return await compute_plan(job, make_client(job, settings, http), settings)

    return asyncio.run(go())


def run_apply(
    settings: JobSettings,
    job: Job,
    *,
    approve: Callable[[PlannedJob], None],
    on_outcome: Callable[[Outcome], None] | None = None,
    http_factory: HttpFactory = lambda n: build_http_client(parallelism=n),
) -> tuple[PlannedJob, ApplyResult]:
    """Plan, let `approve` veto (saved-plan check, deletion limit, prompt), then apply."""

    async def go() -> tuple[PlannedJob, ApplyResult]:
        async with http_factory(settings.parallelism) as http:
            client = make_client(job, settings, http)
            planned = await compute_plan(job, client, settings)
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

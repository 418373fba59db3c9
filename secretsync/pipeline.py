"""Glue: load -> resolve -> read remote -> plan -> [apply]. No printing, no exit codes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import httpx

from secretsync.errors import DeletionLimitError, TransportError
from secretsync.manifest.loader import load_manifest
from secretsync.models import (
    Action,
    ApplyResult,
    DesiredGroup,
    DesiredRepo,
    Manifest,
    Outcome,
    Plan,
    Secret,
    Target,
)
from secretsync.plan.planner import GroupPlan, join_plan, plan_group, unmatched_filters
from secretsync.plan.reading import Early, Listing, Read, read_remote, refuse_repeats
from secretsync.settings import JobSettings
from secretsync.sourcecraft.client import (
    DEFAULT_RETRY,
    RetryPolicy,
    SourceCraftClient,
    build_http_client,
)
from secretsync.sourcecraft.endpoint import (
    DEFAULT_TOKEN_ENV,
    choose_api_url,
    choose_token_env,
    read_token,
)
from secretsync.sources.allow import EnvAllowlist
from secretsync.sources.resolve import iter_sources
from secretsync.tasks import overlap

HttpFactory = Callable[[int], httpx.AsyncClient]


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Job:
    """Everything the first request needs. The values themselves (env variables, files, .env
    files) are read while the first requests are in flight: see compute_plan."""

    manifest: Manifest
    api_url: str
    token: Secret
    environ: Mapping[str, str]
    api_url_from: str = "the default"  # for messages: the flag, the variable, the manifest
    token_env: str = DEFAULT_TOKEN_ENV  # the variable `token` was read from

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
    manifest = load_manifest(settings.manifest_path, extra_roots=settings.file_roots)
    api_url = choose_api_url(manifest_url=manifest.api_url, pipeline_url=settings.pipeline_api_url)
    token_env = choose_token_env(
        manifest_env=manifest.token_env,
        written_at=manifest.token_env_at,
        pipeline_env=settings.pipeline_token_env,
    )
    token = read_token(token_env, environ)
    if settings.pipeline_api_url:
        origin = settings.pipeline_api_url_from
    else:
        origin = "api.url in the manifest" if manifest.api_url else "the default"
    return Job(
        manifest=manifest,
        api_url=api_url,
        token=token,
        environ=environ,
        api_url_from=origin,
        token_env=token_env,
    )


def _where(job: Job, exc: TransportError) -> TransportError:
    """A request that never got an answer: say where it tried, and who chose that URL."""
    return TransportError(
        exc.message,
        hint=f"nothing answered at {job.api_url} (from {job.api_url_from}); "
        "check the URL, the network and any proxy settings",
    )


def make_client(job: Job, settings: JobSettings, http: httpx.AsyncClient) -> SourceCraftClient:
    return SourceCraftClient(
        http,
        base_url=job.api_url,
        token=job.token,
        token_env=job.token_env,
        parallelism=settings.parallelism,
        retry=RetryPolicy(
            request_timeout_s=settings.request_timeout_s,
            # the request's overall deadline leaves room for at least one whole attempt
            deadline_s=max(DEFAULT_RETRY.deadline_s, settings.request_timeout_s),
        ),
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
        _resolve_between_requests(job.manifest, job.environ, settings.allow_env, into=resolved),
        read_remote(
            job.manifest,
            client,
            selection=settings.selection,
            parallelism=settings.parallelism,
            plan_early=plan_early,
        ),
        then=None if on_values is None else lambda _: on_values(values_of(resolved)),
    )
    refuse_repeats([found[0] for found in reads if found])
    parts: list[GroupPlan] = []
    wanted: list[tuple[Target, DesiredGroup]] = []
    for found in reads:
        for read in found:
            if read.listing is None:
                continue
            group = resolved[read.repo_index].groups[read.group_index]
            parts.append(read.planned or plan(group, read.target, read.listing))
            wanted.append((read.target, group))
    planned = join_plan(parts, settings.selection)
    warnings = _empty_selectors(job.manifest, reads) + unmatched_filters(
        settings.selection, [read.target for found in reads for read in found], planned
    )
    if warnings:
        planned = replace(planned, warnings=(*planned.warnings, *warnings))
    return PlannedJob(job=job, plan=planned, desired=tuple(wanted))


def _empty_selectors(manifest: Manifest, reads: Sequence[Sequence[Read]]) -> list[str]:
    """An `org:` entry whose match/exclude leaves no repository is most likely a typo."""
    found = {read.repo_index for group_reads in reads for read in group_reads}
    return [
        f"{spec.label} (line {spec.location.line}) selected no repository of org {spec.org}"
        for index, spec in enumerate(manifest.repos)
        if spec.org and index not in found
    ]


async def _resolve_between_requests(
    manifest: Manifest,
    environ: Mapping[str, str],
    allow_env: EnvAllowlist | None,
    *,
    into: list[DesiredRepo],
) -> None:
    # One repository at a time, handing the event loop back in between: answers that arrive
    # meanwhile are taken at once, and the next requests leave without waiting for the rest.
    for repo in iter_sources(manifest, environ, allow_env=allow_env):
        into.append(repo)
        await asyncio.sleep(0)


def check_deletion_limit(plan: Plan, max_deletes: int | None) -> None:
    deletes = plan.count(Action.DELETE)
    if max_deletes is not None and deletes > max_deletes:
        raise DeletionLimitError(
            f"the plan deletes {deletes} secret{'' if deletes == 1 else 's'}, more than "
            f"--max-deletes {max_deletes} allows; "
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

    try:
        return asyncio.run(go())
    except TransportError as exc:
        if exc.reached:  # the server answered: where the URL points is not the question
            raise
        raise _where(job, exc) from exc


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
    from secretsync.apply.applier import PollPolicy, apply_plan  # not needed by a plan

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

    try:
        return asyncio.run(go())
    except TransportError as exc:
        if exc.reached:  # the server answered: where the URL points is not the question
            raise
        raise _where(job, exc) from exc

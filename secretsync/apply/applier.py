"""Run a Plan: PUT/DELETE every pending change, poll the operations, collect the outcomes.

`parallelism` workers share one scheduler: a queue of writes ready to send and a heap of
operations waiting for their next poll. A worker takes a due poll first (a finished operation
frees its memory), else the next write, else waits for the earliest poll or new work; nobody
holds a slot while waiting.

Deletes run last: only after every create and update of the run has reached a final state, and
only if all of them succeeded. A key moved from one group or repository to another is a write
in one place and a delete in another; if the write failed and the delete went ahead, the
secret would exist nowhere. So when any write of the run fails, every delete of the run is
held back (status `skipped`, error `HeldBack`, saying why) and the run exits 1; the next apply
deletes them once the writes land.

A failed change is an Outcome, not an exception. Cancelling the task (Ctrl-C under
asyncio.run) stops new writes and returns the outcomes known so far with interrupted=True.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from secretsync.defaults import DEFAULT_OPERATION_TIMEOUT_S, DEFAULT_PARALLELISM
from secretsync.errors import ApiError, ConfigError, SecretsyncError
from secretsync.models import (
    Action,
    ApplyResult,
    Change,
    ErrorInfo,
    OperationInfo,
    Outcome,
    Plan,
)
from secretsync.sourcecraft.client import SourceCraftClient
from secretsync.sourcecraft.throttle import PollEstimate

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class PollPolicy:
    """How operations are polled: first delay, backoff, ceiling and timeout."""

    first_poll_s: float = 0.1  # adapted during the run: see throttle.PollEstimate
    max_interval_s: float = 5.0
    backoff: float = 2.0
    operation_timeout_s: float = DEFAULT_OPERATION_TIMEOUT_S


DEFAULT_POLL = PollPolicy()


_NEW, _SENT, _POLLING, _DONE = range(4)
# A poll due this close counts as due now: sleeping a float rounding error does not move the
# clock past the due time, and a worker would wake, find nothing due and sleep again forever.
_DUE_SLACK_S = 1e-3


@dataclass(slots=True, eq=False)
class _Job:
    """One pending change on its way through the scheduler (mutable, never leaves here)."""

    index: int  # into plan.changes
    change: Change
    state: int = _NEW
    op: OperationInfo | None = None  # the latest answer; dropped when the job is done
    answered_at: float = 0.0  # when the write was answered
    deadline: float = 0.0
    first_delay: float = 0.0
    interval: float = 0.0
    polls: int = 0
    version: int = 0  # PollEstimate.version the first delay came from


class _Scheduler:
    def __init__(
        self,
        jobs: list[_Job],
        client: SourceCraftClient,
        poll: PollPolicy,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        on_outcome: Callable[[Outcome], None] | None,
    ) -> None:
        self.client = client
        self.poll = poll
        self.clock = clock
        self.sleep = sleep
        self.on_outcome = on_outcome
        self.outcomes: dict[int, Outcome] = {}
        self.jobs = jobs
        self.remaining = len(jobs)
        self.ready: deque[_Job] = deque()
        self.polls: list[tuple[float, int, _Job]] = []  # (due, index, job): index breaks ties
        self.estimate = PollEstimate(
            initial_s=poll.first_poll_s,
            floor_s=poll.first_poll_s / 2,
            ceiling_s=poll.max_interval_s,
        )
        self.open_writes = sum(1 for job in jobs if job.change.action is not Action.DELETE)
        self.failed_writes = 0
        self.held: list[_Job] = []  # every delete, until every write has ended
        self._wakeup = asyncio.Event()
        for job in jobs:
            if job.change.action is Action.DELETE and self.open_writes:
                self.held.append(job)
            else:
                self.ready.append(job)

    # ------------------------------------------------------------------------ scheduling

    def notify(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    async def worker(self) -> None:
        while self.remaining:
            if self.polls and self.polls[0][0] <= self.clock() + _DUE_SLACK_S:
                await self.run_poll(heapq.heappop(self.polls)[2])
            elif self.ready:
                await self.run_write(self.ready.popleft())
            else:
                await self.idle()

    async def idle(self) -> None:
        """Wait for the earliest poll to fall due, or for a notify (new work, or all done)."""
        wakeup = self._wakeup.wait()
        if not self.polls:
            await wakeup
            return
        timer = asyncio.ensure_future(self.sleep(self.polls[0][0] - self.clock()))
        woken = asyncio.ensure_future(wakeup)
        try:
            await asyncio.wait((timer, woken), return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            woken.cancel()

    def schedule_poll(self, job: _Job, due: float) -> None:
        job.state = _POLLING
        earliest = self.polls[0][0] if self.polls else None
        heapq.heappush(self.polls, (due, job.index, job))
        if earliest is None or due < earliest:
            self.notify()  # idle workers wait for a later poll, or for nothing

    def finish(self, job: _Job, outcome: Outcome) -> None:
        job.state = _DONE
        job.op = None
        self.outcomes[job.index] = outcome
        self.remaining -= 1
        self._report(outcome)
        if job.change.action is not Action.DELETE:
            self.open_writes -= 1
            if outcome.status != "success":
                self.failed_writes += 1
            if not self.open_writes and self.held:
                self.release_deletes()
        if not self.remaining:
            self.notify()

    def release_deletes(self) -> None:
        held, self.held = self.held, []
        if not self.failed_writes:
            self.ready.extend(held)
            self.notify()
            return
        # A failed write next to a delete is often a move gone wrong: deleting the old copy
        # now could leave CI with neither. Keep it; the next apply deletes it once writes land.
        n = self.failed_writes
        reason = ErrorInfo(
            error_code="HeldBack",
            message=f"not deleted because {n} create/update{'' if n == 1 else 's'} of this "
            "run failed (deletes run only when every write succeeded); fix that and run "
            "apply again",
        )
        for job in held:
            self.finish(job, Outcome(change=job.change, status="skipped", error=reason))

    def _report(self, outcome: Outcome) -> None:
        if self.on_outcome is not None:
            try:
                self.on_outcome(outcome)
            except Exception:  # a progress bar must not break the apply
                logger.debug("on_outcome callback failed", exc_info=True)

    # ------------------------------------------------------------------------ requests

    async def run_write(self, job: _Job) -> None:
        change = job.change
        job.state = _SENT
        try:
            if change.action is Action.DELETE:
                op = await self.client.delete_secret(change.repo_id, change.group, change.key)
            elif change.value is None:
                raise ConfigError(f"the plan has no value for {change.key} ({change.action.value})")
            else:
                op = await self.client.put_secret(
                    change.repo_id, change.group, change.key, change.value
                )
        except Exception as exc:
            self.finish(job, _failed(job, exc))
            return
        if op is None:  # DELETE answered 404: already absent
            self.finish(job, Outcome(change=change, status="success"))
            return
        job.op = op
        if op.finished:
            self.finish(job, await self.final(job, op))
            return
        now = self.clock()
        job.answered_at = now
        job.deadline = now + self.poll.operation_timeout_s
        job.first_delay, job.version = self.estimate.first_delay()
        job.interval = job.first_delay
        self.schedule_poll(job, min(now + job.interval, job.deadline))

    async def run_poll(self, job: _Job) -> None:
        assert job.op is not None
        asked_at = self.clock()
        try:
            op = await self.client.get_operation(job.op)
        except Exception as exc:
            self.finish(job, _failed(job, exc))
            return
        job.op = op
        job.polls += 1
        if op.finished:
            if job.polls == 1:
                self.estimate.hit(version=job.version)
            self.finish(job, await self.final(job, op))
            return
        self.estimate.pending(first_delay=job.first_delay, pending_for=asked_at - job.answered_at)
        now = self.clock()
        if now + _DUE_SLACK_S >= job.deadline:
            limit = f"{self.poll.operation_timeout_s:g}"
            message = f"operation did not finish within {limit} s; last status {op.status}"
            self.finish(job, _failure(job, "OperationTimeout", message))
            return
        job.interval = min(job.interval * self.poll.backoff, self.poll.max_interval_s)
        self.schedule_poll(job, min(now + job.interval, job.deadline))

    async def final(self, job: _Job, op: OperationInfo) -> Outcome:
        """The outcome of an ended operation. A DELETE that failed may have failed because
        the key was already gone, but no `error_code` says so in the reference: only a fresh
        listing of the group, without the key, makes it a success."""
        outcome = _final(job, op)
        change = job.change
        if change.action is not Action.DELETE or op.status != "failed":
            return outcome
        try:
            listing = await self.client.list_secrets(change.repo_id, change.group)
        except Exception:
            logger.debug("listing after a failed delete of %s failed", change.key, exc_info=True)
            return outcome
        if change.key in listing:
            return outcome
        return Outcome(change=change, status="success", operation_id=op.operation_id or None)

    def interrupted_outcome(self, job: _Job) -> Outcome:
        if job.state == _NEW:
            return Outcome(change=job.change, status="not_started")
        if job.state == _SENT:
            message = "interrupted while the request was in flight; it may or may not have applied"
        else:
            message = "interrupted before the operation finished; it may still complete"
        return _failure(job, "Interrupted", message)


# ---------------------------------------------------------------------------- outcomes


def _failure(job: _Job, code: str, message: str) -> Outcome:
    op_id = job.op.operation_id if job.op is not None else None
    return Outcome(
        change=job.change,
        status="failed",
        operation_id=op_id or None,
        error=ErrorInfo(error_code=code, message=message),
    )


def _failed(job: _Job, exc: Exception) -> Outcome:
    if isinstance(exc, SecretsyncError):
        message = f"{exc.message}; {exc.hint}" if exc.hint else exc.message
        code = exc.error_code or f"HTTP {exc.status}" if isinstance(exc, ApiError) else ""
        return _failure(job, code or type(exc).__name__, message)
    # A bug must not strand the other operations: report it as this change's failure.
    logger.debug("unexpected error applying %s", job.change.key, exc_info=True)
    return _failure(job, "InternalError", f"unexpected {type(exc).__name__}")


def _final(job: _Job, op: OperationInfo) -> Outcome:
    change = job.change
    op_id = op.operation_id or None
    if op.status == "success":
        return Outcome(change=change, status="success", operation_id=op_id)
    if op.status == "cancel":
        code, message = op.error_code or "Cancelled", op.error_message or "operation was cancelled"
    else:
        code, message = op.error_code or "OperationFailed", op.error_message or "operation failed"
    return Outcome(
        change=change,
        status="failed",
        operation_id=op_id,
        error=ErrorInfo(error_code=code, message=message),
    )


async def apply_plan(
    plan: Plan,
    client: SourceCraftClient,
    *,
    parallelism: int = DEFAULT_PARALLELISM,
    poll: PollPolicy = DEFAULT_POLL,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> ApplyResult:
    if parallelism < 1:
        raise ConfigError(f"parallelism must be at least 1, not {parallelism}")
    outcomes: dict[int, Outcome] = {}
    jobs: list[_Job] = []
    for index, change in enumerate(plan.changes):
        if change.action.writes:
            jobs.append(_Job(index, change))
        else:
            outcomes[index] = Outcome(change=change, status="success")
    scheduler = _Scheduler(jobs, client, poll, clock, sleep, on_outcome)
    workers = [
        asyncio.ensure_future(scheduler.worker()) for _ in range(min(parallelism, len(jobs)))
    ]
    interrupted = False
    try:
        await asyncio.gather(*workers)
    except asyncio.CancelledError:
        interrupted = True
        task = asyncio.current_task()
        if task is not None and hasattr(task, "uncancel"):
            task.uncancel()  # we handled it: the caller carries on to write the report
    finally:
        for worker in workers:
            worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*workers, return_exceptions=True)
    outcomes.update(scheduler.outcomes)
    for job in jobs:
        if job.index not in outcomes:
            outcomes[job.index] = scheduler.interrupted_outcome(job)
    return ApplyResult(
        plan=plan,
        outcomes=tuple(outcomes[i] for i in range(len(plan.changes))),
        interrupted=interrupted,
    )

"""The job runner: claims due jobs from a store, runs their handlers, retries with backoff.

Guarantees (each tested in tests/adapters/jobs):
- at-least-once: a job is marked done only after its handler returned; a crash mid-job leaves the
  lease to expire and the job runs again, so handlers are written to be idempotent;
- retries with exponential backoff and jitter, up to the job's max attempts, then FAILED with the
  last error kept for the operator;
- graceful stop: no new claims, in-flight jobs finish (up to a deadline), their leases released
  otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from application.ports.clock import Clock

log = logging.getLogger("canon.jobs")

Handler = Callable[[Mapping[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: str
    name: str
    args: Mapping[str, Any]
    attempt: int  # 1 for the first run
    max_attempts: int


class JobStore(Protocol):
    async def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[ClaimedJob]: ...

    async def complete(self, job_id: str, now: datetime) -> None: ...

    async def retry(self, job_id: str, error: str, available_at: datetime) -> None: ...

    async def fail(self, job_id: str, error: str, now: datetime) -> None: ...


class UnknownJob(Exception):
    pass


def backoff(
    attempt: int, *, base: float = 1.0, cap: float = 300.0, rng: random.Random | None = None
) -> float:
    """Seconds before retry number `attempt` (1-based): exponential, capped, with full jitter on
    the upper half so a burst of failures does not retry in lockstep."""
    ceiling = min(cap, base * (2 ** (attempt - 1)))
    r = (rng or random).random()
    return ceiling / 2 + r * ceiling / 2


class JobRunner:
    def __init__(
        self,
        store: JobStore,
        handlers: Mapping[str, Handler],
        clock: Clock,
        *,
        concurrency: int = 2,
        poll_interval: float = 0.25,
        lease: timedelta = timedelta(minutes=5),
        backoff_base: float = 1.0,
        relay: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        """``relay`` (optional) moves committed outbox rows into the store before each claim."""
        self._store = store
        self._handlers = dict(handlers)
        self._clock = clock
        self._concurrency = concurrency
        self._poll = poll_interval
        self._lease = lease
        self._backoff_base = backoff_base
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._relay = relay

    def nudge(self) -> None:
        """Wakes the runner now (called after a commit that enqueued work)."""
        self._wake.set()

    def start(self) -> None:
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._loop(), name="canon-job-runner")

    async def stop(self, deadline_seconds: float = 20.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._loop_task is not None:
            await self._loop_task
        if self._inflight:
            _done, pending = await asyncio.wait(self._inflight, timeout=deadline_seconds)
            for task in pending:
                task.cancel()

    async def run_until_idle(self, *, max_rounds: int = 1000) -> int:
        """Runs due jobs until none is due (tests, CLI and benchmarks). Returns how many ran."""
        ran = 0
        for _ in range(max_rounds):
            if self._relay is not None:
                await self._relay()
            claimed = await self._store.claim_due(
                self._clock.now(), limit=self._concurrency, lease=self._lease
            )
            if not claimed:
                return ran
            await asyncio.gather(*(self._run_one(job) for job in claimed))
            ran += len(claimed)
        return ran

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            free = self._concurrency - len(self._inflight)
            claimed: list[ClaimedJob] = []
            if free > 0:
                try:
                    if self._relay is not None:
                        await self._relay()
                    claimed = await self._store.claim_due(self._clock.now(), limit=free, lease=self._lease)
                except Exception:
                    log.exception("claiming jobs failed; retrying")
            for job in claimed:
                task = asyncio.create_task(self._run_one(job), name=f"job:{job.name}")
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
            if claimed and len(claimed) == free:
                continue  # there may be more due work right now
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)

    async def _run_one(self, job: ClaimedJob) -> None:
        await execute(job, self._handlers, self._store, self._clock, backoff_base=self._backoff_base)


async def execute(
    job: ClaimedJob,
    handlers: Mapping[str, Handler],
    store: JobStore,
    clock: Clock,
    *,
    backoff_base: float = 1.0,
) -> None:
    """Runs one claimed job and records the outcome: done, retry later, or failed for good.
    Shared by the in-process runner and the taskiq worker so both behave the same."""
    handler = handlers.get(job.name)
    try:
        if handler is None:
            raise UnknownJob(f"no handler registered for job {job.name!r}")
        await handler(job.args)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if job.attempt >= job.max_attempts or isinstance(exc, UnknownJob):
            log.error("job failed for good", extra={"job": job.name, "job_id": job.id, "error": error})
            await store.fail(job.id, error, clock.now())
            await _give_up(handler, job, error)
        else:
            delay = backoff(job.attempt, base=backoff_base)
            log.warning(
                "job failed; will retry",
                extra={
                    "job": job.name,
                    "job_id": job.id,
                    "attempt": job.attempt,
                    "retry_in_s": round(delay, 2),
                },
            )
            await store.retry(job.id, error, clock.now() + timedelta(seconds=delay))
        return
    await store.complete(job.id, clock.now())


@runtime_checkable
class GivesUp(Protocol):
    """A handler that wants to know when its job has failed for good (every attempt spent), so
    it can leave its subject in an honest state (e.g. a file FAILED rather than PROCESSING)."""

    async def __call__(self, args: Mapping[str, Any]) -> None: ...

    async def give_up(self, args: Mapping[str, Any], error: str) -> None: ...


async def _give_up(handler: Handler | None, job: ClaimedJob, error: str) -> None:
    if not isinstance(handler, GivesUp):
        return
    try:
        await handler.give_up(job.args, error)
    except Exception:  # the job is already recorded as failed; this is best effort, loudly
        log.exception("giving up on a failed job failed", extra={"job": job.name, "job_id": job.id})

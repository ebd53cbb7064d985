"""Distributed jobs for multi-machine deployments: taskiq over Redis behind the same queue.

The database stays the source of truth for every job (``job_run``): the dispatcher (in each API
process and each worker) relays committed outbox rows, claims due jobs with a lease and sends them
to the broker; any ``canon worker`` on any machine receives one and runs it with exactly the same
``execute`` as the in-process runner (same retries, same backoff, same failure record). If a
worker dies mid-job, the lease runs out and the job is dispatched again (at-least-once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from taskiq import AsyncBroker
from taskiq_redis import ListQueueBroker

from adapters.jobs.runner import ClaimedJob, Handler, JobStore, execute
from application.ports.clock import Clock

log = logging.getLogger("canon.jobs.taskiq")

TASK_NAME = "canon.run_job"


def make_broker(redis_url: str, *, queue_name: str = "canon:jobs") -> ListQueueBroker:
    return ListQueueBroker(url=redis_url, queue_name=queue_name)


def register_executor(
    broker: AsyncBroker, handlers: Mapping[str, Handler], store: JobStore, clock: Clock
) -> None:
    """Registers the one task every worker runs: execute the job described by the message."""

    async def run_job(job_id: str, name: str, args: dict[str, Any], attempt: int, max_attempts: int) -> None:
        await execute(ClaimedJob(job_id, name, args, attempt, max_attempts), handlers, store, clock)

    broker.register_task(run_job, task_name=TASK_NAME)


class TaskiqDispatcher:
    def __init__(
        self,
        broker: AsyncBroker,
        store: JobStore,
        clock: Clock,
        *,
        relay: Callable[[], Awaitable[int]] | None = None,
        lease: timedelta = timedelta(minutes=10),
        batch: int = 50,
        poll_interval: float = 0.25,
    ) -> None:
        self._broker = broker
        self._store = store
        self._clock = clock
        self._relay = relay
        self._lease = lease
        self._batch = batch
        self._poll = poll_interval

    async def dispatch_once(self) -> int:
        if self._relay is not None:
            await self._relay()
        claimed = await self._store.claim_due(self._clock.now(), limit=self._batch, lease=self._lease)
        task = self._broker.find_task(TASK_NAME)
        if task is None:
            raise RuntimeError("register_executor() must run before dispatching")
        for job in claimed:
            await task.kiq(
                job_id=job.id,
                name=job.name,
                args=dict(job.args),
                attempt=job.attempt,
                max_attempts=job.max_attempts,
            )
        return len(claimed)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                sent = await self.dispatch_once()
            except Exception:
                log.exception("dispatching jobs failed; retrying")
                sent = 0
            if sent == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self._poll)

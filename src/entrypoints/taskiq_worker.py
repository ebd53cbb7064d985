"""`canon worker` with CANON_JOBS_BACKEND=redis: receive jobs from Redis and dispatch due ones."""

from __future__ import annotations

import asyncio

from dishka import AsyncContainer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from taskiq.api import run_receiver_task

from adapters.jobs.outbox import OutboxRelay
from adapters.jobs.sql_store import SqlJobStore
from adapters.jobs.taskiq_dispatch import TaskiqDispatcher, make_broker, register_executor
from application.ports.clock import Clock
from entrypoints.jobs import handlers
from entrypoints.settings import Settings


async def run_taskiq_worker(container: AsyncContainer, settings: Settings, stop: asyncio.Event) -> None:
    factory = await container.get(async_sessionmaker[AsyncSession])
    clock = await container.get(Clock)
    store = SqlJobStore(factory)
    broker = make_broker(settings.redis_url)
    register_executor(broker, handlers(container), store, clock)
    await broker.startup()
    dispatcher = TaskiqDispatcher(broker, store, clock, relay=OutboxRelay(factory, clock).relay_once)
    receiver = asyncio.create_task(run_receiver_task(broker, max_async_tasks=settings.job_workers))
    try:
        await dispatcher.run(stop)
    finally:
        receiver.cancel()
        await asyncio.gather(receiver, return_exceptions=True)
        await broker.shutdown()

"""Distributed jobs: the dispatcher sends due jobs through Redis (taskiq) to a receiver that runs
them with the same execute() as the in-process runner. Needs the Redis server (never skipped)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from taskiq.api import run_receiver_task

from adapters.clock import FakeClock
from adapters.jobs.outbox import OutboxJobQueue, OutboxRelay
from adapters.jobs.sql_store import SqlJobStore
from adapters.jobs.taskiq_dispatch import TaskiqDispatcher, make_broker, register_executor
from adapters.persistence.models import JobRun
from application.ports.jobs import Job
from domain.ids import new_id

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.mark.redis
async def test_jobs_travel_through_redis_and_finish(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock()
    done: list[int] = []
    finished = asyncio.Event()

    async def work(args: Mapping[str, Any]) -> None:
        done.append(args["i"])
        if len(done) == 5:
            finished.set()

    async with session_factory() as s:
        q = OutboxJobQueue(s, clock)
        for i in range(5):
            await q.enqueue(Job(name="work", args={"i": i}))
        await s.commit()

    store = SqlJobStore(session_factory)
    broker = make_broker(REDIS_URL, queue_name=f"canon:test:{new_id()}")
    register_executor(broker, {"work": work}, store, clock)
    await broker.startup()
    receiver = asyncio.create_task(run_receiver_task(broker, max_async_tasks=4))
    try:
        dispatcher = TaskiqDispatcher(
            broker, store, clock, relay=OutboxRelay(session_factory, clock).relay_once
        )
        assert await dispatcher.dispatch_once() == 5
        await asyncio.wait_for(finished.wait(), timeout=20)
        for _ in range(100):  # the receiver marks each job done right after its handler returns
            async with session_factory() as s:
                statuses = (await s.scalars(select(JobRun.status))).all()
            if statuses.count("SUCCEEDED") == 5:
                break
            await asyncio.sleep(0.05)
        assert sorted(done) == [0, 1, 2, 3, 4]
        assert statuses.count("SUCCEEDED") == 5
        assert await dispatcher.dispatch_once() == 0
    finally:
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await receiver
        await broker.shutdown()

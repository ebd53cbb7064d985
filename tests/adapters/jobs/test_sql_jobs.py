"""The outbox and the durable job store on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.clock import FakeClock
from adapters.jobs.outbox import OutboxJobQueue, OutboxRelay
from adapters.jobs.runner import JobRunner
from adapters.jobs.sql_store import SqlJobStore
from adapters.persistence.models import JobRun, OutboxMessage
from application.ports.jobs import Job


async def count(sessions: async_sessionmaker[AsyncSession], model: Any) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_job_enqueued_in_a_rolled_back_transaction_never_exists(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock()
    async with session_factory() as s:
        await OutboxJobQueue(s, clock).enqueue(Job(name="x", args={"a": 1}))
        await s.rollback()
    assert await count(session_factory, OutboxMessage) == 0


async def test_committed_jobs_run_once_per_key(session_factory: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock()
    seen: list[Mapping[str, Any]] = []

    async def handler(args: Mapping[str, Any]) -> None:
        seen.append(args)

    async with session_factory() as s:
        q = OutboxJobQueue(s, clock)
        await q.enqueue(Job(name="note", args={"n": 1}, key="note:1"))
        await q.enqueue(Job(name="note", args={"n": 1}, key="note:1"))  # a retried request
        await q.enqueue(Job(name="note", args={"n": 2}))
        await s.commit()
    relay = OutboxRelay(session_factory, clock)
    runner = JobRunner(SqlJobStore(session_factory), {"note": handler}, clock, relay=relay.relay_once)
    assert await runner.run_until_idle() == 2
    assert sorted(a["n"] for a in seen) == [1, 2]
    # replaying the outbox (a crash after relaying, before marking) changes nothing
    assert await relay.relay_once() == 0
    assert await runner.run_until_idle() == 0
    async with session_factory() as s:
        statuses = (await s.scalars(select(JobRun.status))).all()
    assert sorted(statuses) == ["SUCCEEDED", "SUCCEEDED"]


async def test_failures_are_retried_later_and_recorded(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock()
    attempts = 0

    async def flaky(args: Mapping[str, Any]) -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise RuntimeError(f"boom {attempts}")

    async with session_factory() as s:
        await OutboxJobQueue(s, clock).enqueue(Job(name="flaky", max_attempts=3))
        await s.commit()
    runner = JobRunner(
        SqlJobStore(session_factory),
        {"flaky": flaky},
        clock,
        relay=OutboxRelay(session_factory, clock).relay_once,
    )
    await runner.run_until_idle()
    async with session_factory() as s:
        row = (await s.scalars(select(JobRun))).one()
        assert (row.status, row.attempts, row.last_error) == ("PENDING", 1, "RuntimeError: boom 1")
    for _ in range(2):
        clock.advance(timedelta(minutes=30))
        await runner.run_until_idle()
    async with session_factory() as s:
        row = (await s.scalars(select(JobRun))).one()
        assert (row.status, row.attempts) == ("SUCCEEDED", 3)


async def test_two_runners_never_run_the_same_job_twice(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock()
    runs: list[int] = []

    async def work(args: Mapping[str, Any]) -> None:
        runs.append(args["i"])
        await asyncio.sleep(0)

    async with session_factory() as s:
        q = OutboxJobQueue(s, clock)
        for i in range(30):
            await q.enqueue(Job(name="work", args={"i": i}))
        await s.commit()
    await OutboxRelay(session_factory, clock).relay_once()
    runners = [
        JobRunner(SqlJobStore(session_factory), {"work": work}, clock, concurrency=3) for _ in range(2)
    ]
    await asyncio.gather(*(r.run_until_idle() for r in runners))
    assert sorted(runs) == list(range(30))


async def test_an_expired_lease_lets_the_job_run_again(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock()
    async with session_factory() as s:
        await OutboxJobQueue(s, clock).enqueue(Job(name="w"))
        await s.commit()
    await OutboxRelay(session_factory, clock).relay_once()
    store = SqlJobStore(session_factory)
    first = await store.claim_due(clock.now(), limit=5, lease=timedelta(minutes=1))
    assert len(first) == 1
    # a crashed worker never reports back: nobody may claim it while the lease holds...
    assert await store.claim_due(clock.now(), limit=5, lease=timedelta(minutes=1)) == []
    clock.advance(timedelta(minutes=2))
    second = await store.claim_due(clock.now(), limit=5, lease=timedelta(minutes=1))
    assert [j.id for j in second] == [first[0].id]
    assert second[0].attempt == 2

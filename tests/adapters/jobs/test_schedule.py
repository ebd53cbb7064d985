from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.clock import FakeClock
from adapters.jobs.schedule import Schedule, Scheduler
from adapters.persistence.models import OutboxMessage


async def test_each_period_enqueues_once_whoever_ticks(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock(datetime(2026, 11, 22, 1, 0, 5, tzinfo=UTC))
    schedules = [Schedule("sweep", timedelta(minutes=5)), Schedule("attribute", timedelta(hours=1))]
    a, b = Scheduler(session_factory, clock, schedules), Scheduler(session_factory, clock, schedules)
    await a.tick()
    await b.tick()  # a second process in the same period
    clock.advance(timedelta(minutes=3))
    await a.tick()
    async with session_factory() as s:
        assert await s.scalar(select(func.count()).select_from(OutboxMessage)) == 2
    clock.advance(timedelta(minutes=3))  # 01:06: a new sweep bucket, same attribution hour
    await b.tick()
    async with session_factory() as s:
        keys = sorted((await s.scalars(select(OutboxMessage.dedup_key))).all())
    assert keys == [
        "attribute@2026-11-22T01:00:00",
        "sweep@2026-11-22T01:00:00",
        "sweep@2026-11-22T01:05:00",
    ]

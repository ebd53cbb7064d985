"""Periodic jobs: the expiry sweep, attribution runs, payout runs.

Each schedule enqueues its job through the outbox once per time bucket, with the bucket in the
dedup key (``attribute-conversations@2026-11-22T01:00``): any number of API processes and
workers may tick at the same time and the job still runs once per period. A process that was
down for a while enqueues only the current bucket, because every periodic job catches up by
itself (it processes whatever is due, not "the last hour").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.jobs.outbox import OutboxJobQueue
from application.ports.clock import Clock
from application.ports.jobs import Job


@dataclass(frozen=True, slots=True)
class Schedule:
    job: str
    every: timedelta
    args: dict[str, Any] = field(default_factory=dict)

    def bucket(self, now: datetime) -> str:
        seconds = int(self.every.total_seconds())
        start = int(now.timestamp()) // seconds * seconds
        return datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%S")


class Scheduler:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, schedules: Sequence[Schedule]
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._schedules = list(schedules)

    async def tick(self) -> int:
        """Enqueues every schedule's job for the current bucket (no-op if already there)."""
        now = self._clock.now()
        async with self._sessions() as session:
            queue = OutboxJobQueue(session, self._clock)
            for s in self._schedules:
                await queue.enqueue(
                    Job(name=s.job, args=s.args, key=f"{s.job}@{s.bucket(now)}", max_attempts=3)
                )
            await session.commit()
        return len(self._schedules)

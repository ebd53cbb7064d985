"""The outbox: work recorded in the same transaction as the change that needs it.

``OutboxJobQueue`` is the ``JobQueue`` port for use cases: it only adds an ``outbox`` row to the
request's session, so the job exists if and only if the use case commits. The ``OutboxRelay``
moves committed rows to where jobs run (the ``job_run`` table for the in-process runner and the
taskiq dispatcher), exactly once per dedup key, and marks them dispatched.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.persistence.models import JobRun, OutboxMessage
from application.ports.clock import Clock
from application.ports.jobs import Job
from domain.ids import new_id


def _insert(session: AsyncSession, table: type[OutboxMessage] | type[JobRun]):  # type: ignore[no-untyped-def]
    dialect = session.bind.dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


class OutboxJobQueue:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def enqueue(self, job: Job) -> None:
        now = self._clock.now()
        stmt = (
            _insert(self._session, OutboxMessage)
            .values(
                id=new_id(),
                topic=job.name,
                payload={"args": dict(job.args), "max_attempts": job.max_attempts},
                dedup_key=job.key,
                created_at=now,
                available_at=now,
                attempts=0,
            )
            .on_conflict_do_nothing(index_elements=["dedup_key"])
        )
        await self._session.execute(stmt)


class OutboxRelay:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def relay_once(self, *, limit: int = 100) -> int:
        """Moves up to ``limit`` committed outbox rows into ``job_run``; returns how many."""
        now: datetime = self._clock.now()
        async with self._sessions() as session, session.begin():
            query = (
                select(OutboxMessage)
                .where(OutboxMessage.dispatched_at.is_(None), OutboxMessage.available_at <= now)
                .order_by(OutboxMessage.created_at, OutboxMessage.id)
                .limit(limit)
            )
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list((await session.execute(query)).scalars())
            for row in rows:
                payload = row.payload or {}
                await session.execute(
                    _insert(session, JobRun)
                    .values(
                        id=new_id(),
                        name=row.topic,
                        key=row.dedup_key or row.id,
                        args=payload.get("args", {}),
                        status="PENDING",
                        attempts=0,
                        max_attempts=int(payload.get("max_attempts", 5)),
                        scheduled_for=now,
                        created_at=now,
                        updated_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["key"])
                )
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row.id)
                    .values(dispatched_at=now, attempts=OutboxMessage.attempts + 1)
                )
            return len(rows)

"""The durable job queue in the database (table ``job_run``), for the runner in ``runner.py``.

Claiming is a guarded UPDATE (status PENDING, due, lease free) so two runners, in one process or
on several machines sharing PostgreSQL, never run the same attempt at once; on PostgreSQL the
candidates are picked with ``FOR UPDATE SKIP LOCKED`` so runners do not queue behind each other.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.jobs.runner import ClaimedJob
from adapters.persistence.enums import JobStatus
from adapters.persistence.models import JobRun


class SqlJobStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[ClaimedJob]:
        async with self._sessions() as session, session.begin():
            due = (
                select(JobRun.id)
                .where(
                    JobRun.status == JobStatus.PENDING,
                    JobRun.scheduled_for <= now,
                    or_(JobRun.locked_until.is_(None), JobRun.locked_until <= now),
                )
                .order_by(JobRun.scheduled_for, JobRun.id)
                .limit(limit)
            )
            if session.bind.dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            ids = list((await session.execute(due)).scalars())
            claimed: list[ClaimedJob] = []
            for job_id in ids:
                row = (
                    await session.execute(
                        update(JobRun)
                        .where(
                            JobRun.id == job_id,
                            JobRun.status == JobStatus.PENDING,
                            or_(JobRun.locked_until.is_(None), JobRun.locked_until <= now),
                        )
                        .values(
                            attempts=JobRun.attempts + 1,
                            locked_until=now + lease,
                            started_at=now,
                            updated_at=now,
                        )
                        .returning(JobRun.id, JobRun.name, JobRun.args, JobRun.attempts, JobRun.max_attempts)
                    )
                ).first()
                if row is not None:
                    claimed.append(
                        ClaimedJob(row.id, row.name, dict(row.args or {}), row.attempts, row.max_attempts)
                    )
            return claimed

    async def complete(self, job_id: str, now: datetime) -> None:
        await self._set(
            job_id, status=JobStatus.SUCCEEDED, finished_at=now, locked_until=None, updated_at=now
        )

    async def retry(self, job_id: str, error: str, available_at: datetime) -> None:
        await self._set(job_id, last_error=error, scheduled_for=available_at, locked_until=None)

    async def fail(self, job_id: str, error: str, now: datetime) -> None:
        await self._set(
            job_id,
            status=JobStatus.FAILED,
            last_error=error,
            finished_at=now,
            locked_until=None,
            updated_at=now,
        )

    async def _set(self, job_id: str, **values: object) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(update(JobRun).where(JobRun.id == job_id).values(**values))

"""Settings, clock, database engine, sessions and the unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, from_context, provide
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.clock import SystemClock
from application.ports.clock import Clock
from application.ports.jobs import JobQueue
from application.ports.uow import UnitOfWork
from entrypoints.settings import Settings


class CoreProvider(Provider):
    settings = from_context(provides=Settings, scope=Scope.APP)

    @provide(scope=Scope.APP)
    def clock(self) -> Clock:
        return SystemClock()


class PersistenceProvider(Provider):
    @provide(scope=Scope.APP)
    async def engine(self, settings: Settings) -> AsyncIterator[AsyncEngine]:
        from adapters.persistence.engine import create_engine

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings.effective_database_url)
        yield engine
        await engine.dispose()

    @provide(scope=Scope.APP)
    def session_factory(self, engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
        return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

    @provide(scope=Scope.REQUEST)
    async def session(self, factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
        # leaving the request without a commit rolls back (closing the session does)
        async with factory() as session:
            yield session

    @provide(scope=Scope.REQUEST)
    def unit_of_work(self, session: AsyncSession) -> UnitOfWork:
        from adapters.persistence.uow import SqlAlchemyUnitOfWork

        return SqlAlchemyUnitOfWork(session)

    @provide(scope=Scope.REQUEST)
    def job_queue(self, session: AsyncSession, clock: Clock) -> JobQueue:
        from adapters.jobs.outbox import OutboxJobQueue

        return OutboxJobQueue(session, clock)

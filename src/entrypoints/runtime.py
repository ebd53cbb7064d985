"""Process wiring shared by `canon serve`, `canon demo` and `canon worker`: the container, the
HTTP app and the background services that run beside it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dishka import AsyncContainer
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.jobs.runner import JobRunner
from application.ports.clock import Clock
from entrypoints.di import build_container
from entrypoints.settings import Settings

log = logging.getLogger("canon.runtime")


async def make_job_runner(container: AsyncContainer, settings: Settings) -> JobRunner:
    from adapters.jobs.outbox import OutboxRelay
    from adapters.jobs.sql_store import SqlJobStore
    from entrypoints.jobs import handlers

    factory = await container.get(async_sessionmaker[AsyncSession])
    clock = await container.get(Clock)
    return JobRunner(
        SqlJobStore(factory),
        handlers(container),
        clock,
        concurrency=settings.job_workers,
        relay=OutboxRelay(factory, clock).relay_once,
    )


def build_http_app(settings: Settings, container: AsyncContainer | None = None) -> Litestar:
    from entrypoints.http.app import create_app

    container = container or build_container(settings)

    @asynccontextmanager
    async def background(app: Litestar) -> AsyncIterator[None]:
        runner: JobRunner | None = None
        if settings.jobs_backend == "inprocess":
            runner = await make_job_runner(container, settings)
            app.state.job_runner = runner
            runner.start()
            log.info("in-process job runner started", extra={"workers": settings.job_workers})
        try:
            yield
        finally:
            if runner is not None:
                # graceful shutdown: in-flight jobs finish; the rest stay queued for next start
                await runner.stop(deadline_seconds=settings.graceful_shutdown_seconds)

    return create_app(container, settings, lifespan=[background])

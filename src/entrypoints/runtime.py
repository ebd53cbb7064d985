"""Process wiring shared by `canon serve`, `canon demo` and `canon worker`: the container, the
HTTP app and the background services that run beside it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from dishka import AsyncContainer
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.jobs.runner import JobRunner
from adapters.jobs.schedule import Schedule, Scheduler
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


def periodic_schedules(settings: Settings) -> list[Schedule]:
    """The jobs every deployment runs on a timer (each catches up on whatever is due)."""
    schedules = [
        Schedule("expire-conversations", timedelta(minutes=5)),
        Schedule("attribute-conversations", timedelta(minutes=15)),
        Schedule("run-payouts", timedelta(days=1)),
        # no year/month: every settled month not yet allocated (application.money.enterprise_schedule)
        Schedule("allocate-enterprise-month", timedelta(days=1)),
    ]
    if settings.payment_processor == "sandbox":
        schedules.append(Schedule("deliver-sandbox-webhooks", timedelta(minutes=1)))
    return schedules


async def run_scheduler(container: AsyncContainer, settings: Settings, stop: asyncio.Event) -> None:
    """Ticks the periodic schedules every 30 seconds until ``stop`` is set."""
    factory = await container.get(async_sessionmaker[AsyncSession])
    scheduler = Scheduler(factory, await container.get(Clock), periodic_schedules(settings))
    while not stop.is_set():
        try:
            await scheduler.tick()
        except Exception:
            log.exception("scheduling periodic jobs failed; retrying")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=30)


def build_http_app(settings: Settings, container: AsyncContainer | None = None) -> Litestar:
    from entrypoints.http.app import create_app

    container = container or build_container(settings)

    @asynccontextmanager
    async def background(app: Litestar) -> AsyncIterator[None]:
        runner: JobRunner | None = None
        stop = asyncio.Event()
        ticking = asyncio.create_task(run_scheduler(container, settings, stop), name="canon-scheduler")
        if settings.jobs_backend == "inprocess":
            runner = await make_job_runner(container, settings)
            app.state.job_runner = runner
            runner.start()
            log.info("in-process job runner started", extra={"workers": settings.job_workers})
        try:
            yield
        finally:
            stop.set()
            await ticking
            if runner is not None:
                # graceful shutdown: in-flight jobs finish; the rest stay queued for next start
                await runner.stop(deadline_seconds=settings.graceful_shutdown_seconds)

    return create_app(container, settings, lifespan=[background])

"""`canon worker`: background jobs in their own process until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

from entrypoints.di import build_container
from entrypoints.runtime import make_job_runner, run_scheduler
from entrypoints.settings import Settings

log = logging.getLogger("canon.worker")


async def run_worker(settings: Settings) -> None:
    container = build_container(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    ticking = asyncio.create_task(run_scheduler(container, settings, stop), name="canon-scheduler")
    try:
        if settings.jobs_backend == "redis":
            from entrypoints.taskiq_worker import run_taskiq_worker

            await run_taskiq_worker(container, settings, stop)
            return
        runner = await make_job_runner(container, settings)
        runner.start()
        log.info("worker started", extra={"backend": settings.jobs_backend, "workers": settings.job_workers})
        await stop.wait()
        log.info("worker stopping: finishing in-flight jobs")
        await runner.stop(deadline_seconds=settings.graceful_shutdown_seconds)
    finally:
        stop.set()
        await ticking
        await container.close()

"""The registered job handlers: which ones leave their subject honest when given up on."""

from __future__ import annotations

from pathlib import Path

from adapters.jobs.runner import GivesUp
from application.catalogue.upload_source_file import INGEST_JOB
from entrypoints.di import build_container
from entrypoints.jobs import handlers
from entrypoints.settings import load_settings


async def test_ingestion_hears_when_its_job_is_given_up_on(tmp_path: Path) -> None:
    container = build_container(load_settings({}, data_dir=tmp_path, vector_backend="memory"))
    try:
        registered = handlers(container)
        assert isinstance(registered[INGEST_JOB], GivesUp)
        # jobs whose subject has no "in progress" state to leave need no hook
        assert not isinstance(registered["attribute-conversations"], GivesUp)
    finally:
        await container.close()

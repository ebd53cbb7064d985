"""Background jobs of the catalogue: ``ingest-file`` (queued by an upload)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dishka import AsyncContainer

from application.catalogue.upload_source_file import INGEST_JOB
from application.ingestion.ingest_file import IngestFile, IngestFileCommand
from entrypoints.jobs import Handler, job


class _IngestFileJob:
    """Runs `IngestFile`; once every retry is spent, `give_up` marks the file FAILED."""

    def __init__(self, container: AsyncContainer) -> None:
        self._container = container

    async def __call__(self, args: Mapping[str, Any]) -> None:
        # a REQUEST scope of its own: one session and unit of work, as for an HTTP request
        async with self._container() as request:
            uc = await request.get(IngestFile)
            await uc(IngestFileCommand(file_id=str(args["file_id"])))

    async def give_up(self, args: Mapping[str, Any], error: str) -> None:
        async with self._container() as request:
            uc = await request.get(IngestFile)
            await uc.give_up(str(args["file_id"]), error)


@job(INGEST_JOB)
def ingest_file(container: AsyncContainer) -> Handler:
    return _IngestFileJob(container)

"""Background jobs of the catalogue: ``ingest-file`` (queued by an upload)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dishka import AsyncContainer

from application.catalogue.upload_source_file import INGEST_JOB
from application.ingestion.ingest_file import IngestFile, IngestFileCommand
from entrypoints.jobs import Handler, job


@job(INGEST_JOB)
def ingest_file(container: AsyncContainer) -> Handler:
    async def run(args: Mapping[str, Any]) -> None:
        # a REQUEST scope of its own: one session and unit of work, as for an HTTP request
        async with container() as request:
            uc = await request.get(IngestFile)
            await uc(IngestFileCommand(file_id=str(args["file_id"])))

    return run

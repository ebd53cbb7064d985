"""RetrySourceFile: ingest a file again (after a failure or a job that gave up)."""

from __future__ import annotations

from dataclasses import dataclass

from application.catalogue.ports import SourceRepository
from application.catalogue.upload_source_file import INGEST_JOB
from application.errors import Conflict, NotFound
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.jobs import Job, JobQueue
from application.ports.uow import UnitOfWork
from domain.catalogue import FileStatus, SourceFile
from domain.ids import new_id


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrySourceFileCommand:
    principal: Principal
    source_id: str
    file_id: str


class RetrySourceFile:
    """Queues a new ingestion of one file of a source.

    - Owners and admins of a share-holding creator (``source.update``: admins manage files).
    - A FAILED file goes back to PENDING (the failure reason is forgotten); a PENDING or
      PROCESSING file whose job gave up is queued again as it stands.
    - A READY file is refused (Conflict ``file-ready``): taking it back to PENDING would leave
      its source with nothing to answer from; upload it again instead, which swaps atomically.
    - Only active files: a replaced file is history (Conflict ``file-inactive``).
    - The job is queued in the same transaction, under a fresh key so an earlier run's key does
      not swallow it.
    """

    def __init__(
        self, authorizer: Authorizer, sources: SourceRepository, jobs: JobQueue, uow: UnitOfWork
    ) -> None:
        self._authorizer = authorizer
        self._sources = sources
        self._jobs = jobs
        self._uow = uow

    async def __call__(self, command: RetrySourceFileCommand) -> SourceFile:
        await self._authorizer.require(
            command.principal, Action.SOURCE_UPDATE, Resource.source(command.source_id)
        )
        file = await self._sources.get_file(command.file_id)
        if file is None or file.source_id != command.source_id:
            raise NotFound("file not found", code="file-not-found")
        if not file.is_active:
            raise Conflict("a replaced file cannot be ingested again", code="file-inactive")
        if file.status is FileStatus.READY:
            raise Conflict("the file is READY: upload a new copy to re-ingest it", code="file-ready")
        if file.status is FileStatus.FAILED:
            file.retry()
            await self._sources.save_file(file)
        await self._jobs.enqueue(
            Job(name=INGEST_JOB, args={"file_id": file.id}, key=f"{INGEST_JOB}:{file.id}:{new_id()}")
        )
        await self._uow.commit()
        return file

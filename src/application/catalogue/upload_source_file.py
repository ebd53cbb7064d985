"""UploadSourceFile: store an uploaded file of a source and queue its ingestion."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from application.catalogue.blobs import BlobStore
from application.catalogue.media_types import SNIFF_BYTES, sniff
from application.catalogue.ports import SourceRepository
from application.errors import InvalidInput, NotFound, PayloadTooLarge
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ingestion.store import IngestionStore
from application.ports.jobs import Job, JobQueue
from application.ports.uow import UnitOfWork
from domain.catalogue import Source, SourceFile
from domain.ids import new_id

log = logging.getLogger(__name__)
INGEST_JOB = "ingest-file"


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadPolicy:
    max_bytes: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadSourceFileCommand:
    principal: Principal
    source_id: str
    file_name: str
    content: AsyncIterable[bytes]
    declared_type: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadedFile:
    file: SourceFile
    checksum_sha256: str
    queued: bool  # False when the file was refused at once (status FAILED, reason given)


class _Meter:
    """Passes the upload through, hashing it, counting it, keeping its first bytes for sniffing
    and stopping it the moment it goes over the limit (so a huge upload is never stored)."""

    def __init__(self, source: AsyncIterable[bytes], limit: int) -> None:
        self._source = source
        self._limit = limit
        self.size = 0
        self.head = b""
        self.digest = hashlib.sha256()

    async def stream(self) -> AsyncIterator[bytes]:
        async for chunk in self._source:
            self.size += len(chunk)
            if self.size > self._limit:
                raise PayloadTooLarge(
                    f"the file is larger than the {self._limit}-byte upload limit",
                    code="file-too-large",
                    extra={"max_bytes": self._limit},
                )
            if len(self.head) < SNIFF_BYTES:
                self.head += chunk[: SNIFF_BYTES - len(self.head)]
            self.digest.update(chunk)
            yield chunk


def clean_file_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip().replace("\x00", "")
    if not base or base in (".", "..") or len(base) > 255:
        raise InvalidInput("a file name of 1 to 255 characters is required", errors={"file_name": "invalid"})
    return base


def uploader_creator(principal: Principal, source: Source) -> str:
    """The creator a file is filed under: the API key's creator, else the largest share-holder
    (ties to the smallest id), so it is always one of the source's creators."""
    if principal.creator_id in source.creator_ids:
        return principal.creator_id
    return min(source.shares, key=lambda e: (-e[1].value, e[0]))[0]


class UploadSourceFile:
    """Stores a file for a source and queues its ingestion (job ``ingest-file``).

    - Members of a creator holding a share may upload (``source.upload-file``).
    - The upload is streamed to the blob store and refused (413 ``file-too-large``) as soon as it
      passes the limit; nothing of it is kept.
    - Its SHA-256 and size are stored; its type is sniffed from its bytes. An empty file, an
      unsupported type or a type contradicting the declared one is stored as FAILED with the
      reason, and not queued; the source's current files are untouched.
    - Otherwise the file is PENDING and its ingestion job is queued in the same transaction, so
      a rolled-back upload queues nothing. A source's current file stays searchable until this
      one is READY (see ``IngestFile``).
    """

    def __init__(
        self,
        authorizer: Authorizer,
        sources: SourceRepository,
        records: IngestionStore,
        blobs: BlobStore,
        jobs: JobQueue,
        uow: UnitOfWork,
        policy: UploadPolicy,
    ) -> None:
        self._authorizer = authorizer
        self._sources = sources
        self._records = records
        self._blobs = blobs
        self._jobs = jobs
        self._uow = uow
        self._policy = policy

    async def __call__(self, command: UploadSourceFileCommand) -> UploadedFile:
        principal = command.principal
        await self._authorizer.require(
            principal, Action.SOURCE_UPLOAD_FILE, Resource.source(command.source_id)
        )
        if principal.user_id is None:
            raise InvalidInput("files are uploaded by a signed-in person", errors={"principal": "not a user"})
        file_name = clean_file_name(command.file_name)
        source = await self._sources.get(command.source_id)
        if source is None:
            raise NotFound("source not found", code="not-found")
        file_id = new_id()
        creator_id = uploader_creator(principal, source)
        key = f"sources/{source.id}/{file_id}"
        meter = _Meter(command.content, self._policy.max_bytes)
        size = await self._blobs.put(key, meter.stream())
        try:
            sniffed = sniff(meter.head, file_name=file_name, declared=command.declared_type)
            file = SourceFile(
                id=file_id,
                owner_user_id=principal.user_id,
                file_name=file_name,
                mime_type=sniffed.media_type[:255],
                size_bytes=size,
                storage_key=key,
                source_id=source.id,
                creator_id=creator_id,
            )
            if sniffed.problem is not None:
                file.mark_failed(sniffed.problem)
            await self._sources.add_file(file)
            checksum = meter.digest.hexdigest()
            await self._records.set_checksum(file_id, checksum)
            if sniffed.problem is None:
                await self._jobs.enqueue(
                    Job(name=INGEST_JOB, args={"file_id": file_id}, key=f"{INGEST_JOB}:{file_id}")
                )
            await self._uow.commit()
        except BaseException:
            try:
                await self._blobs.delete(key)  # no row points at it: do not keep an orphan
            except Exception:
                log.exception("could not delete the blob of a failed upload", extra={"key": key})
            raise
        return UploadedFile(file=file, checksum_sha256=checksum, queued=sniffed.problem is None)

"""Loading files into the catalogue from this machine: one file into a source (``canon ingest``)
or a whole directory as one creator's sources (the demo: Canon's own docs). Everything goes
through the use cases, as an upload over HTTP would; ingestion runs here, in the foreground,
and the job the upload queued later finds the file READY and does nothing."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from dishka import AsyncContainer

from application.catalogue.create_creator import CreateCreator, CreateCreatorCommand
from application.catalogue.create_source import CreateSource, CreateSourceCommand
from application.catalogue.ports import CreatorRepository, SourceRepository
from application.catalogue.upload_source_file import UploadSourceFile, UploadSourceFileCommand
from application.identity.principal import Principal
from application.ingestion.ingest_file import IngestFile, IngestFileCommand, IngestionReport, Progress
from application.ingestion.store import IngestionStore
from domain.catalogue import FileStatus, SourceType
from domain.slug import Slug

READ_CHUNK = 1024 * 1024
_TYPES = {
    ".pdf": "application/pdf",
    ".epub": "application/epub+zip",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".html": "text/html",
    ".htm": "text/html",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".txt": "text/plain",
    ".srt": "application/x-subrip",
    ".vtt": "text/vtt",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadedFile:
    path: Path
    source_id: str
    file_id: str | None  # None: the source already had this exact file READY
    report: IngestionReport | None


async def _read(path: Path) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, READ_CHUNK):
            yield chunk
    finally:
        handle.close()


async def ingest_path(
    container: AsyncContainer,
    *,
    principal: Principal,
    source_id: str,
    path: Path,
    on_progress: Progress | None = None,
) -> LoadedFile:
    """Uploads ``path`` as a new file of ``source_id`` and ingests it now."""
    async with container() as request:
        upload = await request.get(UploadSourceFile)
        uploaded = await upload(
            UploadSourceFileCommand(
                principal=principal,
                source_id=source_id,
                file_name=path.name,
                content=_read(path),
                declared_type=_TYPES.get(path.suffix.lower()),
            )
        )
    report: IngestionReport | None = None
    if uploaded.queued:
        async with container() as request:
            ingest = await request.get(IngestFile)
            report = await ingest(IngestFileCommand(file_id=uploaded.file.id, on_progress=on_progress))
    else:
        report = IngestionReport(
            file_id=uploaded.file.id, status=FileStatus.FAILED, failure_reason=uploaded.file.failure_reason
        )
    return LoadedFile(path=path, source_id=source_id, file_id=uploaded.file.id, report=report)


async def ensure_creator(container: AsyncContainer, *, principal: Principal, name: str) -> str:
    """The id of the creator named ``name`` (found by its slug), created if missing."""
    async with container() as request:
        creators: CreatorRepository = await request.get(CreatorRepository)
        existing = await creators.get_by_slug(Slug.from_text(name).value)
        if existing is not None:
            return existing.id
        create: CreateCreator = await request.get(CreateCreator)
        return (await create(CreateCreatorCommand(principal=principal, name=name))).id


async def _current_checksum(container: AsyncContainer, source_id: str) -> str | None:
    async with container() as request:
        sources: SourceRepository = await request.get(SourceRepository)
        records: IngestionStore = await request.get(IngestionStore)
        for file in await sources.files_of(source_id, active_only=True):
            record = await records.record(file.id)
            if file.status is FileStatus.READY and record is not None:
                return record.checksum_sha256
    return None


async def ingest_directory(
    container: AsyncContainer,
    *,
    principal: Principal,
    creator_name: str,
    directory: Path,
    pattern: str = "*.md",
    source_type: SourceType = SourceType.DOCUMENT,
    on_progress: Progress | None = None,
) -> list[LoadedFile]:
    """Makes every file matching ``pattern`` in ``directory`` a READY source of one creator.

    Idempotent: a source is found by its title (the file name); a file whose bytes are already
    the source's READY file is not uploaded again; a changed file replaces the old one.
    """
    creator_id = await ensure_creator(container, principal=principal, name=creator_name)
    async with container() as request:
        by_title = {
            s.title: s.id for s in await (await request.get(SourceRepository)).list_by_creator(creator_id)
        }
    loaded: list[LoadedFile] = []
    paths = await asyncio.to_thread(lambda: sorted(p for p in directory.glob(pattern) if p.is_file()))
    for path in paths:
        source_id = by_title.get(path.name)
        if source_id is None:
            async with container() as request:
                create = await request.get(CreateSource)
                source = await create(
                    CreateSourceCommand(
                        principal=principal, creator_id=creator_id, title=path.name, type=source_type
                    )
                )
            source_id = by_title[path.name] = source.id
        digest = hashlib.sha256(await asyncio.to_thread(path.read_bytes)).hexdigest()
        if await _current_checksum(container, source_id) == digest:
            loaded.append(LoadedFile(path=path, source_id=source_id, file_id=None, report=None))
            continue
        loaded.append(
            await ingest_path(
                container, principal=principal, source_id=source_id, path=path, on_progress=on_progress
            )
        )
    return loaded

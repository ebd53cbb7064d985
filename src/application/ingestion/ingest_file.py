"""IngestFile: read, chunk, embed and index one uploaded file; then make it the source's
current file. Run by the ``ingest-file`` job."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from application.catalogue.blobs import BlobStore
from application.catalogue.ports import SourceRepository
from application.ingestion.reading import DocumentReader, UnreadableFile
from application.ingestion.store import IngestionStore, StoredChunk
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork
from application.retrieval.ports import Embedder, IndexedChunk, VectorIndex, VectorLayout
from domain.catalogue import FileStatus, SourceFile
from domain.text.chunking import DEFAULT_POLICY, ChunkDraft, ChunkingPolicy, chunk_segments


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestionPolicy:
    chunking: ChunkingPolicy = DEFAULT_POLICY
    embed_batch: int = 64
    max_chunks: int = 200_000
    """More chunks than this is a file no chatbot should be built on in one piece."""


DEFAULT_INGESTION = IngestionPolicy()


Progress = Callable[[str, int, int], None]
"""``(stage, done, total)``: stages ``extracted`` (chunks made) and ``indexed`` (chunks embedded
and written so far), for progress bars."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestFileCommand:
    file_id: str
    on_progress: Progress | None = None


@dataclass(slots=True, kw_only=True)
class IngestionReport:
    file_id: str
    status: FileStatus | None  # None: no such file
    failure_reason: str | None = None
    page_count: int | None = None
    chunk_count: int = 0
    token_count: int = 0
    retired_file_ids: list[str] = field(default_factory=list)
    skipped: bool = False  # nothing to do (already READY or FAILED, inactive, or gone)
    sweep_first: bool = False  # the file's old vectors were removed before indexing
    extract_seconds: float = 0.0
    embed_seconds: float = 0.0
    index_seconds: float = 0.0


class IngestFile:
    """Ingests one file; safe to run any number of times, and after a crash at any point.

    - Only an active PENDING or PROCESSING file is worked on; READY, FAILED, inactive or missing
      files are left alone (a replayed job changes nothing).
    - Chunk ids are derived from (file id, ordinal), so a re-run overwrites the same chunks.
    - A file becomes READY only after its chunks are in the ``chunk`` table AND the vector
      index, in the same transaction that retires the source's older READY files (inactive,
      ``replaced_by_file_id`` set); their vectors are removed after that commit. Until then the
      older file is what readers see: readers only answer from active READY files.
    - A file that cannot be read (corrupt, encrypted, empty of text, too many chunks) ends FAILED
      with the reason and leaves no chunks anywhere; the source's other files are untouched.
    - A transient failure (blob store, embedder, index) propagates so the job is retried.
    """

    def __init__(
        self,
        sources: SourceRepository,
        records: IngestionStore,
        blobs: BlobStore,
        reader: DocumentReader,
        embedder: Embedder,
        index: VectorIndex,
        clock: Clock,
        uow: UnitOfWork,
        policy: IngestionPolicy = DEFAULT_INGESTION,
    ) -> None:
        self._sources = sources
        self._records = records
        self._blobs = blobs
        self._reader = reader
        self._embedder = embedder
        self._index = index
        self._clock = clock
        self._uow = uow
        self._policy = policy

    async def __call__(self, command: IngestFileCommand) -> IngestionReport:
        report = IngestionReport(file_id=command.file_id, status=None)
        file = await self._claim(command.file_id, report)
        if file is None:
            return report
        try:
            started = time.perf_counter()
            data = await self._blobs.read(file.storage_key)
            document = await self._reader.read(data, media_type=file.mime_type, file_name=file.file_name)
            if not document.has_text:
                raise UnreadableFile("No text could be extracted from this file (is it a scan?).")
            drafts = chunk_segments(document.segments, file_id=file.id, policy=self._policy.chunking)
            if not drafts:
                raise UnreadableFile("No text could be extracted from this file.")
            if len(drafts) > self._policy.max_chunks:
                raise UnreadableFile(
                    f"The file makes {len(drafts)} chunks, more than the {self._policy.max_chunks} allowed: "
                    "split it into several sources."
                )
            report.extract_seconds = time.perf_counter() - started
        except UnreadableFile as exc:
            await self._fail(file, exc.message, report)
            return report
        report.page_count = document.page_count
        progress = command.on_progress or _silent
        progress("extracted", len(drafts), len(drafts))
        await self._index_chunks(file, drafts, report, progress)
        await self._finish(file, drafts, report)
        return report

    async def _claim(self, file_id: str, report: IngestionReport) -> SourceFile | None:
        """PENDING -> PROCESSING (committed), or the PROCESSING file a crashed run left."""
        file = await self._sources.get_file(file_id)
        if file is None or file.source_id is None:
            await self._uow.rollback()
            report.skipped = True
            return None
        report.status = file.status
        report.failure_reason = file.failure_reason
        if not file.is_active or file.status not in (FileStatus.PENDING, FileStatus.PROCESSING):
            await self._uow.rollback()
            report.skipped = True
            return None
        # Vectors of this file can exist only if a run crashed mid-way (PROCESSING) or the file was
        # ingested before (READY -> PENDING); only then is the index swept first, because a sweep
        # scans the whole collection in embedded Qdrant.
        record = await self._records.record(file.id)
        report.sweep_first = file.status is FileStatus.PROCESSING or (
            record is not None and record.chunk_count > 0
        )
        if file.status is FileStatus.PENDING:
            file.start_processing()
            await self._sources.save_file(file)
            await self._uow.commit()
        else:
            await self._uow.rollback()  # no transaction stays open while the file is read
        report.status = FileStatus.PROCESSING
        return file

    async def _index_chunks(
        self, file: SourceFile, drafts: list[ChunkDraft], report: IngestionReport, progress: Progress
    ) -> None:
        assert file.source_id is not None
        await self._index.ensure_collection(VectorLayout.of(self._embedder))
        if report.sweep_first:
            # an earlier run may have left more chunks than this run makes
            await self._index.delete_file(file.id)
        batch = self._policy.embed_batch
        for start in range(0, len(drafts), batch):
            part = drafts[start : start + batch]
            t0 = time.perf_counter()
            embeddings = await self._embedder.embed_documents([d.text for d in part])
            t1 = time.perf_counter()
            await self._index.upsert(
                [
                    IndexedChunk(
                        chunk_id=d.id,
                        source_id=file.source_id,
                        file_id=file.id,
                        text=d.text,
                        token_count=d.token_count,
                        page=d.page,
                        section=d.section,
                        chapter=d.chapter,
                        start_seconds=d.start_seconds,
                        end_seconds=d.end_seconds,
                        embedding=e,
                    )
                    for d, e in zip(part, embeddings, strict=True)
                ]
            )
            report.embed_seconds += t1 - t0
            report.index_seconds += time.perf_counter() - t1
            progress("indexed", start + len(part), len(drafts))

    async def _finish(self, file: SourceFile, drafts: list[ChunkDraft], report: IngestionReport) -> None:
        assert file.source_id is not None
        current = await self._sources.get_file(file.id)
        if current is None or not current.is_active or current.status is not FileStatus.PROCESSING:
            # withdrawn or settled by someone else while we worked: ours must not stay searchable
            await self._uow.rollback()
            await self._drop_vectors(file.id)
            report.skipped = True
            return
        t0 = time.perf_counter()
        await self._records.replace_chunks(file.id, [_stored(file.source_id, d) for d in drafts])
        tokens = sum(d.token_count for d in drafts)
        await self._records.record_result(
            file.id,
            page_count=report.page_count,
            chunk_count=len(drafts),
            token_count=tokens,
            ingested_at=self._clock.now(),
        )
        current.mark_ready()
        others = [
            f for f in await self._sources.files_of(file.source_id, active_only=True) if f.id != file.id
        ]
        ready = [f for f in others if f.status is FileStatus.READY]
        newer = sorted(f.id for f in ready if f.id > file.id)
        retired: list[SourceFile] = []
        if newer:
            # a later upload finished first: it stays current and this one is kept as history
            current.replace_with(newer[-1])
            retired.append(current)
        else:
            for old in ready:
                old.replace_with(file.id)
                retired.append(old)
        await self._sources.save_file(current)
        for old in retired:
            if old.id != current.id:
                await self._sources.save_file(old)
        await self._uow.commit()
        for old in retired:
            await self._drop_vectors(old.id)
        report.index_seconds += time.perf_counter() - t0
        report.status = FileStatus.READY
        report.chunk_count = len(drafts)
        report.token_count = tokens
        report.retired_file_ids = [f.id for f in retired]

    async def _drop_vectors(self, file_id: str) -> None:
        await self._index.ensure_collection(VectorLayout.of(self._embedder))
        await self._index.delete_file(file_id)

    async def give_up(self, file_id: str, error: str) -> IngestionReport:
        """Called once the job has failed for good (every retry spent on transient errors): an
        active file still PENDING or PROCESSING ends FAILED with the reason, its partial chunks
        and vectors removed, so the uploader sees what happened and can retry it, instead of a
        file that says PROCESSING forever. A file in any other state is left alone."""
        report = IngestionReport(file_id=file_id, status=None)
        file = await self._sources.get_file(file_id)
        workable = (FileStatus.PENDING, FileStatus.PROCESSING)
        if file is None or not file.is_active or file.status not in workable:
            await self._uow.rollback()
            report.skipped = True
            report.status = None if file is None else file.status
            return report
        if file.status is FileStatus.PENDING:  # PENDING -> FAILED is allowed directly
            file.mark_failed(_gave_up(error))
            await self._sources.save_file(file)
            await self._uow.commit()
            report.status, report.failure_reason = FileStatus.FAILED, file.failure_reason
            return report
        await self._fail(file, _gave_up(error), report)
        return report

    async def _fail(self, file: SourceFile, reason: str, report: IngestionReport) -> None:
        current = await self._sources.get_file(file.id)
        if current is not None and current.status is FileStatus.PROCESSING:
            current.mark_failed(reason)
            await self._sources.save_file(current)
            await self._records.replace_chunks(file.id, [])
            await self._uow.commit()
        else:
            await self._uow.rollback()
        await self._drop_vectors(file.id)
        report.status = FileStatus.FAILED if current is not None else None
        report.failure_reason = reason


def _gave_up(error: str) -> str:
    detail = error.strip().splitlines()[0][:300] if error.strip() else "unknown error"
    return f"Ingestion failed after every retry ({detail}). Retry the file to try again."


def _silent(stage: str, done: int, total: int) -> None:
    return None


def _stored(source_id: str, d: ChunkDraft) -> StoredChunk:
    return StoredChunk(
        id=d.id,
        file_id=d.file_id,
        source_id=source_id,
        ordinal=d.ordinal,
        text=d.text,
        token_count=d.token_count,
        checksum=d.checksum,
        page=d.page,
        section=d.section,
        chapter=d.chapter,
        start_seconds=d.start_seconds,
        end_seconds=d.end_seconds,
    )

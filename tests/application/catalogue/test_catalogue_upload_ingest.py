"""Uploading files and ingesting them through the use cases (in-memory fakes): status flow,
checksums, size limits, idempotent and resumable ingestion, replacement without a gap."""

from __future__ import annotations

import hashlib

import pytest
from catalogue_kit import World, stream_of

from application.catalogue.create_creator import CreateCreatorCommand
from application.catalogue.create_source import CreateSourceCommand
from application.catalogue.get_source_file import GetSourceFileQuery
from application.catalogue.upload_source_file import UploadSourceFileCommand
from application.errors import NotFound, PayloadTooLarge, PermissionDenied
from application.identity.principal import Principal
from application.ingestion.ingest_file import IngestFileCommand
from application.retrieval.ports import IndexedChunk
from domain.catalogue import FileStatus, SourceType
from domain.text.chunking import chunk_id

BOOK = "\n\n".join(
    f"Chapter paragraph {i}: the purple cow is remarkable because it stands out in field number {i}."
    for i in range(60)
).encode()


async def _source(world: World) -> tuple[Principal, str]:
    ana = await world.add_user("ana")
    async with world.unit() as u:
        creator = await u.create_creator(CreateCreatorCommand(principal=ana, name="Ana Author"))
        source = await u.create_source(
            CreateSourceCommand(principal=ana, creator_id=creator.id, title="Cow", type=SourceType.BOOK)
        )
    return ana, source.id


async def _upload(world: World, who: Principal, source_id: str, data: bytes, name: str = "cow.md", **kw: str):
    async with world.unit() as u:
        return await u.upload(
            UploadSourceFileCommand(
                principal=who, source_id=source_id, file_name=name, content=stream_of(data), **kw
            )
        )


async def _ingest(world: World, file_id: str):
    async with world.unit() as u:
        return await u.ingest(IngestFileCommand(file_id=file_id))


async def test_upload_stores_the_blob_and_queues_ingestion(world: World) -> None:
    ana, source_id = await _source(world)
    uploaded = await _upload(
        world, ana, source_id, BOOK, name="../../etc/cow.md", declared_type="text/markdown"
    )
    file = uploaded.file
    assert file.status is FileStatus.PENDING
    assert uploaded.queued
    assert file.file_name == "cow.md"
    assert file.mime_type == "text/markdown"
    assert file.size_bytes == len(BOOK)
    assert uploaded.checksum_sha256 == hashlib.sha256(BOOK).hexdigest()
    assert await world.blobs.read(file.storage_key) == BOOK
    assert [(j.name, dict(j.args), j.key) for j in world.jobs.jobs] == [
        ("ingest-file", {"file_id": file.id}, f"ingest-file:{file.id}")
    ]
    async with world.unit() as u:
        details = await u.get_file(GetSourceFileQuery(principal=ana, source_id=source_id, file_id=file.id))
    assert details.record.checksum_sha256 == uploaded.checksum_sha256


async def test_ingestion_makes_the_file_ready_with_its_chunks_in_table_and_index(world: World) -> None:
    ana, source_id = await _source(world)
    file = (await _upload(world, ana, source_id, BOOK)).file
    report = await _ingest(world, file.id)
    assert report.status is FileStatus.READY
    assert report.chunk_count > 1
    assert report.token_count > 0
    async with world.unit() as u:
        details = await u.get_file(GetSourceFileQuery(principal=ana, source_id=source_id, file_id=file.id))
        chunks = await u.records.chunks_of(file.id)
        searchable = await u.records.searchable_file_ids([source_id])
    assert details.file.status is FileStatus.READY
    assert details.record.chunk_count == len(chunks) == report.chunk_count
    assert details.record.token_count == sum(c.token_count for c in chunks)
    assert [c.id for c in chunks] == [chunk_id(file.id, i) for i in range(len(chunks))]
    assert await world.index.count(file_id=file.id) == len(chunks)
    assert searchable == {file.id}


async def test_ingestion_is_idempotent(world: World) -> None:
    ana, source_id = await _source(world)
    file = (await _upload(world, ana, source_id, BOOK)).file
    first = await _ingest(world, file.id)
    again = await _ingest(world, file.id)
    assert again.skipped
    assert again.status is FileStatus.READY
    assert await world.index.count(file_id=file.id) == first.chunk_count
    assert await _ingest(world, "no-such-file") is not None


async def test_a_crash_after_processing_started_is_resumed_to_the_same_result(world: World) -> None:
    ana, source_id = await _source(world)
    file = (await _upload(world, ana, source_id, BOOK)).file
    # a first run crashed after PROCESSING was committed and a stray vector was written
    async with world.unit() as u:
        stored = await u.repos.sources.get_file(file.id)
        stored.start_processing()
        await u.repos.sources.save_file(stored)
        await u.repos.uow.commit()
    embedding = (await world.embedder.embed_documents(["stray leftover"]))[0]
    from application.retrieval.ports import VectorLayout

    await world.index.ensure_collection(VectorLayout.of(world.embedder))
    await world.index.upsert(
        [
            IndexedChunk(
                chunk_id=chunk_id(file.id, 999),
                source_id=source_id,
                file_id=file.id,
                text="stray leftover",
                token_count=2,
                embedding=embedding,
            )
        ]
    )
    report = await _ingest(world, file.id)
    assert report.status is FileStatus.READY
    assert await world.index.count(file_id=file.id) == report.chunk_count  # the stray one is gone


async def test_a_replacement_swaps_only_once_it_is_ready(world: World) -> None:
    ana, source_id = await _source(world)
    old = (await _upload(world, ana, source_id, BOOK)).file
    await _ingest(world, old.id)
    better = BOOK.replace(b"purple cow", b"violet cow")
    new = (await _upload(world, ana, source_id, better)).file
    async with world.unit() as u:
        # uploaded but not ingested: readers still see exactly the old file
        assert await u.records.searchable_file_ids([source_id]) == {old.id}
    report = await _ingest(world, new.id)
    assert report.retired_file_ids == [old.id]
    async with world.unit() as u:
        assert await u.records.searchable_file_ids([source_id]) == {new.id}
        retired = await u.repos.sources.get_file(old.id)
        old_chunks = await u.records.chunks_of(old.id)
    assert retired.is_active is False
    assert retired.replaced_by_file_id == new.id
    assert old_chunks, "the old file's chunk rows stay, so old citations still resolve"
    assert await world.index.count(file_id=old.id) == 0
    assert await world.index.count(source_id=source_id) == report.chunk_count


async def test_a_failed_replacement_leaves_the_current_file_alone(world: World) -> None:
    ana, source_id = await _source(world)
    old = (await _upload(world, ana, source_id, BOOK)).file
    await _ingest(world, old.id)
    bad = (await _upload(world, ana, source_id, b"\n\n   \n\n")).file
    report = await _ingest(world, bad.id)
    assert report.status is FileStatus.FAILED
    assert "No text" in (report.failure_reason or "")
    async with world.unit() as u:
        assert await u.records.searchable_file_ids([source_id]) == {old.id}
        assert (await u.repos.sources.get_file(bad.id)).failure_reason == report.failure_reason
        assert await u.records.chunks_of(bad.id) == []
    assert await world.index.count(file_id=bad.id) == 0


async def test_refused_uploads(world: World) -> None:
    ana, source_id = await _source(world)
    stranger = await world.add_user("stranger")
    with pytest.raises(PayloadTooLarge):
        await _upload(world, ana, source_id, b"x" * 1_000_001)
    assert world.blobs.blobs == {}
    assert world.jobs.jobs == []
    with pytest.raises(NotFound):
        await _upload(world, stranger, source_id, BOOK)
    empty = await _upload(world, ana, source_id, b"")
    assert empty.file.status is FileStatus.FAILED
    assert empty.file.failure_reason == "The file is empty."
    lying = await _upload(world, ana, source_id, BOOK, name="cow.pdf", declared_type="application/pdf")
    assert lying.file.status is FileStatus.FAILED
    assert "declared as application/pdf" in (lying.file.failure_reason or "")
    binary = await _upload(
        world, ana, source_id, b"\x89PNG\r\n\x1a\n\x00\x00", name="cow.png", declared_type="image/png"
    )
    assert binary.file.status is FileStatus.FAILED
    assert "Unsupported file type (image/png)" in (binary.file.failure_reason or "")
    assert [empty.queued, lying.queued, binary.queued] == [False, False, False]
    assert world.jobs.jobs == []
    async with world.unit() as u:
        with pytest.raises(NotFound):
            await u.get_file(GetSourceFileQuery(principal=ana, source_id="other", file_id=empty.file.id))


async def test_members_upload_but_strangers_and_keys_without_a_person_cannot(world: World) -> None:
    _, source_id = await _source(world)
    key = Principal.api_key(api_key_id="k1", creator_id="someone-else", actions=[])
    with pytest.raises((NotFound, PermissionDenied)):
        await _upload(world, key, source_id, BOOK)


async def test_re_ingesting_a_ready_file_sweeps_its_old_vectors(world: World) -> None:
    ana, source_id = await _source(world)
    file = (await _upload(world, ana, source_id, BOOK)).file
    first = await _ingest(world, file.id)
    assert not first.sweep_first  # a fresh file has nothing to sweep
    from application.retrieval.ports import VectorLayout

    embedding = (await world.embedder.embed_documents(["left from another chunker"]))[0]
    await world.index.ensure_collection(VectorLayout.of(world.embedder))
    await world.index.upsert(
        [
            IndexedChunk(
                chunk_id=chunk_id(file.id, 5000),
                source_id=source_id,
                file_id=file.id,
                text="left from another chunker",
                token_count=4,
                embedding=embedding,
            )
        ]
    )
    async with world.unit() as u:
        stored = await u.repos.sources.get_file(file.id)
        stored.retry()  # READY -> PENDING: re-ingest, say with a new chunking policy
        await u.repos.sources.save_file(stored)
        await u.repos.uow.commit()
    again = await _ingest(world, file.id)
    assert again.sweep_first
    assert again.status is FileStatus.READY
    assert await world.index.count(file_id=file.id) == first.chunk_count


class FlakyEmbedder:
    """The lexical embedder, failing its first ``failures`` calls like an unreachable provider."""

    def __init__(self, inner: object, failures: int) -> None:
        self._inner = inner
        self.failures = failures
        self.name = inner.name  # type: ignore[attr-defined]
        self.dimension = inner.dimension  # type: ignore[attr-defined]
        self.sparse = inner.sparse  # type: ignore[attr-defined]

    async def embed_documents(self, texts: list[str]) -> list[object]:
        from application.errors import ExternalServiceError

        if self.failures:
            self.failures -= 1
            raise ExternalServiceError("embedder unreachable", code="embedder-unavailable")
        return await self._inner.embed_documents(texts)  # type: ignore[attr-defined,no-any-return]

    async def embed_query(self, text: str) -> object:
        return await self._inner.embed_query(text)  # type: ignore[attr-defined]


async def test_a_transient_failure_propagates_for_a_retry_that_then_finishes(world: World) -> None:
    from application.errors import ExternalServiceError

    ana, source_id = await _source(world)
    file = (await _upload(world, ana, source_id, BOOK)).file
    world.embedder = FlakyEmbedder(world.embedder, failures=1)  # type: ignore[assignment]
    with pytest.raises(ExternalServiceError):
        await _ingest(world, file.id)
    async with world.unit() as u:
        stuck = await u.repos.sources.get_file(file.id)
        assert await u.records.searchable_file_ids([source_id]) == set()
    assert stuck.status is FileStatus.PROCESSING  # not FAILED: the job runner retries it
    retried = await _ingest(world, file.id)
    assert retried.status is FileStatus.READY
    assert retried.sweep_first  # resumed from PROCESSING: whatever the first run wrote was swept
    assert await world.index.count(file_id=file.id) == retried.chunk_count


async def test_a_file_whose_retries_are_all_spent_ends_failed_and_can_be_retried(world: World) -> None:
    from application.catalogue.retry_source_file import RetrySourceFileCommand
    from application.errors import ExternalServiceError

    ana, source_id = await _source(world)
    ready = (await _upload(world, ana, source_id, BOOK)).file
    assert (await _ingest(world, ready.id)).status is FileStatus.READY
    waiting = (await _upload(world, ana, source_id, BOOK, name="never-started.md")).file
    stuck = (await _upload(world, ana, source_id, BOOK.replace(b"cow", b"calf"), name="calf.md")).file
    world.embedder = FlakyEmbedder(world.embedder, failures=3)  # type: ignore[assignment]
    with pytest.raises(ExternalServiceError):
        await _ingest(world, stuck.id)  # left PROCESSING, maybe with partial vectors

    async with world.unit() as u:  # what the job runner calls once the last attempt failed
        gave_up = await u.ingest.give_up(stuck.id, "ExternalServiceError: embedder unreachable\ntrace")
    async with world.unit() as u:
        never = await u.ingest.give_up(waiting.id, "")
        untouched = await u.ingest.give_up(ready.id, "ExternalServiceError: late duplicate")
        missing = await u.ingest.give_up("no-such-file", "boom")
    assert (gave_up.status, never.status) == (FileStatus.FAILED, FileStatus.FAILED)
    assert gave_up.failure_reason is not None
    assert "embedder unreachable" in gave_up.failure_reason
    assert "trace" not in gave_up.failure_reason  # one line of the error, not a traceback
    assert (untouched.skipped, untouched.status, missing.skipped) == (True, FileStatus.READY, True)
    async with world.unit() as u:
        failed = await u.repos.sources.get_file(stuck.id)
        assert failed.status is FileStatus.FAILED
        assert "Retry the file" in (failed.failure_reason or "")
        assert (await u.repos.sources.get_file(waiting.id)).status is FileStatus.FAILED
        assert (await u.repos.sources.get_file(ready.id)).status is FileStatus.READY
        assert await u.records.searchable_file_ids([source_id]) == {ready.id}
    assert await world.index.count(file_id=stuck.id) == 0
    assert await world.index.count(file_id=ready.id) > 0

    world.embedder = world.embedder._inner  # type: ignore[attr-defined]  # the provider is back
    async with world.unit() as u:
        await u.retry(RetrySourceFileCommand(principal=ana, source_id=source_id, file_id=stuck.id))
    assert (await _ingest(world, stuck.id)).status is FileStatus.READY


async def test_retrying_files(world: World) -> None:
    from application.catalogue.retry_source_file import RetrySourceFileCommand
    from application.errors import Conflict

    ana, source_id = await _source(world)
    member = await world.add_user("member")
    async with world.unit() as u:
        creator_id = (await u.repos.sources.get(source_id)).creator_ids[0]
        from application.catalogue.manage_creator_members import ManageCreatorMemberCommand, MemberChange
        from domain.roles import CreatorRole

        await u.members(
            ManageCreatorMemberCommand(
                principal=ana,
                creator_id=creator_id,
                user_id=member.user_id or "",
                change=MemberChange.ADD,
                role=CreatorRole.MEMBER,
            )
        )
    old = (await _upload(world, ana, source_id, BOOK)).file
    await _ingest(world, old.id)
    # a stalled job: the file was left PROCESSING; retrying queues it again as it is
    stalled = (await _upload(world, ana, source_id, BOOK.replace(b"cow", b"calf"))).file
    async with world.unit() as u:
        f = await u.repos.sources.get_file(stalled.id)
        f.start_processing()
        await u.repos.sources.save_file(f)
        await u.repos.uow.commit()
    queued = len(world.jobs.jobs)
    async with world.unit() as u:
        with pytest.raises(PermissionDenied):  # members contribute; admins and owners manage files
            await u.retry(RetrySourceFileCommand(principal=member, source_id=source_id, file_id=stalled.id))
        again = await u.retry(RetrySourceFileCommand(principal=ana, source_id=source_id, file_id=stalled.id))
    assert again.status is FileStatus.PROCESSING
    assert len(world.jobs.jobs) == queued + 1
    assert len({j.key for j in world.jobs.jobs}) == len(world.jobs.jobs)  # fresh keys
    report = await _ingest(world, stalled.id)
    assert report.status is FileStatus.READY
    assert report.retired_file_ids == [old.id]
    async with world.unit() as u:
        with pytest.raises(Conflict) as inactive:
            await u.retry(RetrySourceFileCommand(principal=ana, source_id=source_id, file_id=old.id))
        with pytest.raises(NotFound):
            await u.retry(RetrySourceFileCommand(principal=ana, source_id=source_id, file_id="nope"))
        with pytest.raises(Conflict) as ready:
            await u.retry(RetrySourceFileCommand(principal=ana, source_id=source_id, file_id=stalled.id))
        assert await u.records.searchable_file_ids([source_id]) == {stalled.id}
    assert inactive.value.code == "file-inactive"
    assert ready.value.code == "file-ready"
    failed = (await _upload(world, ana, source_id, b"\n\n  \n")).file
    assert (await _ingest(world, failed.id)).status is FileStatus.FAILED
    async with world.unit() as u:
        back = await u.retry(RetrySourceFileCommand(principal=ana, source_id=source_id, file_id=failed.id))
    assert back.status is FileStatus.PENDING
    assert back.failure_reason is None

"""Bad input, end to end through the use cases on SQLite and PostgreSQL with the real extractors
and the local blob store: each bad file ends FAILED with a clear reason (or is refused at once),
leaves no chunk anywhere, and the source's current file stays exactly as searchable as before."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from catalogue_kit import World, load_harness, stream_of
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.blobs.local import LocalBlobStore
from adapters.extraction.reader import ExtractingDocumentReader
from adapters.persistence.models import Chunk
from adapters.persistence.models import File as FileRow
from application.catalogue.create_creator import CreateCreatorCommand
from application.catalogue.create_source import CreateSourceCommand
from application.catalogue.upload_source_file import UploadPolicy, UploadSourceFileCommand
from application.errors import PayloadTooLarge
from application.identity.principal import Principal
from application.ingestion.ingest_file import IngestFileCommand
from domain.catalogue import FileStatus, SourceType


def _documents() -> ModuleType:
    name = "canon_document_fixtures"
    if name not in sys.modules:
        path = Path(__file__).parents[2] / "fixtures" / "documents" / "make.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


docs = _documents()
GOOD = ("\n\n".join(f"Remarkable idea number {i} is worth talking about." for i in range(40))).encode()

# (case, file name, declared type, bytes, words the reason must contain)
BAD: list[tuple[str, str, str, Callable[[], bytes], str]] = [
    (
        "encrypted pdf",
        "locked.pdf",
        "application/pdf",
        lambda: docs.pdf(["Secret text"], user_password="pw"),
        "password",
    ),
    ("corrupt pdf", "broken.pdf", "application/pdf", docs.corrupt_pdf, "PDF"),
    ("scanned pdf", "scan.pdf", "application/pdf", lambda: docs.pdf([None, None]), "text"),
    (
        "epub zip bomb",
        "bomb.epub",
        "application/epub+zip",
        lambda: docs.epub_bomb(40 * 1024 * 1024),
        "expand",
    ),
    ("whitespace only", "blank.txt", "text/plain", lambda: b"   \n\n\t  \n", "empty"),
]


@pytest.fixture
def sql_world(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> World:
    harness = load_harness()
    return World(
        backend=harness.SqlBackend(engine, session_factory),
        reader=ExtractingDocumentReader(),
        blobs=LocalBlobStore(tmp_path / "blobs"),
        upload_policy=UploadPolicy(max_bytes=2_000_000),
    )


async def _source_with_a_ready_file(world: World) -> tuple[Principal, str, str]:
    ana = await world.add_user("ana")
    async with world.unit() as u:
        creator = await u.create_creator(CreateCreatorCommand(principal=ana, name="Ana Author"))
        source = await u.create_source(
            CreateSourceCommand(principal=ana, creator_id=creator.id, title="Ideas", type=SourceType.BOOK)
        )
    good = await _upload(world, ana, source.id, GOOD, "ideas.md", "text/markdown")
    async with world.unit() as u:
        assert (await u.ingest(IngestFileCommand(file_id=good.file.id))).status is FileStatus.READY
    return ana, source.id, good.file.id


async def _upload(world: World, who: Principal, source_id: str, data: bytes, name: str, declared: str):
    async with world.unit() as u:
        return await u.upload(
            UploadSourceFileCommand(
                principal=who,
                source_id=source_id,
                file_name=name,
                content=stream_of(data, 65536),
                declared_type=declared,
            )
        )


async def _chunk_rows(engine: AsyncEngine, file_id: str) -> int:
    async with engine.connect() as conn:
        return int(
            await conn.scalar(select(func.count()).select_from(Chunk).where(Chunk.file_id == file_id)) or 0
        )


@pytest.mark.parametrize(("case", "name", "declared", "make", "word"), BAD, ids=[b[0] for b in BAD])
async def test_a_bad_file_fails_with_a_reason_and_changes_nothing_else(
    sql_world: World,
    engine: AsyncEngine,
    case: str,
    name: str,
    declared: str,
    make: Callable[[], bytes],
    word: str,
) -> None:
    world = sql_world
    ana, source_id, good_id = await _source_with_a_ready_file(world)
    good_chunks = await _chunk_rows(engine, good_id)
    bad = await _upload(world, ana, source_id, make(), name, declared)
    assert bad.file.status is FileStatus.PENDING, bad.file.failure_reason
    async with world.unit() as u:
        report = await u.ingest(IngestFileCommand(file_id=bad.file.id))
    assert report.status is FileStatus.FAILED, case
    assert word.lower() in (report.failure_reason or "").lower(), report.failure_reason
    async with world.unit() as u:
        stored = await u.repos.sources.get_file(bad.file.id)
        assert await u.records.searchable_file_ids([source_id]) == {good_id}
        again = await u.ingest(IngestFileCommand(file_id=bad.file.id))
    assert stored.status is FileStatus.FAILED
    assert stored.failure_reason == report.failure_reason
    assert again.skipped
    assert await _chunk_rows(engine, bad.file.id) == 0
    assert await world.index.count(file_id=bad.file.id) == 0
    assert await _chunk_rows(engine, good_id) == good_chunks
    assert await world.index.count(file_id=good_id) == good_chunks


async def test_refused_at_upload_empty_mislabelled_and_huge(sql_world: World, engine: AsyncEngine) -> None:
    world = sql_world
    ana, source_id, good_id = await _source_with_a_ready_file(world)
    empty = await _upload(world, ana, source_id, b"", "empty.pdf", "application/pdf")
    assert empty.file.status is FileStatus.FAILED
    assert empty.file.failure_reason == "The file is empty."
    mislabelled = await _upload(world, ana, source_id, GOOD, "ideas.pdf", "application/pdf")
    assert mislabelled.file.status is FileStatus.FAILED
    assert "its content is text/markdown" in (
        mislabelled.file.failure_reason or ""
    ) or "its content is text/plain" in (mislabelled.file.failure_reason or "")
    async with engine.connect() as conn:
        before = await conn.scalar(select(func.count()).select_from(FileRow))
    with pytest.raises(PayloadTooLarge) as huge:
        await _upload(world, ana, source_id, b"a" * 2_000_001, "huge.txt", "text/plain")
    assert huge.value.code == "file-too-large"
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(FileRow)) == before
    blobs = sorted(p.name for p in (Path(world.blobs._root) / "sources" / source_id).iterdir())  # type: ignore[attr-defined]
    assert (
        len(blobs) == 3
    )  # the good file and the two refused ones kept for the record; nothing of the huge one
    assert world.jobs.jobs[-1].args == {"file_id": good_id}
    async with world.unit() as u:
        assert await u.records.searchable_file_ids([source_id]) == {good_id}

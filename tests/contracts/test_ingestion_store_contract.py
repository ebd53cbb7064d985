"""The IngestionStore contract, run against the in-memory fake and SQLAlchemy on SQLite and
PostgreSQL: checksums and counts beside a file, the chunk rows of a file replaced as a whole,
and which files readers may answer from (active and READY only)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.memory.ingestion import InMemoryIngestionData, InMemoryIngestionStore
from adapters.persistence.repositories.ingestion import SqlAlchemyIngestionStore
from application.errors import NotFound
from application.ingestion.store import IngestionStore, StoredChunk
from domain.catalogue import Source, SourceFile, SourceType
from domain.ids import new_id
from domain.shares import ShareSet
from domain.text.chunking import chunk_id

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _harness() -> ModuleType:
    name = "repository_harness"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@dataclass
class Unit:
    repos: Any
    store: IngestionStore


Units = Callable[[], AbstractAsyncContextManager[Unit]]


def _chunks(file_id: str, source_id: str, count: int) -> list[StoredChunk]:
    return [
        StoredChunk(
            id=chunk_id(file_id, n),
            file_id=file_id,
            source_id=source_id,
            ordinal=n,
            text=f"chunk {n}",
            token_count=2,
            checksum=f"{n:064d}",
            page=n + 1,
            section="One",
        )
        for n in range(count)
    ]


async def _world(units: Units) -> tuple[str, str, str]:
    """A source with two files; returns (source id, file a, file b)."""
    h = _harness()
    owner = h.a_user("ana")
    creator = h.a_creator("ana-author", owner)
    source = Source(
        id=new_id(), title="Book", type=SourceType.BOOK, created_by=owner.id, shares=ShareSet.sole(creator.id)
    )
    files = [
        SourceFile(
            id=new_id(),
            owner_user_id=owner.id,
            file_name=f"{n}.md",
            mime_type="text/markdown",
            size_bytes=10,
            storage_key=f"sources/{source.id}/{n}",
            source_id=source.id,
            creator_id=creator.id,
        )
        for n in ("a", "b")
    ]
    async with units() as u:
        await u.repos.users.add(owner)
        await u.repos.creators.add(creator)
        await u.repos.sources.add(source, effective_from=T0)
        for f in files:
            await u.repos.sources.add_file(f)
        await u.repos.uow.commit()
    return source.id, files[0].id, files[1].id


class IngestionStoreContract:
    """Subclass once per adapter; ``units`` opens one request (repositories + store) on a fresh,
    empty backend."""

    async def test_starts_clean(self, units: Units) -> None:
        async with units() as u:
            assert await u.store.record(new_id()) is None
            assert await u.store.chunks_of(new_id()) == []
            assert await u.store.searchable_file_ids([new_id()]) == set()
            assert await u.store.searchable_file_ids([]) == set()
            with pytest.raises(NotFound):
                await u.store.set_checksum(new_id(), "0" * 64)

    async def test_checksum_and_results_are_kept_beside_the_file(self, units: Units) -> None:
        _, a, _ = await _world(units)
        async with units() as u:
            assert (await u.store.record(a)).chunk_count == 0  # type: ignore[union-attr]
            await u.store.set_checksum(a, "ab" * 32)
            await u.store.record_result(a, page_count=12, chunk_count=3, token_count=900, ingested_at=T0)
            await u.repos.uow.commit()
        async with units() as u:
            record = await u.store.record(a)
        assert record is not None
        assert (record.checksum_sha256, record.page_count, record.chunk_count, record.token_count) == (
            "ab" * 32,
            12,
            3,
            900,
        )
        assert record.ingested_at == T0

    async def test_replacing_chunks_is_idempotent_and_per_file(self, units: Units) -> None:
        source_id, a, b = await _world(units)
        async with units() as u:
            await u.store.replace_chunks(a, _chunks(a, source_id, 5))
            await u.store.replace_chunks(b, _chunks(b, source_id, 2))
            await u.repos.uow.commit()
        async with units() as u:
            await u.store.replace_chunks(a, _chunks(a, source_id, 3))  # a shorter second run
            await u.store.replace_chunks(a, _chunks(a, source_id, 3))
            await u.repos.uow.commit()
        async with units() as u:
            got_a = await u.store.chunks_of(a)
            got_b = await u.store.chunks_of(b)
        assert [c.ordinal for c in got_a] == [0, 1, 2]
        assert got_a == _chunks(a, source_id, 3)
        assert len(got_b) == 2
        async with units() as u:
            await u.store.replace_chunks(a, [])
            await u.repos.uow.commit()
        async with units() as u:
            assert await u.store.chunks_of(a) == []

    async def test_only_active_ready_files_are_searchable(self, units: Units) -> None:
        source_id, a, b = await _world(units)
        async with units() as u:
            assert await u.store.searchable_file_ids([source_id]) == set()
            file_a = await u.repos.sources.get_file(a)
            file_a.start_processing()
            await u.repos.sources.save_file(file_a)
            assert await u.store.searchable_file_ids([source_id]) == set()  # PROCESSING is not
            file_a.mark_ready()
            await u.repos.sources.save_file(file_a)
            await u.repos.uow.commit()
        async with units() as u:
            assert await u.store.searchable_file_ids([source_id, "other"]) == {a}
            file_b = await u.repos.sources.get_file(b)
            file_b.start_processing()
            file_b.mark_ready()
            file_a = await u.repos.sources.get_file(a)
            file_a.replace_with(b)
            await u.repos.sources.save_file(file_b)
            await u.repos.sources.save_file(file_a)
            await u.repos.uow.commit()
        async with units() as u:
            assert await u.store.searchable_file_ids([source_id]) == {b}


class TestInMemoryIngestionStore(IngestionStoreContract):
    @pytest.fixture
    def units(self) -> Units:
        backend = _harness().MemoryBackend()
        data = InMemoryIngestionData()

        @asynccontextmanager
        async def unit() -> AsyncIterator[Unit]:
            async with backend.unit() as repos:
                yield Unit(repos, InMemoryIngestionStore(repos.uow._session, data))

        return unit


class TestSqlAlchemyIngestionStore(IngestionStoreContract):
    @pytest.fixture
    def units(self, engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]) -> Units:
        backend = _harness().SqlBackend(engine, session_factory)

        @asynccontextmanager
        async def unit() -> AsyncIterator[Unit]:
            async with backend.unit() as repos:
                yield Unit(repos, SqlAlchemyIngestionStore(repos.uow._session))

        return unit

"""``SqlSourceDirectory`` on SQLite and PostgreSQL: a source answers once one of its files is
ready and still active, for every creator holding a share in it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.persistence.repositories.chatbot_sources import SqlSourceDirectory
from domain.catalogue import Source, SourceFile, SourceType
from domain.ids import new_id
from domain.shares import ShareSet


def _harness() -> Any:
    name = "repository_harness"
    if name not in sys.modules:
        path = Path(__file__).parents[2] / "contracts" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


h = _harness()


async def test_active_sources_follow_ready_active_files(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    db = h.SqlBackend(engine, session_factory)
    world = await h.build_world(db)
    other = h.a_creator("other", world.user)
    shared = Source(
        id=new_id(),
        title="Co-written",
        type=SourceType.BOOK,
        created_by=world.user.id,
        shares=ShareSet.of({world.creator.id: "0.5", other.id: "0.5"}),
    )

    def a_file(source: Source) -> SourceFile:
        return SourceFile(
            id=new_id(),
            owner_user_id=world.user.id,
            file_name="f.pdf",
            mime_type="application/pdf",
            size_bytes=10,
            storage_key=f"blobs/{new_id()}",
            source_id=source.id,
            creator_id=world.creator.id,
        )

    ready, pending = a_file(world.source), a_file(shared)
    async with db.unit() as r:
        await r.creators.add(other)
        await r.sources.add(shared, effective_from=h.T0)
        await r.sources.add_file(ready)
        await r.sources.add_file(pending)
        ready.start_processing()
        ready.mark_ready()
        await r.sources.save_file(ready)
        await r.uow.commit()
    async with session_factory() as s:
        found = await SqlSourceDirectory(s).active_sources_by_creator([world.creator.id, other.id])
        assert found == {world.creator.id: frozenset({world.source.id})}
        assert await SqlSourceDirectory(s).active_sources_by_creator([]) == {}
    async with db.unit() as r:
        pending.start_processing()
        pending.mark_ready()
        await r.sources.save_file(pending)
        await r.uow.commit()
    async with session_factory() as s:
        found = await SqlSourceDirectory(s).active_sources_by_creator([world.creator.id, other.id])
    assert found == {
        world.creator.id: frozenset({world.source.id, shared.id}),
        other.id: frozenset({shared.id}),
    }

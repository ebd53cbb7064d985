"""How the SQL repositories' locks interact with other writers, per database.

Changing a chatbot's owners locks the chatbot row. On PostgreSQL the lock is FOR NO KEY UPDATE,
so conversations of that chatbot can still start meanwhile (their foreign key check takes a KEY
SHARE lock, which FOR UPDATE would block). On SQLite every writing transaction runs alone
(BEGIN IMMEDIATE), so the new conversation waits for the owner change to commit.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.roles import ChatbotOwnerRole


def _harness() -> ModuleType:
    # Loaded by path: an installed SDK ships a top-level ``tests`` package that shadows ours.
    name = "repository_harness"
    if name not in sys.modules:
        path = Path(__file__).parents[2] / "contracts" / "repository_harness.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


async def test_an_owner_change_blocks_new_conversations_only_on_sqlite(
    backend: str, engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    c = _harness()
    db = c.SqlBackend(engine, session_factory)
    assert await db.is_empty()
    world = await c.build_world(db)
    partner = c.a_creator("partner", world.user)
    async with db.unit() as r:
        await r.creators.add(partner)
        await r.chatbots.add_owner(world.chatbot.id, partner.id, ChatbotOwnerRole.PRIMARY_OWNER)
        await r.uow.commit()

    locked, started = asyncio.Event(), asyncio.Event()

    async def change_owners() -> bool:
        async with db.unit() as r:
            await r.chatbots.remove_owner(world.chatbot.id, partner.id)
            locked.set()
            try:  # did the conversation get in while we held the chatbot row?
                await asyncio.wait_for(started.wait(), timeout=1.0)
                got_in = True
            except TimeoutError:
                got_in = False
            await r.uow.commit()
            return got_in

    async def start_conversation() -> None:
        await locked.wait()
        async with db.unit() as r:
            await r.conversations.add(c.a_conversation(world))
            await r.uow.commit()
        started.set()

    got_in, _ = await asyncio.gather(change_owners(), start_conversation())
    assert got_in is (backend == "postgres")
    async with db.unit() as r:
        assert len(await r.conversations.list_for_user(world.user.id)) == 1
        stored = await r.chatbots.get(world.chatbot.id)
        assert stored is not None
        assert stored.owners.as_dict() == {world.creator.id: ChatbotOwnerRole.PRIMARY_OWNER}

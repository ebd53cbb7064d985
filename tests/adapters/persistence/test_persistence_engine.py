"""The engine: SQLite is set up for many concurrent writers in one process (WAL, foreign keys,
busy timeout, BEGIN IMMEDIATE); PostgreSQL sessions run in UTC."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.engine import create_engine, read_only


async def sqlite_counter(tmp_path: Path, **kw: int) -> AsyncEngine:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'counter.db'}", **kw)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        await conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
    return engine


async def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", sqlite_busy_timeout_ms=1234)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one() == 1234
    finally:
        await engine.dispose()


async def increment(engine: AsyncEngine, read_done: asyncio.Event, go: asyncio.Event) -> None:
    """Read, wait until told, then write what was read plus one: the lost-update shape."""
    async with engine.begin() as conn:
        n = (await conn.execute(text("SELECT n FROM counter WHERE id = 1"))).scalar_one()
        read_done.set()
        await go.wait()
        await conn.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})


async def test_sqlite_writers_queue_instead_of_failing_or_losing_updates(tmp_path: Path) -> None:
    engine = await sqlite_counter(tmp_path)
    try:
        first_read, second_read, go = asyncio.Event(), asyncio.Event(), asyncio.Event()
        first = asyncio.create_task(increment(engine, first_read, go))
        await first_read.wait()
        # BEGIN IMMEDIATE: the second transaction waits for the first to commit before it reads.
        second = asyncio.create_task(increment(engine, second_read, go))
        await asyncio.sleep(0.2)
        assert not second_read.is_set()
        go.set()
        await asyncio.gather(first, second)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT n FROM counter"))).scalar_one() == 2
    finally:
        await engine.dispose()


async def test_deferred_transactions_are_what_would_fail(tmp_path: Path) -> None:
    # The failure BEGIN IMMEDIATE prevents: a deferred transaction reads, another commits a
    # write, and the first can no longer become a writer (its snapshot is stale). SQLite fails
    # it at once, busy_timeout or not.
    engine = read_only(await sqlite_counter(tmp_path, sqlite_busy_timeout_ms=2000))

    async def read_then_write_after_someone_else() -> None:
        async with engine.begin() as stale:
            await stale.execute(text("SELECT n FROM counter"))
            async with engine.begin() as writer:
                await writer.execute(text("UPDATE counter SET n = n + 1"))
            await stale.execute(text("UPDATE counter SET n = n + 1"))

    try:
        with pytest.raises(OperationalError, match="locked"):
            await read_then_write_after_someone_else()
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT n FROM counter"))).scalar_one() == 1
    finally:
        await engine.dispose()


async def test_the_shared_engine_answers_and_postgres_sessions_are_utc(
    engine: AsyncEngine, backend: str
) -> None:
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
        if backend == "postgres":
            assert (await conn.execute(text("SHOW timezone"))).scalar_one() == "UTC"
        else:
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1


@pytest.mark.parametrize(
    "url",
    ["sqlite:///x.db", "postgresql://u@h/db", "postgresql+psycopg://u@h/db", "mysql+aiomysql://u@h/db"],
)
def test_only_the_two_async_drivers_are_accepted(url: str) -> None:
    with pytest.raises(ValueError, match=r"aiosqlite|asyncpg|unsupported"):
        create_engine(url)

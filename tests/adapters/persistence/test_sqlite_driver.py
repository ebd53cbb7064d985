"""The SQLite driver shim: one worker-thread round trip per statement, and otherwise exactly what
SQLAlchemy's stock aiosqlite cursor gives (rows, row counts, RETURNING, executemany, errors,
streamed results)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.engine import create_engine
from adapters.persistence.sqlite_driver import OneTripCursor


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def worker_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the functions queued on aiosqlite's worker thread."""
    calls: list[str] = []
    original = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return calls


async def test_a_statement_is_one_round_trip_to_the_worker_thread(
    engine: AsyncEngine, worker_calls: list[str]
) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
        worker_calls.clear()
        rows = (await conn.execute(text("SELECT 1 UNION ALL SELECT 2"))).all()
        assert worker_calls == ["_execute"]
        assert [tuple(r) for r in rows] == [(1,), (2,)]


async def test_begin_travels_with_the_first_statement(engine: AsyncEngine, worker_calls: list[str]) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
        await conn.commit()
        worker_calls.clear()
        async with conn.begin():
            await conn.execute(text("INSERT INTO item (name) VALUES ('x')"))
            assert worker_calls == ["_execute"]  # BEGIN IMMEDIATE and the INSERT in one call
            in_transaction = await conn.exec_driver_sql("SELECT count(*) FROM item")
            assert in_transaction.scalar_one() == 1
        assert worker_calls == ["_execute", "_execute", "commit"]
        worker_calls.clear()
        async with conn.begin():
            pass  # nothing ran: neither BEGIN nor COMMIT is sent
        assert worker_calls == []


async def test_a_deferred_begin_still_takes_the_write_lock_first(tmp_path: Path) -> None:
    """The second writer waits for the first one's commit before its first statement runs."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'lock.db'}"
    first, second = create_engine(url), create_engine(url, sqlite_busy_timeout_ms=100)
    try:
        async with first.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        async with first.begin() as holder:
            await holder.execute(text("INSERT INTO t VALUES (1)"))
            with pytest.raises(OperationalError, match="locked"):
                async with second.begin() as waiter:
                    await waiter.execute(text("SELECT count(*) FROM t"))
        async with second.begin() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 1
    finally:
        await first.dispose()
        await second.dispose()


async def test_rows_counts_returning_and_executemany(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        inserted = await conn.execute(
            text("INSERT INTO item (name) VALUES (:name)"), [{"name": "a"}, {"name": "b"}, {"name": "c"}]
        )
        assert inserted.rowcount == 3
        one = await conn.execute(text("INSERT INTO item (name) VALUES ('d')"))
        assert one.lastrowid == 4
        returned = await conn.execute(text("INSERT INTO item (name) VALUES ('e') RETURNING id, name"))
        assert [tuple(r) for r in returned] == [(5, "e")]
        updated = await conn.execute(text("UPDATE item SET name = name || '!' WHERE id <= 2"))
        assert updated.rowcount == 2
        missed = await conn.execute(text("UPDATE item SET name = 'x' WHERE id = 99"))
        assert missed.rowcount == 0
        names = (await conn.execute(text("SELECT name FROM item ORDER BY id"))).scalars().all()
        assert names == ["a!", "b!", "c", "d", "e"]
        first = (await conn.execute(text("SELECT id FROM item ORDER BY id"))).first()
        assert first is not None
        assert first.id == 1


async def test_errors_are_the_dbapi_errors_and_the_connection_stays_usable(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO item (name) VALUES ('same')"))
        with pytest.raises(IntegrityError):
            await conn.execute(text("INSERT INTO item (name) VALUES ('same')"))
        await conn.rollback()
        assert (await conn.execute(text("SELECT count(*) FROM item"))).scalar_one() == 0


async def test_streamed_results_still_fetch_in_batches(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO item (name) VALUES (:name)"), [{"name": f"n{i}"} for i in range(250)]
        )
    async with engine.connect() as conn:
        result = await conn.stream(text("SELECT id FROM item ORDER BY id"))
        ids = [row.id async for row in result]
    assert ids == list(range(1, 251))


async def test_the_engine_uses_the_one_trip_cursor(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.dbapi_connection.cursor(), OneTripCursor)  # type: ignore[union-attr]


async def test_wal_commits_are_not_synced_one_by_one(engine: AsyncEngine) -> None:
    """synchronous = NORMAL (1): the WAL is synced at checkpoints, not at every commit."""
    async with engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA synchronous"))).scalar_one() == 1
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"


async def test_a_connection_back_after_a_commit_is_not_rolled_back_again(
    engine: AsyncEngine, worker_calls: list[str]
) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
        await conn.commit()
    worker_calls.clear()
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO item (name) VALUES ('kept')"))
    # one call for BEGIN and the INSERT, one COMMIT; the pool's reset on return sends nothing
    assert worker_calls == ["_execute", "commit"]
    worker_calls.clear()
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO item (name) VALUES ('dropped')"))
    # the connection came back inside a transaction: that one is rolled back
    assert worker_calls == ["_execute", "rollback"]
    async with engine.connect() as conn:
        names = (await conn.execute(text("SELECT name FROM item"))).scalars().all()
    assert names == ["kept"]

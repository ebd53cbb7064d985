"""Database fixtures shared by the whole suite: every database test runs on SQLite and PostgreSQL.

Fixtures
--------
``backend``          "sqlite" or "postgres" (session-scoped parameter; the postgres parameter
                     carries the ``postgres`` marker, so ``-m "not postgres"`` deselects it).
``db_url``           URL of a database migrated to the newest revision, one per backend per test
                     session: a temp SQLite file, or a fresh PostgreSQL database
                     ``canon_test_<random>`` created on the server and dropped at the end.
``engine``           an ``AsyncEngine`` (from ``adapters.persistence.engine.create_engine``) on
                     ``db_url``, with every table emptied before the test starts.
``session_factory``  ``async_sessionmaker`` on ``engine`` configured like the application's.
``session``          one ``AsyncSession`` from it (closed after the test; uncommitted work is
                     rolled back).
``fresh_db_url``     URL of an EMPTY (unmigrated) database of its own, for migration tests.

Isolation strategy: the schema is migrated once per backend per session; ``engine`` deletes the
rows of every table at setup (children first; ``alembic_version`` is kept). Rolled-back
transactions with SAVEPOINTs would be faster but break as soon as code under test commits,
opens a second connection or tests concurrency, which adapters here must do; emptying ~50
tables costs a few milliseconds. Cleaning at setup (not teardown) means a test that crashed
mid-way cannot leak rows into the next one, and a test may look at its rows after it failed.

Environment
-----------
``CANON_TEST_BACKENDS``  comma-separated subset of "sqlite,postgres" (default: both). PostgreSQL
                         being unreachable FAILS the postgres tests, loudly; set
                         ``CANON_TEST_BACKENDS=sqlite`` to run without it on purpose.
``CANON_TEST_PG_URL``    server URL (default ``postgresql+asyncpg://postgres@127.0.0.1:5432/``);
                         the database part is ignored, test databases are created beside it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy import delete, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql.expression import Executable

from adapters.persistence.engine import create_engine
from adapters.persistence.migrate import upgrade
from adapters.persistence.models import Base

T = TypeVar("T")

KNOWN_BACKENDS = ("sqlite", "postgres")
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/"


def _selected_backends() -> list[str]:
    raw = os.environ.get("CANON_TEST_BACKENDS", ",".join(KNOWN_BACKENDS))
    chosen = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(KNOWN_BACKENDS))
    if unknown or not chosen:
        raise pytest.UsageError(f"CANON_TEST_BACKENDS={raw!r}: choose from {', '.join(KNOWN_BACKENDS)}")
    return [name for name in KNOWN_BACKENDS if name in chosen]


def _backend_params() -> list[Any]:
    marks = {"postgres": [pytest.mark.postgres]}
    return [pytest.param(name, id=name, marks=marks.get(name, [])) for name in _selected_backends()]


def run_blocking(factory: Callable[[], Awaitable[T]]) -> T:
    """Runs a coroutine to completion on a private event loop in a worker thread, so sync
    (session-scoped) fixtures can do async setup without touching pytest-asyncio's loops."""

    async def main() -> T:
        return await factory()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


# ---- PostgreSQL server administration ----------------------------------------------------


def _pg_server_url() -> str:
    return os.environ.get("CANON_TEST_PG_URL", DEFAULT_PG_URL)


def _pg_database_url(name: str) -> str:
    url = make_url(_pg_server_url()).set(database=name)
    return url.render_as_string(hide_password=False)


def _pg_admin_dsn() -> str:
    url = make_url(_pg_server_url()).set(drivername="postgresql", database="postgres")
    return url.render_as_string(hide_password=False)


async def _pg_admin(*statements: str) -> None:
    conn = await asyncpg.connect(_pg_admin_dsn(), timeout=10)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def _pg_create_database(prefix: str) -> tuple[str, str]:
    name = f"{prefix}_{secrets.token_hex(6)}"
    run_blocking(lambda: _pg_admin(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'"))
    return name, _pg_database_url(name)


def _pg_drop_database(name: str) -> None:
    run_blocking(lambda: _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


_pg_reachable: bool | None = None


def _require_postgres() -> None:
    """Fails (never skips) when the PostgreSQL server cannot be reached."""
    global _pg_reachable
    if _pg_reachable is None:
        reason = ""
        try:
            run_blocking(lambda: _pg_admin("SELECT 1"))
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
        _pg_reachable = not reason
        if reason:
            pytest.fail(
                f"PostgreSQL is unreachable at {make_url(_pg_server_url()).render_as_string()} ({reason}). "
                "Start it (scripts/services) or set CANON_TEST_BACKENDS=sqlite to run SQLite only.",
                pytrace=False,
            )
    if not _pg_reachable:
        pytest.fail("PostgreSQL is unreachable (see the first failure)", pytrace=False)


# ---- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session", params=_backend_params())
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgres":
        _require_postgres()
    return name


@pytest.fixture(scope="session")
def db_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "canon-test.db"
        url = f"sqlite+aiosqlite:///{path}"
        run_blocking(lambda: upgrade(url))
        yield url
        return
    name, url = _pg_create_database("canon_test")
    try:
        run_blocking(lambda: upgrade(url))
        yield url
    finally:
        _pg_drop_database(name)


@pytest.fixture
def fresh_db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    name, url = _pg_create_database("canon_test_fresh")
    try:
        yield url
    finally:
        _pg_drop_database(name)


_cleanup_scripts: dict[str, str] = {}


def _cleanup_script(engine: AsyncEngine) -> str:
    """The DELETE script for this dialect, compiled once per session."""
    dialect = engine.dialect
    if dialect.name not in _cleanup_scripts:
        statements: list[Executable] = []
        for table in Base.metadata.sorted_tables:
            for fk in table.foreign_key_constraints:
                if fk.use_alter:
                    values: dict[str, Any] = {column.name: None for column in fk.columns}
                    # Keep onupdate columns (updated_at) as they are: this is cleanup, not an update.
                    values |= {c.name: c for c in table.columns if c.onupdate is not None}
                    statements.append(update(table).values(values))
        statements += [delete(table) for table in reversed(Base.metadata.sorted_tables)]
        _cleanup_scripts[dialect.name] = ";\n".join(
            str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]
            for statement in statements
        )
    return _cleanup_scripts[dialect.name]


async def empty_all_tables(engine: AsyncEngine) -> None:
    """Deletes every row of every model table (not ``alembic_version``), children first, in
    one transaction and one round trip.

    Foreign keys declared with ``use_alter`` close cycles (chatbot.current_version_id), so they
    are cleared first; the rest of the tables are deleted in reverse dependency order.
    """
    script = _cleanup_script(engine)
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        if engine.dialect.name == "postgresql":
            # asyncpg runs a multi-statement script as one implicit transaction.
            await raw.execute(script)  # type: ignore[union-attr]
        else:
            await raw.executescript(f"BEGIN IMMEDIATE;\n{script};\nCOMMIT;")  # type: ignore[union-attr]


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(db_url)
    try:
        await empty_all_tables(eng)
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@pytest.fixture
async def session(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with session_factory() as s:
        yield s

"""The async engine for SQLite (embedded default) and PostgreSQL (cluster).

SQLite is tuned for one process with many concurrent tasks:

- WAL journal: readers never block the writer and the writer never blocks readers.
- ``foreign_keys=ON``: SQLite ignores foreign keys unless asked, per connection.
- ``busy_timeout``: a connection waits for the write lock instead of failing at once.
- Transactions start with ``BEGIN IMMEDIATE``: the write lock is taken at the start. With the
  default deferred BEGIN, two transactions that both read and then write deadlock on the lock
  upgrade and one fails with "database is locked" *without* waiting for busy_timeout (SQLite
  cannot let it wait: its snapshot is stale). Taking the lock up front makes writers queue
  behind each other for up to busy_timeout instead. Purely read-only work can opt out with
  ``read_only(engine)`` (deferred BEGIN), which in WAL mode never waits for a writer.
- ``synchronous = NORMAL``: in WAL mode a commit appends to the WAL without an fsync; the WAL
  is synced at checkpoints. The database can never be corrupted by a crash this way; a power
  loss (not a process crash) may lose the last transactions before the checkpoint. That is the
  setting SQLite recommends with WAL; FULL would add an fsync to every commit (every chat
  turn commits), which on a shared disk costs milliseconds each.
- Statements run through ``sqlite_driver``: aiosqlite with one worker-thread round trip per
  statement instead of SQLAlchemy's four (see that module).

The sqlite3 driver's own transaction handling is switched off (``isolation_level = None``)
and SQLAlchemy's ``begin`` event emits the BEGIN, the recipe in the SQLAlchemy SQLite docs; it
also makes DDL transactional, so a failed migration leaves nothing half-applied.

PostgreSQL uses asyncpg with a bounded pool, pre-ping (a connection dropped by a restart or a
proxy is replaced instead of failing a request) and recycling, and sessions in UTC.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from adapters.persistence import sqlite_driver

SQLITE_BEGIN_OPTION = "canon_sqlite_begin"
"""Execution option selecting the SQLite BEGIN mode: "IMMEDIATE" (default), "DEFERRED", or
"NONE": no BEGIN at all, each statement commits by itself (see ``AUTOCOMMIT``)."""

_BEGIN_MODES = {"IMMEDIATE", "DEFERRED", "EXCLUSIVE", "NONE"}

AUTOCOMMIT = {
    "sqlite": {SQLITE_BEGIN_OPTION: "NONE"},
    "postgresql": {"isolation_level": "AUTOCOMMIT"},
}
"""Per dialect, the connection execution options under which each statement commits by itself,
with no transaction held open between statements. SQLite's own connection is always in that
mode (the engine sends every BEGIN itself), so not sending one is all it takes; SQLAlchemy's
AUTOCOMMIT isolation level would instead flip the sqlite3 connection's mode, with a worker round
trip each way. On PostgreSQL, asyncpg simply starts no transaction."""


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(
    url: str | URL,
    *,
    echo: bool = False,
    pool_size: int = 10,
    max_overflow: int = 10,
    pool_timeout: float = 30.0,
    pool_recycle: int = 1800,
    sqlite_busy_timeout_ms: int = 15_000,
    sqlite_foreign_keys: bool = True,
    application_name: str = "canon",
) -> AsyncEngine:
    """An async engine for ``sqlite+aiosqlite://`` or ``postgresql+asyncpg://`` URLs.

    ``sqlite_foreign_keys=False`` exists for migrations only: SQLite batch migrations copy and
    drop tables, and with foreign keys enforced dropping a parent table would cascade-delete
    its children's rows (``migrate.py`` checks the keys itself afterwards).
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(
            parsed,
            echo=echo,
            busy_timeout_ms=sqlite_busy_timeout_ms,
            foreign_keys=sqlite_foreign_keys,
        )
    if backend == "postgresql":
        if parsed.get_driver_name() != "asyncpg":
            raise ValueError("PostgreSQL URLs must use the asyncpg driver: postgresql+asyncpg://...")
        return create_async_engine(
            parsed,
            echo=echo,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            pool_recycle=pool_recycle,
            pool_pre_ping=True,
            connect_args={"server_settings": {"application_name": application_name, "timezone": "UTC"}},
        )
    raise ValueError(f"unsupported database {backend!r}: use sqlite+aiosqlite:// or postgresql+asyncpg://")


def read_only(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (same pool) whose SQLite transactions begin DEFERRED: for read-only
    work that should never queue behind a writer. On PostgreSQL it changes nothing."""
    return engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})


def _sqlite_engine(url: URL, *, echo: bool, busy_timeout_ms: int, foreign_keys: bool) -> AsyncEngine:
    if url.get_driver_name() != "aiosqlite":
        raise ValueError("SQLite URLs must use the aiosqlite driver: sqlite+aiosqlite:///path/to/file.db")
    in_memory = url.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {"echo": echo, "module": sqlite_driver.dbapi()}
    if in_memory:
        # One shared connection, or every checkout would see a different empty database.
        kwargs["poolclass"] = StaticPool
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see below)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                # With WAL, NORMAL only risks the last transactions on power loss, not corruption.
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return
        mode = str(options.get(SQLITE_BEGIN_OPTION, "IMMEDIATE")).upper()
        if mode not in _BEGIN_MODES:
            raise ValueError(f"{SQLITE_BEGIN_OPTION} must be one of {sorted(_BEGIN_MODES)}")
        if mode == "NONE":
            return
        driver: Any = conn.connection.dbapi_connection
        if isinstance(driver, sqlite_driver.OneTripConnection):
            driver.begin(f"BEGIN {mode}")  # sent with the first statement (see sqlite_driver)
        else:
            conn.exec_driver_sql(f"BEGIN {mode}")

    return engine

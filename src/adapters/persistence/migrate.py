"""Running the Alembic migrations from code (no alembic.ini): the CLI, ``canon demo``, the
readiness probe and the tests all go through these functions.

Each upgrade or downgrade runs on one connection in one transaction (both databases have
transactional DDL), so a failing revision leaves the schema where it was. On SQLite it runs
with foreign-key enforcement off, because batch migrations rebuild tables by copy-and-drop and
an enforced ``ON DELETE CASCADE`` would empty the children of a dropped parent; instead
``PRAGMA foreign_key_check`` runs before commit and any violation aborts the migration.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.persistence.engine import create_engine, is_sqlite, read_only

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class MigrationError(RuntimeError):
    """A migration left the database inconsistent (and was rolled back)."""


def alembic_config(url: str | URL) -> Config:
    """An Alembic ``Config`` for this project's migrations against ``url``. Usable with any
    ``alembic.command`` function; pass a live connection in ``config.attributes["connection"]``
    to run on it instead of opening a new one."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    rendered = make_url(url).render_as_string(hide_password=False) if not isinstance(url, str) else url
    cfg.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return cfg


def head_revisions() -> tuple[str, ...]:
    """The newest revision(s) in the migration scripts."""
    return tuple(ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://")).get_heads())


async def upgrade(url: str | URL, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``."""
    await _run(url, lambda cfg: command.upgrade(cfg, revision))


async def downgrade(url: str | URL, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``"base"`` drops everything)."""
    await _run(url, lambda cfg: command.downgrade(cfg, revision))


async def current_revision(url: str | URL) -> str | None:
    """The revision the database is at, or None for an empty (unmigrated) database."""
    engine = create_engine(url)
    try:
        async with read_only(engine).connect() as conn:
            return await conn.run_sync(_current)
    finally:
        await engine.dispose()


async def schema_is_current(engine: AsyncEngine) -> bool:
    """True when the database behind ``engine`` is at the newest revision. Reads only, so on
    SQLite it never queues behind a writer."""
    async with read_only(engine).connect() as conn:
        heads = await conn.run_sync(lambda sync: set(MigrationContext.configure(sync).get_current_heads()))
    return heads == set(head_revisions())


async def autogenerate_revision(
    url: str | URL, message: str, *, rev_id: str | None = None, version_path: str | Path | None = None
) -> Path:
    """Writes a new revision with the difference between the models and the database at
    ``url`` (which must be at head) and returns its path. Review the file before committing it:
    renames come out as drop + add, and data migrations are never generated."""
    written: list[Path] = []

    def action(cfg: Config) -> None:
        if version_path is not None:
            locations = [str(MIGRATIONS_DIR / "versions"), str(version_path)]
            cfg.set_main_option("version_locations", os.pathsep.join(locations))
        script = command.revision(
            cfg,
            message=message,
            autogenerate=True,
            rev_id=rev_id,
            version_path=str(version_path) if version_path is not None else None,
        )
        scripts = script if isinstance(script, list) else [script]
        written.extend(Path(s.path) for s in scripts if s is not None)

    await _run(url, action)
    if len(written) != 1:
        raise MigrationError(f"expected one new revision file, got {len(written)}")
    return written[0]


def _current(sync_conn: Connection) -> str | None:
    return MigrationContext.configure(sync_conn).get_current_revision()


async def _run(url: str | URL, action: Any) -> None:
    sqlite = is_sqlite(url)
    engine = create_engine(url, sqlite_foreign_keys=not sqlite, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run_sync, url, action)
            if sqlite:
                await _check_sqlite_foreign_keys(conn)
    finally:
        await engine.dispose()


def _run_sync(sync_conn: Connection, url: str | URL, action: Any) -> None:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = sync_conn
    action(cfg)


async def _check_sqlite_foreign_keys(conn: AsyncConnection) -> None:
    violations = (await conn.execute(text("PRAGMA foreign_key_check"))).fetchall()
    if violations:
        sample = ", ".join(f"{row[0]}(rowid {row[1]}) -> {row[2]}" for row in violations[:5])
        raise MigrationError(f"migration broke {len(violations)} foreign key reference(s): {sample}")

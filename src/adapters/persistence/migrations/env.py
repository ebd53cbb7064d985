"""Alembic environment.

Normally driven by ``adapters.persistence.migrate``, which passes an open connection in
``config.attributes["connection"]``; without one (the ``alembic`` command line, or
``alembic.command`` called with ``migrate.alembic_config(url)``) it opens its own async engine
from ``sqlalchemy.url``.

Migration files must run unchanged on SQLite and PostgreSQL: ``render_as_batch`` makes
autogenerate emit ``batch_alter_table`` blocks (a table rebuild on SQLite, plain ALTERs on
PostgreSQL), and project column types are rendered as the plain SQLAlchemy types they emit
(see ``adapters.persistence.autogen``), so revision files never import application code.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from adapters.persistence.autogen import CONTEXT_OPTIONS, render_item
from adapters.persistence.engine import create_engine, is_sqlite
from adapters.persistence.models import Base

config = context.config
target_metadata = Base.metadata


def configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        **CONTEXT_OPTIONS,
    )


def run_on(connection: Connection) -> None:
    configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_online_with_own_engine() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no sqlalchemy.url configured and no connection passed in")
    engine = create_engine(url, sqlite_foreign_keys=not is_sqlite(url))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(run_on)
    finally:
        await engine.dispose()


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif (shared := config.attributes.get("connection")) is not None:
    run_on(shared)
else:
    asyncio.run(run_online_with_own_engine())

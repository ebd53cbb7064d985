"""What every SQLAlchemy repository shares: atomic writes and explicit locking."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Executable, String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.integrity import conflict_from, is_integrity_error
from application.errors import NotFound

E = TypeVar("E", bound=Executable)


@asynccontextmanager
async def atomic(session: AsyncSession) -> AsyncIterator[None]:
    """One repository write, sent now inside a savepoint.

    Why a savepoint: when a constraint fails, only this write is undone and the surrounding
    transaction stays usable (PostgreSQL would otherwise refuse every further statement), so a
    use case can answer a ``Conflict`` with, say, "read the existing row instead". The error
    becomes a ``Conflict`` with the constraint's code.
    """
    try:
        async with session.begin_nested():
            yield
    except DBAPIError as exc:
        if is_integrity_error(exc):
            raise conflict_from(exc) from exc
        raise


def any_id(column: Any, dialect: str, name: str = "ids") -> ColumnElement[bool]:
    """``column`` is one of the list bound as ``:name``. On PostgreSQL the list is one array
    parameter (``= ANY(:name)``): a batch's few hundred ids as an expanding IN are as many
    parameters, and the statement is about three times slower to bind and run (measured with
    200 ids). SQLite has no arrays: an expanding IN there."""
    if dialect == "postgresql":
        return cast(ColumnElement[bool], column == any_(bindparam(name, type_=ARRAY(String))))
    return cast(ColumnElement[bool], column.in_(bindparam(name, expanding=True)))


def fresh(statement: E) -> E:
    """Reads always refresh the identity map: guarded UPDATEs bypass the ORM objects, and a
    stale object in the session must never be what a repository hands out."""
    return statement.execution_options(populate_existing=True)


async def execute_update(
    session: AsyncSession, statement: Executable, params: dict[str, Any] | None = None
) -> int:
    """Runs an UPDATE/DELETE without touching ORM objects and returns the affected row count."""
    result = await session.execute(statement.execution_options(synchronize_session=False), params)
    return cast(CursorResult[Any], result).rowcount


async def lock_row(session: AsyncSession, column: Any, row_id: str, *, what: str) -> None:
    """``SELECT ... FOR NO KEY UPDATE`` on one row, or ``NotFound``.

    On PostgreSQL this serializes every transaction that locks the same row (they queue until
    the holder commits), which is how "never remove the last primary owner" survives two
    concurrent removals. NO KEY UPDATE rather than UPDATE: inserting a row that references the
    locked one (a conversation of a chatbot whose owners are changing) takes a KEY SHARE lock,
    which FOR UPDATE would make wait and FOR NO KEY UPDATE does not. SQLite has no row locks and
    omits the clause, but needs none: the engine begins every transaction IMMEDIATE, so writing
    transactions run one at a time.
    """
    found = await session.scalar(select(column).where(column == row_id).with_for_update(key_share=True))
    if found is None:
        raise NotFound(f"{what} {row_id!r} does not exist", code=f"{what}-not-found")

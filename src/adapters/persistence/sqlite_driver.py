"""aiosqlite under SQLAlchemy with one thread round trip per statement instead of four.

aiosqlite runs every call on the sqlite3 connection in its own worker thread, and each call is a
round trip: queue the call, wake the worker, wake the event loop with the result. SQLAlchemy's
stock adapter makes four per statement (open a cursor, execute, fetch all rows, close the
cursor); a wake-up costs tens of microseconds, far more than SQLite needs to run a small
statement on a warm page cache. The cursor here does all four in one call on the worker thread
and keeps what SQLAlchemy reads afterwards (rows, description, rowcount, lastrowid), so a
statement costs one round trip. Results are already fully buffered by the stock adapter, so
nothing changes in behaviour: same connection, same thread, same SQL, same errors.

Server-side cursors (``stream_results``) keep the stock behaviour: they fetch in batches, which
needs the live cursor.

It reaches into two of aiosqlite's internals, as SQLAlchemy's own adapter does: ``_execute``
(queue a function on the worker thread) and ``_conn`` (the sqlite3 connection, used only on
that thread). The versions are pinned by the lock file and the whole SQLite test suite runs
through this cursor.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT

_Outcome = tuple[Any, int, int | None, list[Any] | None]


def _execute(conn: sqlite3.Connection, operation: str, parameters: Any) -> _Outcome:
    """Runs on aiosqlite's worker thread: the whole life of one cursor."""
    cursor = conn.cursor()
    try:
        cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def _executemany(conn: sqlite3.Connection, operation: str, seq_of_parameters: Any) -> _Outcome:
    cursor = conn.cursor()
    try:
        cursor.executemany(operation, seq_of_parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement runs in one call on the worker thread."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No driver cursor is opened here (the stock adapter spends a round trip on it).
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        return  # the driver cursor was closed on the worker thread already

    def close(self) -> None:
        self._rows.clear()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            outcome = await self._connection._execute(_execute, self._connection._conn, operation, parameters)
        self._keep(outcome)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            outcome = await self._connection._execute(
                _executemany, self._connection._conn, operation, seq_of_parameters
            )
        self._keep(outcome)

    def _keep(self, outcome: _Outcome) -> None:
        self._description, self._rowcount, self._lastrowid, rows = outcome
        self._rows = collections.deque(rows) if rows is not None else collections.deque()

    def nextset(self) -> None:
        return None

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor  # type: ignore[assignment]


class OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module SQLAlchemy's aiosqlite dialect is given (``create_engine(module=...)``)."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        stock = super().connect(*arg, **kw)
        return OneTripConnection(self, stock._connection)


def dbapi() -> OneTripDbapi:
    return OneTripDbapi(aiosqlite, sqlite3)


__all__: Sequence[str] = ("OneTripCursor", "dbapi")

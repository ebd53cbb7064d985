"""aiosqlite under SQLAlchemy with one thread round trip per statement instead of four.

aiosqlite runs every call on the sqlite3 connection in its own worker thread, and each call is a
round trip: queue the call, wake the worker, wake the event loop with the result. SQLAlchemy's
stock adapter makes four per statement (open a cursor, execute, fetch all rows, close the
cursor); a wake-up costs tens of microseconds, far more than SQLite needs to run a small
statement on a warm page cache. The cursor here does all four in one call on the worker thread
and keeps what SQLAlchemy reads afterwards (rows, description, rowcount, lastrowid), so a
statement costs one round trip. Results are already fully buffered by the stock adapter, so
nothing changes in behaviour: same connection, same thread, same SQL, same errors.

A transaction's ``BEGIN`` (which the engine emits as its own statement, see ``engine``) is not
sent on its own either: it is kept and run in the same worker call as the transaction's first
statement, and a transaction that ends before running any statement never sends it (nor its
COMMIT or ROLLBACK). The lock is taken at the same moment it would have been (SQLAlchemy begins
lazily, right before the first statement); a BEGIN that fails (the write lock not free within
the busy timeout) fails that first statement with the same error.

A COMMIT or ROLLBACK asked for when no transaction is open is not sent either: the sqlite3
connection says whether one is (``in_transaction``, SQLite's own autocommit flag, read without
a round trip), and without one there is nothing to end. The pool asks for a ROLLBACK whenever a
connection comes back after a commit (its reset on return), and a unit of work whose statements
each committed by themselves (the engine's ``NONE`` begin mode) ends with a COMMIT of nothing:
each was a round trip.

The engine hands the BEGIN to the connection directly (``OneTripConnection.begin``) rather than
executing it as a statement; a BEGIN executed as SQL is recognised and kept the same way. Code
that runs statements on the aiosqlite connection itself, around this adapter, must end its own
transactions: the adapter cannot see them.

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
from sqlalchemy.util.concurrency import await_

_Outcome = tuple[Any, int, int | None, list[Any] | None]


def _execute(conn: sqlite3.Connection, begin: str | None, operation: str, parameters: Any) -> _Outcome:
    """Runs on aiosqlite's worker thread: the whole life of one cursor (after a pending BEGIN)."""
    if begin is not None:
        conn.execute(begin)
    cursor = conn.cursor()
    try:
        cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def _executemany(
    conn: sqlite3.Connection, begin: str | None, operation: str, seq_of_parameters: Any
) -> _Outcome:
    if begin is not None:
        conn.execute(begin)
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
        connection = self._adapt_connection
        if _is_begin(operation, parameters):
            connection._pending_begin = operation  # type: ignore[attr-defined]
            self._keep((None, -1, None, None))
            return
        async with connection._execute_mutex:
            begin = connection.take_pending_begin()  # type: ignore[attr-defined]
            outcome = await self._connection._execute(
                _execute, self._connection._conn, begin, operation, parameters
            )
        self._keep(outcome)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        connection = self._adapt_connection
        async with connection._execute_mutex:
            begin = connection.take_pending_begin()  # type: ignore[attr-defined]
            outcome = await self._connection._execute(
                _executemany, self._connection._conn, begin, operation, seq_of_parameters
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
    __slots__ = ("_pending_begin",)
    _cursor_cls = OneTripCursor  # type: ignore[assignment]

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._pending_begin: str | None = None

    def begin(self, statement: str) -> None:
        """Keeps ``statement`` (a ``BEGIN ...``) to send with the next statement."""
        self._pending_begin = statement

    def take_pending_begin(self) -> str | None:
        begin, self._pending_begin = self._pending_begin, None
        return begin

    def _in_transaction(self) -> bool:
        # sqlite3_get_autocommit() behind it: a flag read, safe from this thread while no
        # statement runs on the worker (SQLAlchemy only ends a transaction between statements).
        # A connection already closed answers True: the stock call then reports it as before.
        driver = self._connection._connection
        return driver is None or bool(driver.in_transaction)

    def commit(self) -> None:
        self._pending_begin = None  # kept but never sent: nothing ran
        if self._in_transaction():
            super().commit()

    def rollback(self) -> None:
        self._pending_begin = None
        if self._in_transaction():
            super().rollback()

    def cursor(self, server_side: bool = False) -> Any:
        if server_side and self._pending_begin is not None:
            # A streamed cursor runs its statement the stock way: send the BEGIN first.
            begin = self.take_pending_begin()
            try:
                await_(self._connection._execute(self._connection._conn.execute, begin))
            except Exception as error:
                self._handle_exception(error)
        return super().cursor(server_side)


class OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module SQLAlchemy's aiosqlite dialect is given (``create_engine(module=...)``)."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        stock = super().connect(*arg, **kw)
        return OneTripConnection(self, stock._connection)


def _is_begin(operation: Any, parameters: Any) -> bool:
    return not parameters and isinstance(operation, str) and operation.startswith("BEGIN")


def dbapi() -> OneTripDbapi:
    return OneTripDbapi(aiosqlite, sqlite3)


__all__: Sequence[str] = ("OneTripCursor", "dbapi")

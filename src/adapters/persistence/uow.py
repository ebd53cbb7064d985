"""The unit of work over the request's ``AsyncSession``.

Repositories share the same session (the container hands every REQUEST-scoped repository the
one session of that request); this class only decides the transaction's fate. A constraint the
database enforces becomes a ``Conflict`` with a stable code (``integrity.conflict_from``) and
the transaction is rolled back, so the session is usable again and nothing half-done remains.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.engine import AUTOCOMMIT
from adapters.persistence.integrity import conflict_from, is_integrity_error

logger = logging.getLogger(__name__)

AfterCommitHook = Callable[[], Awaitable[None]]


class SqlAlchemyUnitOfWork:
    """``UnitOfWork`` for SQLite and PostgreSQL."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._hooks: list[AfterCommitHook] = []

    async def commit(self) -> None:
        try:
            await self._session.commit()
        except DBAPIError as exc:
            await self._abandon()
            if is_integrity_error(exc):
                raise conflict_from(exc) from exc
            raise
        hooks, self._hooks = self._hooks, []
        for hook in hooks:
            # The data is durable already: a failing hook (waking a worker, say) must not make
            # the caller believe the commit failed. Work that must not be lost is in the outbox.
            try:
                await hook()
            except Exception:
                logger.exception("after-commit hook %r failed", hook)

    async def rollback(self) -> None:
        await self._discard()

    async def flush(self) -> None:
        try:
            await self._session.flush()
        except DBAPIError as exc:
            # After a failed flush the transaction is unusable (PostgreSQL aborts it), so end it.
            await self._abandon()
            if is_integrity_error(exc):
                raise conflict_from(exc) from exc
            raise

    def after_commit(self, hook: AfterCommitHook) -> None:
        self._hooks.append(hook)

    async def autocommit(self) -> None:
        if self._session.in_transaction():
            return  # begun already: the work keeps its one transaction (see the port)
        dialect = self._session.get_bind().dialect.name
        await self._session.connection(execution_options=AUTOCOMMIT[dialect])

    async def _discard(self) -> None:
        self._hooks.clear()
        await self._session.rollback()

    async def _abandon(self) -> None:
        """Rollback after a failure: if the connection is gone too, the original error is the
        one worth raising, so a failing rollback is only logged."""
        try:
            await self._discard()
        except Exception:
            logger.exception("rollback after a failed commit/flush failed too")

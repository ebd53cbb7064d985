"""The in-memory database behind the fake repositories, and its transactions.

The fakes must behave like the SQL adapters wherever the core relies on it (one contract suite
runs against all of them), including rollback and races:

- ``InMemoryStore`` holds committed data (domain objects, always copied in and out, so a caller
  mutating what it read changes nothing until it writes it back).
- ``InMemorySession`` is the fake's ``AsyncSession``: a transaction that snapshots the store on
  its first use and restores the snapshot on rollback. Like SQLite with ``BEGIN IMMEDIATE``, a
  transaction holds the store from its first use until it ends, so concurrent transactions run
  one after another and the guarded updates and roster rules see each other's commits.
- ``InMemoryUnitOfWork`` decides the transaction's fate, as ``SqlAlchemyUnitOfWork`` does.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, fields
from types import TracebackType
from typing import TypeVar

from application.catalogue.ports import ShareSetVersion
from application.errors import Conflict
from domain.catalogue import Creator, Source, SourceFile, User
from domain.chatbots import Chatbot, ChatbotVersion
from domain.conversations import Conversation

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Tables:
    users: dict[str, User] = field(default_factory=dict)
    creators: dict[str, Creator] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    share_history: dict[str, list[ShareSetVersion]] = field(default_factory=dict)
    files: dict[str, SourceFile] = field(default_factory=dict)
    chatbots: dict[str, Chatbot] = field(default_factory=dict)
    personas: dict[str, str] = field(default_factory=dict)  # chatbot id -> creator it speaks for
    versions: dict[str, ChatbotVersion] = field(default_factory=dict)
    conversations: dict[str, Conversation] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))


class InMemoryStore:
    """Committed data of the fake adapters; share one per test (or per process)."""

    def __init__(self) -> None:
        self.tables = Tables()
        self.lock = asyncio.Lock()

    def is_empty(self) -> bool:
        return self.tables.is_empty()


class InMemorySession:
    """One transaction over an ``InMemoryStore`` (the request's session, REQUEST-scoped)."""

    def __init__(self, store: InMemoryStore, *, busy_timeout: float = 5.0) -> None:
        self._store = store
        self._busy_timeout = busy_timeout
        self._snapshot: Tables | None = None

    @property
    def in_transaction(self) -> bool:
        return self._snapshot is not None

    async def tables(self) -> Tables:
        """The live tables, beginning the transaction if needed."""
        if self._snapshot is None:
            try:
                await asyncio.wait_for(self._store.lock.acquire(), self._busy_timeout)
            except TimeoutError:
                # In a test this nearly always means another session of the same store was left
                # open (not committed or rolled back) in the same task.
                raise Conflict(
                    "the in-memory store is held by another open transaction; commit or roll it back",
                    code="concurrent-update",
                ) from None
            self._snapshot = copy.deepcopy(self._store.tables)
        return self._store.tables

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[Tables]:
        """One repository write: undone entirely if it raises (the SQL adapters' savepoint)."""
        tables = await self.tables()
        before = copy.deepcopy(tables)
        try:
            yield tables
        except BaseException:
            self._restore(before)
            raise

    async def commit(self) -> None:
        if self._snapshot is not None:
            self._snapshot = None
            self._store.lock.release()

    async def rollback(self) -> None:
        if self._snapshot is not None:
            self._restore(self._snapshot)
            self._snapshot = None
            self._store.lock.release()

    async def close(self) -> None:
        """End of the request: whatever was not committed is rolled back."""
        await self.rollback()

    async def __aenter__(self) -> InMemorySession:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def _restore(self, tables: Tables) -> None:
        for f in fields(tables):
            setattr(self._store.tables, f.name, getattr(tables, f.name))


class InMemoryUnitOfWork:
    """``UnitOfWork`` over an ``InMemorySession``."""

    def __init__(self, session: InMemorySession) -> None:
        self._session = session
        self._hooks: list[Callable[[], Awaitable[None]]] = []

    async def commit(self) -> None:
        await self._session.commit()
        hooks, self._hooks = self._hooks, []
        for hook in hooks:
            try:
                await hook()
            except Exception:
                logger.exception("after-commit hook %r failed", hook)

    async def rollback(self) -> None:
        self._hooks.clear()
        await self._session.rollback()

    async def flush(self) -> None:
        """Fake writes check their constraints as they happen: nothing is pending."""

    def after_commit(self, hook: Callable[[], Awaitable[None]]) -> None:
        self._hooks.append(hook)

    async def autocommit(self) -> None:
        """Ignored (the port allows it): fake writes lock the whole store until the commit, which
        the callers of this mode always reach right after their one write."""


def copied(value: T) -> T:
    """A private copy, so stored objects never alias what callers hold."""
    return copy.deepcopy(value)

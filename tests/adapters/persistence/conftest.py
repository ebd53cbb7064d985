"""Fixtures local to the persistence tests."""

from __future__ import annotations

import pytest
from persistence_rows import Rows
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@pytest.fixture
def rows(session_factory: async_sessionmaker[AsyncSession]) -> Rows:
    return Rows(session_factory)

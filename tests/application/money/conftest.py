from __future__ import annotations

import pytest
from money_rig import MoneyRig
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker


@pytest.fixture
def rig(engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]) -> MoneyRig:
    """The money use cases on an emptied database (SQLite and PostgreSQL)."""
    return MoneyRig(engine, session_factory)

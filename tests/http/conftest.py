"""Fixtures for HTTP tests: the real app (real container, real database on SQLite and
PostgreSQL, in-process job runner) behind Litestar's async test client.

- ``http_settings``: settings on the test database (tables emptied by ``engine``), a temp data
  directory, the in-memory vector index; ``settings_overrides`` (a dict fixture a test module may
  override) changes any of them.
- ``app`` / ``client``: the app with its lifespan running (so ``app.state.job_runner`` exists).
- ``sign_in(email, operator=False)``: headers of a signed-in user (a token from the embedded
  local issuer); the user mirror is created on first use and ``headers["x-test-user-id"]`` holds
  the user's id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.identity.local_issuer import LocalTokenIssuer
from adapters.persistence.models import User
from entrypoints.runtime import build_http_app
from entrypoints.settings import Settings, load_settings

SignIn = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
def http_settings(
    engine: AsyncEngine, db_url: str, tmp_path: Path, settings_overrides: dict[str, Any]
) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "data_dir": tmp_path / "data",
        "vector_backend": "memory",
        "rate_limit_per_minute": 10_000,
        "log_format": "console",
    }
    values.update(settings_overrides)
    return load_settings({}, **values)


@pytest.fixture
async def app(http_settings: Settings) -> Litestar:
    return build_http_app(http_settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app) as c:
        yield c


@pytest.fixture
def issuer(http_settings: Settings) -> LocalTokenIssuer:
    http_settings.data_dir.mkdir(parents=True, exist_ok=True)
    return LocalTokenIssuer.from_data_dir(http_settings.data_dir)


@pytest.fixture
def sign_in(client: AsyncTestClient[Litestar], issuer: LocalTokenIssuer, engine: AsyncEngine) -> SignIn:
    async def _sign_in(email: str, *, operator: bool = False) -> dict[str, str]:
        token = issuer.issue(f"user_{email}", email, timedelta(hours=1))
        headers = {"Authorization": f"Bearer {token}"}
        r = await client.get("/v1/me", headers=headers)
        assert r.status_code == 200, r.text
        user_id = r.json()["user_id"]
        if operator:
            async with engine.begin() as conn:
                await conn.execute(update(User).where(User.id == user_id).values(platform_role="OPERATOR"))
        return {**headers, "x-test-user-id": user_id}

    return _sign_in

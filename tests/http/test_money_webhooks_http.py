"""A configured processor without a webhook secret refuses every delivery (503), and nothing is
stored: an empty secret would make any signature forgeable."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.persistence.models import WebhookEvent


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"payment_processor": "stripe", "stripe_api_key": "sk_test_offline", "stripe_webhook_secret": ""}


async def test_an_empty_secret_disables_the_endpoint(
    client: AsyncTestClient[Litestar], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    r = await client.post(
        "/v1/webhooks/stripe",
        content=b'{"id":"evt_1","type":"payment_intent.succeeded"}',
        headers={"Stripe-Signature": "t=1700000000,v1=" + "0" * 64},
    )
    assert r.status_code == 503
    assert r.json()["code"] == "webhook-endpoint-disabled"
    # the sandbox is not configured in this deployment: no endpoint for it
    assert (await client.post("/v1/webhooks/sandbox", content=b"{}")).status_code == 404
    async with session_factory() as s:
        assert await s.scalar(select(func.count()).select_from(WebhookEvent)) == 0

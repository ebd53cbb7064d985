"""Claim on sign-in: anonymous conversations move to the account exactly once, also under races."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.models import AuditLog, Chatbot, ChatbotVersion, Conversation, User
from domain.ids import new_id

Client = AsyncTestClient[Litestar]


async def anonymous_conversations(engine: AsyncEngine, anonymous_id: str, n: int) -> list[str]:
    """Rows as the chat use cases would leave them (this test is about the claim only)."""
    author, bot, version = new_id(), new_id(), new_id()
    ids = [new_id() for _ in range(n)]
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(
            User.__table__.insert().values(id=author, clerk_id=f"author-{author}", email="a@x")
        )
        common = {
            "system_prompt": "p",
            "model_provider": "offline",
            "model_name": "extractive",
            "pinecone_ns": "ns",
            "vector_namespace": "ns",
            "price_cents": 0,
            "currency": "USD",
            "type": "FRAMEWORK",
            "title": "Bot",
        }
        await conn.execute(Chatbot.__table__.insert().values(id=bot, slug=f"bot-{bot[-12:]}", **common))
        await conn.execute(
            ChatbotVersion.__table__.insert().values(
                id=version, chatbot_id=bot, version_number=1, created_by_user_id=author, **common
            )
        )
        for cid in ids:
            await conn.execute(
                Conversation.__table__.insert().values(
                    id=cid,
                    chatbot_id=bot,
                    chatbot_version_id=version,
                    anonymous_id=anonymous_id,
                    message_allowance=10,
                    expires_at=now + timedelta(days=1),
                )
            )
    return ids


async def owners(engine: AsyncEngine, ids: list[str]) -> set[str | None]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(Conversation.user_id).where(Conversation.id.in_(ids)))
        return {r[0] for r in rows}


async def new_anonymous_id(client: Client) -> tuple[str, str]:
    signed = (await client.post("/v1/anonymous-ids")).json()["anonymous_id"]
    me = (await client.get("/v1/me", headers={"X-Canon-Anonymous-Id": signed})).json()
    client.cookies.clear()  # the tests say explicitly which id each request carries
    return signed, me["anonymous_id"]


async def test_sign_in_claims_anonymous_conversations_once(
    client: Client, sign_in: Any, engine: AsyncEngine
) -> None:
    signed, anon = await new_anonymous_id(client)
    ids = await anonymous_conversations(engine, anon, 3)
    user = await sign_in("claimer@example.com")
    headers = {"Authorization": user["Authorization"], "X-Canon-Anonymous-Id": signed}
    r = await client.post("/v1/me/claim", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["conversations_claimed"] == 3
    assert await owners(engine, ids) == {user["x-test-user-id"]}
    again = await client.post("/v1/me/claim", headers=headers)
    assert again.json()["conversations_claimed"] == 0
    async with engine.connect() as conn:
        audits = (await conn.execute(select(AuditLog.action))).scalars().all()
    assert audits == ["anonymous.claimed"]


async def test_only_the_holder_of_the_signed_id_can_claim(
    client: Client, sign_in: Any, engine: AsyncEngine
) -> None:
    signed, anon = await new_anonymous_id(client)
    ids = await anonymous_conversations(engine, anon, 1)
    user = await sign_in("thief@example.com")
    forged = f"{anon}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    r = await client.post(
        "/v1/me/claim", headers={"Authorization": user["Authorization"], "X-Canon-Anonymous-Id": forged}
    )
    assert r.status_code == 401
    r = await client.post("/v1/me/claim", headers={"Authorization": user["Authorization"]})
    assert r.status_code == 422
    assert r.json()["code"] == "anonymous-id-missing"
    r = await client.post("/v1/me/claim", headers={"X-Canon-Anonymous-Id": signed})
    assert r.status_code == 401
    assert await owners(engine, ids) == {None}


async def test_two_accounts_racing_for_one_anonymous_id_one_wins(
    client: Client, sign_in: Any, engine: AsyncEngine
) -> None:
    signed, anon = await new_anonymous_id(client)
    ids = await anonymous_conversations(engine, anon, 4)
    a = await sign_in("racer-a@example.com")
    b = await sign_in("racer-b@example.com")
    results = await asyncio.gather(
        *(
            client.post(
                "/v1/me/claim", headers={"Authorization": u["Authorization"], "X-Canon-Anonymous-Id": signed}
            )
            for u in (a, b, a, b)
        )
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 200, 409, 409]
    winners = {r.json()["anonymous_id"] for r in results if r.status_code == 200}
    assert len(winners) == 1
    assert sum(r.json()["conversations_claimed"] for r in results if r.status_code == 200) == 4
    (owner,) = await owners(engine, ids)
    assert owner in {a["x-test-user-id"], b["x-test-user-id"]}
    assert all(r.json()["code"] == "anonymous-id-claimed" for r in results if r.status_code == 409)

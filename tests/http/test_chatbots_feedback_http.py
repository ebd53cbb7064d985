"""Ratings and reports over HTTP (SQLite and PostgreSQL): each pins the chatbot and the version
the conversation ran on, even after a newer version went live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.models import Conversation, Creator, CreatorUser, Rating, Report
from domain.ids import new_id

Client = AsyncTestClient[Litestar]


async def setup(client: Client, sign_in: Any, engine: AsyncEngine) -> dict[str, Any]:
    ana = await sign_in("ana@feedback.example")
    fan = await sign_in("fan@feedback.example")
    other = await sign_in("other@feedback.example")
    creator = new_id()
    async with engine.begin() as conn:
        await conn.execute(Creator.__table__.insert().values(id=creator, name="Ana", slug="ana"))
        await conn.execute(
            CreatorUser.__table__.insert().values(
                id=new_id(), creator_id=creator, user_id=ana["x-test-user-id"], role="OWNER"
            )
        )
    bot = (
        await client.post(f"/v1/creators/{creator}/chatbots", headers=ana, json={"title": "Rated Bot"})
    ).json()
    await client.post(f"/v1/chatbots/{bot['id']}/publish", headers=ana)
    conversation = new_id()
    async with engine.begin() as conn:
        await conn.execute(
            Conversation.__table__.insert().values(
                id=conversation,
                chatbot_id=bot["id"],
                chatbot_version_id=bot["current_version_id"],
                user_id=fan["x-test-user-id"],
                message_allowance=5,
                expires_at=datetime.now(UTC) + timedelta(days=1),
            )
        )
    v2 = (await client.patch(f"/v1/chatbots/{bot['id']}", headers=ana, json={"top_k": 2})).json()
    assert v2["current_version_id"] != bot["current_version_id"]
    return {"ana": ana, "fan": fan, "other": other, "bot": bot, "v2": v2, "conversation": conversation}


async def test_a_rating_pins_the_version_the_conversation_ran_on(
    client: Client, sign_in: Any, engine: AsyncEngine
) -> None:
    w = await setup(client, sign_in, engine)
    url = f"/v1/conversations/{w['conversation']}/rating"
    r = await client.post(
        url, headers=w["fan"], json={"stars": 4, "comment": "Useful", "trigger": "NATURAL_ENDING"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["chatbot_version_id"] == w["bot"]["current_version_id"]  # v1, not the live v2
    again = await client.post(url, headers=w["fan"], json={"stars": 5})
    assert (again.status_code, again.json()["code"]) == (409, "already-rated")
    assert (await client.post(url, headers=w["other"], json={"stars": 1})).status_code == 404
    assert (await client.post(url, headers=w["fan"], json={"stars": 6})).status_code == 422
    bad = await client.post(url, headers=w["fan"], json={"stars": 3, "trigger": "WHENEVER"})
    assert bad.json()["errors"] == {"trigger": bad.json()["errors"]["trigger"]}
    async with engine.connect() as conn:
        rows = (await conn.execute(select(Rating.chatbot_id, Rating.chatbot_version_id, Rating.rating))).all()
    assert [tuple(row) for row in rows] == [(w["bot"]["id"], w["bot"]["current_version_id"], 4)]
    doc = (await client.get(f"/v1/chatbots/{w['bot']['id']}/json-ld")).json()
    assert doc["aggregateRating"]["ratingCount"] == 1
    assert doc["aggregateRating"]["ratingValue"] == "4.00"


async def test_reports_pin_the_conversation_version_or_the_current_one(
    client: Client, sign_in: Any, engine: AsyncEngine
) -> None:
    w = await setup(client, sign_in, engine)
    url = f"/v1/chatbots/{w['bot']['id']}/reports"
    about_chat = await client.post(
        url,
        headers=w["fan"],
        json={
            "reason": "HALLUCINATION",
            "description": "Made up a quote",
            "conversation_id": w["conversation"],
        },
    )
    assert about_chat.status_code == 201, about_chat.text
    assert about_chat.json()["chatbot_version_id"] == w["bot"]["current_version_id"]
    about_bot = await client.post(
        url, headers=w["other"], json={"reason": "OFF_TOPIC", "description": "Sells things"}
    )
    assert about_bot.json()["chatbot_version_id"] == w["v2"]["current_version_id"]
    # someone else's conversation is not theirs to cite
    r = await client.post(
        url,
        headers=w["other"],
        json={"reason": "OTHER", "description": "x", "conversation_id": w["conversation"]},
    )
    assert r.status_code == 404
    r = await client.post(url, headers=w["fan"], json={"reason": "BORING", "description": "x"})
    assert r.status_code == 422
    anon = {"X-Canon-Anonymous-Id": (await client.post("/v1/anonymous-ids")).json()["anonymous_id"]}
    client.cookies.clear()
    r = await client.post(url, headers=anon, json={"reason": "OTHER", "description": "x"})
    assert (r.status_code, r.json()["code"]) == (401, "login-required")
    async with engine.connect() as conn:
        statuses = (
            await conn.execute(select(Report.status, Report.reason).order_by(Report.created_at))
        ).all()
    assert [(s.value if hasattr(s, "value") else s, str(reason)) for s, reason in statuses] == [
        ("PENDING", "HALLUCINATION"),
        ("PENDING", "OFF_TOPIC"),
    ]

"""Intake over HTTP on SQLite and PostgreSQL: questions in display order, checked answers,
responses and user context written, reusable answers prefilling another framework."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.models import Creator, CreatorUser, IntakeResponse, UserContext
from domain.ids import new_id

Client = AsyncTestClient[Litestar]


async def two_frameworks(
    client: Client, sign_in: Any, engine: AsyncEngine
) -> tuple[dict[str, str], list[str]]:
    ana = await sign_in("ana@intake.example")
    creator = new_id()
    async with engine.begin() as conn:
        await conn.execute(Creator.__table__.insert().values(id=creator, name="Ana", slug="ana"))
        await conn.execute(
            CreatorUser.__table__.insert().values(
                id=new_id(), creator_id=creator, user_id=ana["x-test-user-id"], role="OWNER"
            )
        )
    bots = []
    for title in ("Pricing", "Hiring"):
        bot = (
            await client.post(f"/v1/creators/{creator}/chatbots", headers=ana, json={"title": title})
        ).json()
        await client.post(f"/v1/chatbots/{bot['id']}/publish", headers=ana)
        bots.append(bot["id"])
    return ana, bots


async def test_intake_end_to_end(client: Client, sign_in: Any, engine: AsyncEngine) -> None:
    ana, (pricing, hiring) = await two_frameworks(client, sign_in, engine)
    fan = await sign_in("fan@intake.example")
    stage = {
        "slug": "stage",
        "text": "Your stage?",
        "type": "SELECT",
        "options": ["seed", "growth"],
        "required": True,
    }
    for bot in (pricing, hiring):
        r = await client.post(
            f"/v1/chatbots/{bot}/intake/questions", headers=ana, json={**stage, "display_order": 2}
        )
        assert r.status_code == 201, r.text
    r = await client.post(
        f"/v1/chatbots/{pricing}/intake/questions",
        headers=ana,
        json={"slug": "revenue", "text": "Revenue?", "type": "NUMBER", "display_order": 1},
    )
    assert r.status_code == 201, r.text
    dup = await client.post(f"/v1/chatbots/{pricing}/intake/questions", headers=ana, json=stage)
    assert (dup.status_code, dup.json()["code"]) == (409, "intake-slug-taken")
    denied = await client.post(f"/v1/chatbots/{pricing}/intake/questions", headers=fan, json=stage)
    assert denied.status_code == 403

    form = (await client.get(f"/v1/chatbots/{pricing}/intake", headers=fan)).json()
    assert [q["slug"] for q in form["questions"]] == ["revenue", "stage"]
    assert form["questions"][1]["options"] == ["seed", "growth"]
    assert form["prefilled"] == {}

    bad = await client.post(
        f"/v1/chatbots/{pricing}/intake/answers", headers=fan, json={"answers": {"stage": "ipo"}}
    )
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"answers.stage"}
    ok = await client.post(
        f"/v1/chatbots/{pricing}/intake/answers",
        headers=fan,
        json={"answers": {"stage": "growth", "revenue": 120000}, "reusable": ["stage"]},
    )
    assert ok.status_code == 201, ok.text
    assert {a["slug"]: a["value"] for a in ok.json()} == {"stage": "growth", "revenue": 120000}

    assert (await client.get(f"/v1/chatbots/{hiring}/intake", headers=fan)).json()["prefilled"] == {
        "stage": "growth"
    }
    # the reusable answer satisfies the hiring framework's required question
    r = await client.post(f"/v1/chatbots/{hiring}/intake/answers", headers=fan, json={"answers": {}})
    assert r.status_code == 201, r.text

    async with engine.connect() as conn:
        responses = (
            await conn.execute(select(IntakeResponse.value, IntakeResponse.reusable_across_frameworks))
        ).all()
        context = (
            await conn.execute(
                select(UserContext.chatbot_id, UserContext.key, UserContext.value, UserContext.source).where(
                    UserContext.user_id == fan["x-test-user-id"]
                )
            )
        ).all()
    assert sorted((r.value, r.reusable_across_frameworks) for r in responses if r.value == "growth") == [
        ("growth", True)
    ]
    assert {(c.chatbot_id, c.key, str(c.value)) for c in context} == {
        (None, "stage", "growth"),
        (pricing, "revenue", "120000"),
    }
    assert {str(c.source.value if hasattr(c.source, "value") else c.source) for c in context} == {
        "INTAKE_FORM"
    }

    # answering again replaces the context value rather than adding a row
    r = await client.post(
        f"/v1/chatbots/{pricing}/intake/answers",
        headers=fan,
        json={"answers": {"stage": "seed"}, "reusable": ["stage"]},
    )
    assert r.status_code == 201, r.text
    assert (await client.get(f"/v1/chatbots/{hiring}/intake", headers=fan)).json()["prefilled"] == {
        "stage": "seed"
    }
    anon = {"X-Canon-Anonymous-Id": (await client.post("/v1/anonymous-ids")).json()["anonymous_id"]}
    client.cookies.clear()
    r = await client.post(f"/v1/chatbots/{pricing}/intake/answers", headers=anon, json={"answers": {}})
    assert (r.status_code, r.json()["code"]) == (401, "login-required")

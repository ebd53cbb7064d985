"""Chatbots over HTTP on SQLite and PostgreSQL: versions, visibility, owners, problems."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.models import AuditLog, Creator, CreatorUser
from domain.ids import new_id

Client = AsyncTestClient[Litestar]


async def make_creator(engine: AsyncEngine, user_id: str, slug: str, role: str = "OWNER") -> str:
    creator_id = new_id()
    async with engine.begin() as conn:
        await conn.execute(Creator.__table__.insert().values(id=creator_id, name=slug.title(), slug=slug))
        await conn.execute(
            CreatorUser.__table__.insert().values(
                id=new_id(), creator_id=creator_id, user_id=user_id, role=role
            )
        )
    return creator_id


def problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["code"] == code
    return body


async def test_create_update_rollback_and_diff(client: Client, sign_in: Any, engine: AsyncEngine) -> None:
    ana = await sign_in("ana@chatbots.example")
    creator = await make_creator(engine, ana["x-test-user-id"], "ana")
    r = await client.post(
        f"/v1/creators/{creator}/chatbots",
        headers=ana,
        json={"title": "Purple Cow", "type": "DEEP_DIVE", "price_cents": 499, "source_ids": ["s1"]},
    )
    assert r.status_code == 201, r.text
    bot = r.json()
    assert bot["slug"] == "purple-cow"
    assert bot["current_version_number"] == 1
    assert bot["owners"] == [{"creator_id": creator, "role": "PRIMARY_OWNER"}]
    assert bot["config"]["source_ids"] == ["s1"]
    assert bot["config"]["price_cents"] == 499
    cid = bot["id"]

    r = await client.patch(
        f"/v1/chatbots/{cid}", headers=ana, json={"top_k": 3, "daily_user_token_cap": 5000}
    )
    assert r.status_code == 200, r.text
    assert r.json()["current_version_number"] == 2
    problem(await client.patch(f"/v1/chatbots/{cid}", headers=ana, json={"top_k": 3}), 422, "no-changes")
    bad = problem(
        await client.patch(f"/v1/chatbots/{cid}", headers=ana, json={"top_k": 0}), 422, "invalid-input"
    )
    assert bad["errors"]

    r = await client.post(f"/v1/chatbots/{cid}/rollback", headers=ana, json={"to_version": 1})
    assert r.status_code == 200, r.text
    assert r.json()["current_version_number"] == 3
    assert r.json()["config"]["top_k"] == 8

    versions = (await client.get(f"/v1/chatbots/{cid}/versions", headers=ana)).json()
    assert [v["version_number"] for v in versions] == [1, 2, 3]
    assert versions[0]["deactivated_at"] == versions[1]["activated_at"]
    assert versions[2]["deactivated_at"] is None
    assert versions[2]["config"]["changelog"] == "Rollback to version 1"

    diff = (await client.get(f"/v1/chatbots/{cid}/diff?from=1&to=2", headers=ana)).json()
    changes = {c["field"]: [c["before"], c["after"]] for c in diff["changes"]}
    assert changes == {"rag.top_k": [8, 3], "daily_user_token_cap": [None, 5000]}
    problem(await client.get(f"/v1/chatbots/{cid}/diff?from=1&to=7", headers=ana), 422, "unknown-version")


async def test_private_until_published_and_config_only_for_owners(
    client: Client, sign_in: Any, engine: AsyncEngine
) -> None:
    ana = await sign_in("ana@chatbots.example")
    bo = await sign_in("bo@chatbots.example")
    creator = await make_creator(engine, ana["x-test-user-id"], "ana")
    cid = (
        await client.post(f"/v1/creators/{creator}/chatbots", headers=ana, json={"title": "Ask Ana"})
    ).json()["id"]
    problem(await client.get(f"/v1/chatbots/{cid}", headers=bo), 404, "not-found")
    problem(await client.get("/v1/chatbots/ask-ana", headers=bo), 404, "not-found")
    problem(await client.post(f"/v1/chatbots/{cid}/publish", headers=bo), 404, "not-found")
    assert (await client.post(f"/v1/chatbots/{cid}/publish", headers=ana)).json()["is_public"] is True
    seen = (await client.get("/v1/chatbots/ask-ana", headers=bo)).json()
    assert seen["id"] == cid
    assert seen["config"] is None
    assert seen["title"] == "Ask Ana"
    problem(
        await client.patch(f"/v1/chatbots/{cid}", headers=bo, json={"title": "Mine"}),
        403,
        "permission-denied",
    )
    problem(await client.get(f"/v1/chatbots/{cid}/versions", headers=bo), 403, "permission-denied")
    assert (await client.post(f"/v1/chatbots/{cid}/deactivate", headers=ana)).json()["is_active"] is False
    problem(await client.get(f"/v1/chatbots/{cid}", headers=bo), 404, "not-found")
    assert (await client.post(f"/v1/chatbots/{cid}/activate", headers=ana)).json()["is_active"] is True
    assert (await client.post(f"/v1/chatbots/{cid}/unpublish", headers=ana)).json()["is_public"] is False
    problem(await client.get(f"/v1/chatbots/{cid}", headers=bo), 404, "not-found")


async def test_one_creator_chatbot_per_creator(client: Client, sign_in: Any, engine: AsyncEngine) -> None:
    ana = await sign_in("ana@chatbots.example")
    creator = await make_creator(engine, ana["x-test-user-id"], "ana")
    url = f"/v1/creators/{creator}/chatbots"
    assert (
        await client.post(url, headers=ana, json={"title": "Ask Ana", "type": "CREATOR"})
    ).status_code == 201
    r = await client.post(url, headers=ana, json={"title": "Ask Ana 2", "type": "CREATOR"})
    problem(r, 409, "creator-chatbot-exists")
    problem(await client.post(url, headers=ana, json={"title": "Ask Ana"}), 409, "chatbot-slug-taken")
    problem(await client.post(url, headers=ana, json={"title": "x", "colour": "red"}), 422, "invalid-input")


async def test_owners_are_managed_by_the_primary_owner_and_audited(
    client: Client, sign_in: Any, engine: AsyncEngine
) -> None:
    ana = await sign_in("ana@chatbots.example")
    bo = await sign_in("bo@chatbots.example")
    ana_c = await make_creator(engine, ana["x-test-user-id"], "ana")
    bo_c = await make_creator(engine, bo["x-test-user-id"], "bo")
    cid = (await client.post(f"/v1/creators/{ana_c}/chatbots", headers=ana, json={"title": "Board"})).json()[
        "id"
    ]
    r = await client.post(
        f"/v1/chatbots/{cid}/owners", headers=ana, json={"creator_id": bo_c, "role": "CO_OWNER"}
    )
    assert r.status_code == 201, r.text
    assert {o["creator_id"]: o["role"] for o in r.json()} == {ana_c: "PRIMARY_OWNER", bo_c: "CO_OWNER"}
    # the co-owner now sees the config and edits it, but does not manage owners
    assert (await client.get(f"/v1/chatbots/{cid}", headers=bo)).json()["config"] is not None
    problem(await client.delete(f"/v1/chatbots/{cid}/owners/{ana_c}", headers=bo), 403, "permission-denied")
    problem(await client.delete(f"/v1/chatbots/{cid}/owners/{ana_c}", headers=ana), 422, "last-primary-owner")
    r = await client.put(f"/v1/chatbots/{cid}/owners/{bo_c}", headers=ana, json={"role": "PRIMARY_OWNER"})
    assert r.status_code == 200, r.text
    r = await client.delete(f"/v1/chatbots/{cid}/owners/{ana_c}", headers=bo)
    assert r.json() == [{"creator_id": bo_c, "role": "PRIMARY_OWNER"}]
    problem(await client.get(f"/v1/chatbots/{cid}", headers=ana), 404, "not-found")
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(AuditLog.action).where(AuditLog.subject_id == cid).order_by(AuditLog.at, AuditLog.id)
            )
        ).all()
    assert [r.action for r in rows] == [
        "chatbot.owner-added",
        "chatbot.owner-role-changed",
        "chatbot.owner-removed",
    ]

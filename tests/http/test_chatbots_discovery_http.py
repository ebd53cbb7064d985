"""Discovery over HTTP on SQLite and PostgreSQL: listing (filters, sorts, stable cursors),
categories, favourites, JSON-LD from real ratings, a creator's chatbots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.models import Category, Conversation, Creator, CreatorUser, Rating
from domain.ids import new_id

Client = AsyncTestClient[Litestar]


async def make_creator(engine: AsyncEngine, user_id: str, slug: str) -> str:
    creator_id = new_id()
    async with engine.begin() as conn:
        await conn.execute(Creator.__table__.insert().values(id=creator_id, name=slug.title(), slug=slug))
        await conn.execute(
            CreatorUser.__table__.insert().values(
                id=new_id(), creator_id=creator_id, user_id=user_id, role="OWNER"
            )
        )
    return creator_id


async def make_bot(client: Client, headers: dict[str, str], creator: str, **body: Any) -> dict[str, Any]:
    r = await client.post(f"/v1/creators/{creator}/chatbots", headers=headers, json=body)
    assert r.status_code == 201, r.text
    bot: dict[str, Any] = r.json()
    assert (await client.post(f"/v1/chatbots/{bot['id']}/publish", headers=headers)).status_code == 200
    return bot


async def rate(
    engine: AsyncEngine, bot: dict[str, Any], user_id: str, stars: int, comment: str | None
) -> None:
    conversation = new_id()
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(
            Conversation.__table__.insert().values(
                id=conversation,
                chatbot_id=bot["id"],
                chatbot_version_id=bot["current_version_id"],
                user_id=user_id,
                message_allowance=5,
                expires_at=now + timedelta(days=1),
            )
        )
        await conn.execute(
            Rating.__table__.insert().values(
                id=new_id(),
                user_id=user_id,
                conversation_id=conversation,
                chatbot_id=bot["id"],
                chatbot_version_id=bot["current_version_id"],
                rating=stars,
                comment=comment,
                trigger="NATURAL_ENDING",
            )
        )


async def test_listing_filters_sorts_and_pages_stably(
    client: Client, sign_in: Any, engine: AsyncEngine
) -> None:
    ana = await sign_in("ana@discover.example")
    bo = await sign_in("bo@discover.example")
    fan = await sign_in("fan@discover.example")
    ana_c = await make_creator(engine, ana["x-test-user-id"], "ana")
    bo_c = await make_creator(engine, bo["x-test-user-id"], "bo")
    cow = await make_bot(
        client, ana, ana_c, title="Purple Cow", description="remarkable marketing", type="DEEP_DIVE"
    )
    tribes = await make_bot(client, ana, ana_c, title="Tribes", description="leading a marketing tribe")
    pricing = await make_bot(client, bo, bo_c, title="Pricing Coach", description="value based pricing")
    hidden = (
        await client.post(f"/v1/creators/{bo_c}/chatbots", headers=bo, json={"title": "Marketing Secret"})
    ).json()
    await rate(engine, tribes, fan["x-test-user-id"], 5, "Great")
    await rate(engine, tribes, fan["x-test-user-id"], 4, None)
    await rate(engine, cow, fan["x-test-user-id"], 3, None)

    def ids(r: Any) -> list[str]:
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    everyone = ids(await client.get("/v1/chatbots"))
    assert sorted(everyone) == sorted([cow["id"], tribes["id"], pricing["id"]])
    assert hidden["id"] not in everyone
    assert ids(await client.get("/v1/chatbots?q=marketing")) == [cow["id"], tribes["id"]]  # tie: by id
    assert ids(await client.get("/v1/chatbots?q=cow")) == [cow["id"]]
    assert ids(await client.get("/v1/chatbots?q=tribe%20marketing")) == [tribes["id"]]
    assert ids(await client.get(f"/v1/chatbots?creator={bo_c}")) == [pricing["id"]]
    assert ids(await client.get("/v1/chatbots?type=DEEP_DIVE")) == [cow["id"]]
    by_rating = await client.get("/v1/chatbots?sort=rating")
    assert ids(by_rating)[:2] == [tribes["id"], cow["id"]]
    top = by_rating.json()["items"][0]
    assert (top["rating_count"], top["rating_average"]) == (2, "4.50")
    assert by_rating.json()["items"][2]["rating_average"] is None

    # pages of one, following the cursor, give every item exactly once in the same order
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        url = "/v1/chatbots?sort=rating&limit=1" + (f"&cursor={cursor}" if cursor else "")
        r = await client.get(url)
        seen += ids(r)
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == ids(by_rating)
    r = await client.get(f"/v1/chatbots?sort=popularity&cursor={cursor or 'bm9wZQ'}")
    assert r.status_code == 422
    assert r.json()["errors"] == {"cursor": "is invalid"}
    assert (await client.get("/v1/chatbots?limit=101")).status_code == 422


async def test_categories_rank_by_relevance(client: Client, sign_in: Any, engine: AsyncEngine) -> None:
    ana = await sign_in("ana@discover.example")
    bo = await sign_in("bo@discover.example")
    ana_c = await make_creator(engine, ana["x-test-user-id"], "ana")
    a = await make_bot(client, ana, ana_c, title="Founder Bot")
    b = await make_bot(client, ana, ana_c, title="Another Founder Bot")
    founders, pricing = new_id(), new_id()
    async with engine.begin() as conn:
        await conn.execute(
            Category.__table__.insert().values(id=founders, type="ROLE", label="Founders", slug="founders")
        )
        await conn.execute(
            Category.__table__.insert().values(id=pricing, type="CHALLENGE", label="Pricing", slug="pricing")
        )
    cats = (await client.get("/v1/categories")).json()
    assert [(c["type"], c["slug"]) for c in cats] == [("CHALLENGE", "pricing"), ("ROLE", "founders")]
    assert [c["slug"] for c in (await client.get("/v1/categories?type=ROLE")).json()] == ["founders"]
    for bot, score in ((a, 0.2), (b, 0.9)):
        r = await client.put(
            f"/v1/chatbots/{bot['id']}/categories/{founders}", headers=ana, json={"relevance": score}
        )
        assert r.status_code == 200, r.text
    r = await client.put(f"/v1/chatbots/{a['id']}/categories/{founders}", headers=bo, json={"relevance": 1.0})
    assert r.status_code == 403
    listing = (await client.get(f"/v1/chatbots?category={founders}")).json()["items"]
    assert [i["id"] for i in listing] == [b["id"], a["id"]]
    assert (await client.get(f"/v1/chatbots?category={pricing}")).json()["items"] == []
    r = await client.delete(f"/v1/chatbots/{b['id']}/categories/{founders}", headers=ana)
    assert r.json()["removed"] is True
    assert [i["id"] for i in (await client.get(f"/v1/chatbots?category={founders}")).json()["items"]] == [
        a["id"]
    ]


async def test_favorites_need_an_account_and_are_idempotent(
    client: Client, sign_in: Any, engine: AsyncEngine
) -> None:
    ana = await sign_in("ana@discover.example")
    fan = await sign_in("fan@discover.example")
    ana_c = await make_creator(engine, ana["x-test-user-id"], "ana")
    bot = await make_bot(client, ana, ana_c, title="Fav Bot")
    first = (await client.put(f"/v1/me/favorites/{bot['id']}", headers=fan)).json()
    again = (await client.put(f"/v1/me/favorites/{bot['id']}", headers=fan)).json()
    assert (first["changed"], again["changed"]) == (True, False)
    assert [i["id"] for i in (await client.get("/v1/me/favorites", headers=fan)).json()] == [bot["id"]]
    anon = {"X-Canon-Anonymous-Id": (await client.post("/v1/anonymous-ids")).json()["anonymous_id"]}
    client.cookies.clear()
    r = await client.put(f"/v1/me/favorites/{bot['id']}", headers=anon)
    assert (r.status_code, r.json()["code"]) == (401, "login-required")
    await client.post(f"/v1/chatbots/{bot['id']}/unpublish", headers=ana)
    assert (await client.get("/v1/me/favorites", headers=fan)).json() == []
    r = await client.delete(f"/v1/me/favorites/{bot['id']}", headers=fan)
    assert r.status_code == 404  # unpublished: the fan no longer sees it


async def test_json_ld_is_filled_from_real_data(client: Client, sign_in: Any, engine: AsyncEngine) -> None:
    ana = await sign_in("ana@discover.example")
    fan = await sign_in("fan@discover.example")
    ana_c = await make_creator(engine, ana["x-test-user-id"], "ana")
    bot = await make_bot(
        client, ana, ana_c, title="Purple Cow", description="Be remarkable", type="DEEP_DIVE"
    )
    r = await client.get(f"/v1/chatbots/{bot['id']}/json-ld")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/ld+json")
    doc = r.json()
    assert doc["@context"] == "https://schema.org"
    assert doc["@type"] == "WebApplication"
    assert doc["name"] == "Purple Cow"
    assert doc["description"] == "Be remarkable"
    assert doc["url"].endswith("/chatbots/purple-cow")
    assert doc["author"] == [{"@type": "Person", "name": "Ana"}]
    assert doc["softwareVersion"] == "1"
    assert doc["applicationSubCategory"] == "Book Deep Dive"
    assert "aggregateRating" not in doc
    assert "review" not in doc
    assert "" not in doc.values()
    await rate(engine, bot, fan["x-test-user-id"], 5, "Changed how I market")
    await rate(engine, bot, fan["x-test-user-id"], 4, None)
    await rate(engine, bot, fan["x-test-user-id"], 4, None)
    doc = (await client.get(f"/v1/chatbots/{bot['id']}/json-ld")).json()
    assert doc["aggregateRating"] == {
        "@type": "AggregateRating",
        "ratingCount": 3,
        "ratingValue": "4.33",
        "bestRating": 5,
        "worstRating": 1,
    }
    assert [(x["reviewBody"], x["reviewRating"]["ratingValue"]) for x in doc["review"]] == [
        ("Changed how I market", 5)
    ]
    await client.post(f"/v1/chatbots/{bot['id']}/unpublish", headers=ana)
    assert (await client.get(f"/v1/chatbots/{bot['id']}/json-ld", headers=ana)).status_code == 404


async def test_a_creators_chatbots_show_only_what_the_caller_may_see(
    client: Client, sign_in: Any, engine: AsyncEngine
) -> None:
    ana = await sign_in("ana@discover.example")
    fan = await sign_in("fan@discover.example")
    ana_c = await make_creator(engine, ana["x-test-user-id"], "ana")
    public = await make_bot(client, ana, ana_c, title="Open Bot")
    private = (
        await client.post(f"/v1/creators/{ana_c}/chatbots", headers=ana, json={"title": "Draft"})
    ).json()
    mine = (await client.get(f"/v1/creators/{ana_c}/chatbots", headers=ana)).json()
    assert sorted(b["id"] for b in mine) == sorted([public["id"], private["id"]])
    assert all(b["config"] is not None for b in mine)
    theirs = (await client.get(f"/v1/creators/{ana_c}/chatbots", headers=fan)).json()
    assert [b["id"] for b in theirs] == [public["id"]]
    assert theirs[0]["config"] is None

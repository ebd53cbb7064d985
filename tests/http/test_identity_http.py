"""Identity over HTTP: who is calling, API keys, anonymous ids, rate limits, problem details."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.identity.local_issuer import LocalTokenIssuer
from adapters.persistence.models import AuditLog, Creator, CreatorUser
from domain.ids import new_id

Client = AsyncTestClient[Litestar]


async def make_creator(engine: AsyncEngine, user_id: str, role: str = "OWNER") -> str:
    creator_id = new_id()
    async with engine.begin() as conn:
        await conn.execute(
            Creator.__table__.insert().values(id=creator_id, name="Ada", slug=f"ada-{creator_id[-8:]}")
        )
        await conn.execute(
            CreatorUser.__table__.insert().values(
                id=new_id(), creator_id=creator_id, user_id=user_id, role=role
            )
        )
    return creator_id


def problem(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code
    assert body["type"] == f"/problems/{code}"
    assert body["status"] == status


async def test_no_credentials_is_401_problem(client: Client) -> None:
    problem(await client.get("/v1/me"), 401, "credentials-missing")


async def test_signed_in_user_is_mirrored_once(client: Client, sign_in: Any) -> None:
    a = await sign_in("ada@example.com")
    b = await sign_in("ada@example.com")
    assert a["x-test-user-id"] == b["x-test-user-id"]
    me = (await client.get("/v1/me", headers=a)).json()
    assert me == {
        "kind": "user",
        "user_id": a["x-test-user-id"],
        "is_operator": False,
        "anonymous_id": None,
        "creator_id": None,
    }


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"exp_delta": -7200}, "token-expired"),
        ({"nbf_delta": 1800}, "token-not-yet-valid"),
        ({"iss": "someone-else"}, "token-wrong-issuer"),
        ({"aud": "another-app"}, "token-wrong-audience"),
    ],
)
async def test_bad_tokens_are_refused_with_their_code(
    client: Client, issuer: LocalTokenIssuer, change: dict[str, Any], code: str
) -> None:
    good = issuer.issue("user_x", "x@example.com", timedelta(hours=1))
    claims = jwt.decode(good, options={"verify_signature": False})
    claims["exp"] += change.get("exp_delta", 0)
    claims["nbf"] += change.get("nbf_delta", 0)
    claims["iss"] = change.get("iss", claims["iss"])
    claims["aud"] = change.get("aud", claims["aud"])
    bad = jwt.encode(claims, issuer._key, algorithm="ES256", headers={"kid": issuer.kid})
    problem(await client.get("/v1/me", headers={"Authorization": f"Bearer {bad}"}), 401, code)


async def test_alg_none_and_tampered_tokens_are_refused(client: Client, issuer: LocalTokenIssuer) -> None:
    good = issuer.issue("user_x", "x@example.com", timedelta(hours=1))
    claims = jwt.decode(good, options={"verify_signature": False})
    none = jwt.encode(claims, key=None, algorithm="none")
    problem(await client.get("/v1/me", headers={"Authorization": f"Bearer {none}"}), 401, "token-invalid")
    head, payload, sig = good.split(".")
    tampered = f"{head}.{payload[:-2]}AA.{sig}"
    r = await client.get("/v1/me", headers={"Authorization": f"Bearer {tampered}"})
    assert r.status_code == 401


async def test_anonymous_id_round_trip_and_tampering(client: Client) -> None:
    r = await client.post("/v1/anonymous-ids")
    assert r.status_code == 201
    signed = r.json()["anonymous_id"]
    assert "canon_anon" in r.headers.get("set-cookie", "")
    me = (await client.get("/v1/me", headers={"X-Canon-Anonymous-Id": signed})).json()
    assert me["kind"] == "anonymous"
    assert signed.startswith(me["anonymous_id"])
    problem(
        await client.get("/v1/me", headers={"X-Canon-Anonymous-Id": signed[:-3] + "xyz"}),
        401,
        "anonymous-id-invalid",
    )


async def test_api_key_lifecycle(client: Client, sign_in: Any, engine: AsyncEngine) -> None:
    owner = await sign_in("owner@example.com")
    creator_id = await make_creator(engine, owner["x-test-user-id"])
    r = await client.post(
        f"/v1/creators/{creator_id}/api-keys",
        json={"name": "ci uploads", "actions": ["source.upload-file", "creator.view"]},
        headers=owner,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    key = created["api_key"]
    assert key.startswith(f"canon_{created['key']['prefix']}_")
    # the key authenticates as its creator, and its use is recorded
    me = (await client.get("/v1/me", headers={"X-API-Key": key})).json()
    assert me["kind"] == "api-key"
    assert me["creator_id"] == creator_id
    listed = (await client.get(f"/v1/creators/{creator_id}/api-keys", headers=owner)).json()
    assert [k["prefix"] for k in listed] == [created["key"]["prefix"]]
    assert listed[0]["last_used_at"] is not None
    assert "api_key" not in listed[0]
    # an API key cannot mint keys
    r = await client.post(
        f"/v1/creators/{creator_id}/api-keys",
        json={"name": "x", "actions": ["creator.view"]},
        headers={"X-API-Key": key},
    )
    assert r.status_code in (401, 403)
    # revoke: the key stops working at once, twice is harmless
    kid = created["key"]["id"]
    assert (
        await client.delete(f"/v1/creators/{creator_id}/api-keys/{kid}", headers=owner)
    ).status_code == 200
    assert (
        await client.delete(f"/v1/creators/{creator_id}/api-keys/{kid}", headers=owner)
    ).status_code == 200
    problem(await client.get("/v1/me", headers={"X-API-Key": key}), 401, "api-key-revoked")
    async with engine.connect() as conn:
        actions = (await conn.execute(select(AuditLog.action).order_by(AuditLog.at))).scalars().all()
    assert actions == ["api-key.created", "api-key.revoked"]


async def test_api_key_requests_are_validated_and_scoped(
    client: Client, sign_in: Any, engine: AsyncEngine
) -> None:
    owner = await sign_in("owner2@example.com")
    stranger = await sign_in("stranger@example.com")
    creator_id = await make_creator(engine, owner["x-test-user-id"])
    r = await client.post(
        f"/v1/creators/{creator_id}/api-keys",
        json={"name": "x", "actions": ["creator.delete"]},
        headers=owner,
    )
    problem(r, 422, "invalid-input")
    assert "actions.creator.delete" in r.json()["errors"]
    r = await client.post(f"/v1/creators/{creator_id}/api-keys", json={"name": ""}, headers=owner)
    problem(r, 422, "invalid-input")
    # creator profiles are public, so a stranger may know the creator exists but not touch its keys
    problem(
        await client.get(f"/v1/creators/{creator_id}/api-keys", headers=stranger), 403, "permission-denied"
    )
    problem(await client.get(f"/v1/creators/{new_id()}/api-keys", headers=owner), 404, "not-found")


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_per_minute": 3}])
async def test_rate_limit_answers_429_with_retry_after(client: Client) -> None:
    statuses = [(await client.get("/v1/me")).status_code for _ in range(5)]
    assert statuses[:3] == [401, 401, 401]
    r = await client.get("/v1/me")
    problem(r, 429, "rate-limited")
    assert int(r.headers["retry-after"]) >= 1
    # health is never limited
    assert (await client.get("/health")).status_code == 200


async def test_oversized_body_is_413(client: Client, sign_in: Any) -> None:
    owner = await sign_in("big@example.com")
    r = await client.post(
        f"/v1/creators/{new_id()}/api-keys",
        content=b'{"name": "' + b"x" * 2_000_000 + b'", "actions": []}',
        headers={**owner, "content-type": "application/json"},
    )
    problem(r, 413, "payload-too-large")

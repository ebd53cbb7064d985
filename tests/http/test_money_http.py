"""Money over HTTP: checkout, the sandbox page delivering a signed webhook through the inbox and
the job, the webhook endpoint's refusals, statements (JSON and CSV), attribution and payouts."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.payments.sandbox_gateway import SandboxPaymentGateway
from adapters.persistence.models import AuditLog, Conversation, CreatorPayoutAccount, Purchase, WebhookEvent
from application.money.ports import PaymentGateways


def _rig_module() -> Any:
    name = "money_rig"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "application" / "money" / "money_rig.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


Client = AsyncTestClient[Litestar]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"refund_window_days": 0, "payout_minimum_cents": 100}


async def _run_jobs(client: Client, app: Litestar) -> int:
    """Runs the app's job runner until idle on the app's own event loop (the test client's
    portal thread), where its database engine lives."""

    async def run() -> int:
        return int(await app.state.job_runner.run_until_idle())

    return await asyncio.to_thread(client.blocking_portal.call, run)


async def _settled(factory: async_sessionmaker[AsyncSession], expected: int) -> dict[str, str]:
    """Event type -> inbox status once ``expected`` events are stored and none is left
    RECEIVED (the app's background runner may be the one processing them)."""
    for _ in range(200):
        async with factory() as s:
            events = list(await s.scalars(select(WebhookEvent)))
        if len(events) >= expected and all(e.status.value != "RECEIVED" for e in events):
            return {e.event_type: e.status.value for e in events}
        await asyncio.sleep(0.05)
    raise AssertionError(f"webhooks not settled: {[(e.event_type, e.status.value) for e in events]}")


async def test_sandbox_checkout_pays_through_the_webhook_inbox_and_job(
    client: Client,
    app: Litestar,
    sign_in: Any,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    rig = _rig_module().MoneyRig(engine, session_factory)
    world = await rig.seed(price=1000)
    buyer = await sign_in("buyer@example.com")

    r = await client.post(f"/v1/chatbots/{world.chatbot_id}/checkout", json={}, headers=buyer)
    assert r.status_code == 201, r.text
    started = r.json()
    assert (started["amount_minor"], started["currency"], started["processor"]) == (1000, "USD", "SANDBOX")
    path = "/" + started["checkout_url"].split("/", 3)[3]
    page = await client.get(path)
    assert page.status_code == 200
    assert "Pay (sandbox)" in page.text
    assert "10.00 USD" in page.text

    done = await client.post(f"{path}/complete", follow_redirects=False)
    assert done.status_code == 303
    await _run_jobs(client, app)
    assert await _settled(session_factory, 1) == {"PAYMENT_SUCCEEDED": "PROCESSED"}
    async with session_factory() as s:
        purchase = await s.get(Purchase, started["purchase_id"])
        assert purchase is not None
        assert purchase.status.value == "COMPLETED"
        assert purchase.purchaser_user_id == buyer["x-test-user-id"]
        conversation = await s.scalar(select(Conversation).where(Conversation.purchase_id == purchase.id))
        assert conversation is not None

    # the conversation ends (as chat would end it); attribution, statement, payouts by staff
    await rig.use_and_end(conversation.id, {world.source_shared: 1, world.source_b: 1})
    staff = await sign_in("staff@example.com", operator=True)
    assert (await client.post("/v1/attribution/run", headers=buyer)).status_code in (403, 404)
    run = await client.post("/v1/attribution/run", headers=staff)
    assert run.status_code == 200, run.text
    assert run.json()["attributed"] == 1

    month = datetime.now(UTC).strftime("%Y-%m")
    statement = await client.get(f"/v1/creators/{world.creator_b}/statements/{month}", headers=staff)
    assert statement.status_code == 200, statement.text
    body = statement.json()
    assert body["totals"] == {"USD": sum(line["amount_minor"] for line in body["lines"])}
    assert {line["purchase_id"] for line in body["lines"]} == {started["purchase_id"]}
    csv_text = (
        await client.get(f"/v1/creators/{world.creator_b}/statements/{month}?format=csv", headers=staff)
    ).text
    assert csv_text.splitlines()[0].startswith("booked_at,kind,amount_minor")
    assert len(csv_text.splitlines()) == len(body["lines"]) + 2
    bad_month = await client.get(f"/v1/creators/{world.creator_b}/statements/2026-13", headers=staff)
    assert bad_month.status_code == 422
    assert (
        await client.get(f"/v1/creators/{world.creator_b}/statements/{month}", headers=buyer)
    ).status_code in (
        403,
        404,
    )

    await rig.set_payout_account(world.creator_b)
    paid = await client.post("/v1/payouts/run", headers=staff)
    assert paid.status_code == 200, paid.text
    assert len(paid.json()["pending"]) == 1
    await _run_jobs(client, app)  # the payout.paid webhook, delivered through the inbox
    statuses = await _settled(session_factory, 2)
    assert statuses["PAYOUT_PAID"] == "PROCESSED"


async def test_webhook_endpoint_refuses_unsigned_and_forged_deliveries(client: Client) -> None:
    missing = await client.post("/v1/webhooks/sandbox", content=b'{"id":"evt_1"}')
    assert missing.status_code == 400
    assert missing.json()["code"] == "webhook-signature-missing"
    forged = await client.post(
        "/v1/webhooks/sandbox",
        content=b'{"id":"evt_1"}',
        headers={"Canon-Sandbox-Signature": "t=1700000000,v1=" + "0" * 64},
    )
    assert forged.status_code == 401
    unknown = await client.post("/v1/webhooks/nowhere", content=b"{}")
    assert unknown.status_code == 404


async def test_buying_needs_an_account_and_a_priced_chatbot(
    client: Client, sign_in: Any, engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    rig = _rig_module().MoneyRig(engine, session_factory)
    free = await rig.seed(price=0)
    buyer = await sign_in("buyer2@example.com")
    anonymous = await client.post(f"/v1/chatbots/{free.chatbot_id}/checkout", json={})
    assert anonymous.status_code == 401
    r = await client.post(f"/v1/chatbots/{free.chatbot_id}/checkout", json={}, headers=buyer)
    assert r.status_code == 409
    assert r.json()["code"] == "chatbot-is-free"
    bad = await client.post(
        f"/v1/chatbots/{free.chatbot_id}/checkout", json={"success_url": "ftp://x"}, headers=buyer
    )
    assert bad.status_code == 422


async def test_only_the_owner_sets_where_a_creator_is_paid(
    client: Client, sign_in: Any, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    owner = await sign_in("owner@example.com")
    stranger = await sign_in("stranger@example.com")
    r = await client.post("/v1/creators", json={"name": "Ada", "slug": "ada-pays"}, headers=owner)
    assert r.status_code == 201, r.text
    creator_id = r.json()["id"]
    url = f"/v1/creators/{creator_id}/payout-account"
    denied = await client.put(url, json={"external_account_id": "acct_sbx_x"}, headers=stranger)
    assert denied.status_code in (403, 404)
    assert (await client.put(url, json={"external_account_id": ""}, headers=owner)).status_code == 422
    first = await client.put(url, json={"external_account_id": "acct_sbx_1"}, headers=owner)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "creator_id": creator_id,
        "processor": "SANDBOX",
        "external_account_id": "acct_sbx_1",
        "payouts_enabled": True,
    }
    await client.put(url, json={"external_account_id": "acct_sbx_2"}, headers=owner)
    async with session_factory() as s:
        accounts = list(await s.scalars(select(CreatorPayoutAccount)))
        audited = list(
            await s.scalars(
                select(AuditLog)
                .where(AuditLog.action == "creator.payout-account.set")
                .order_by(AuditLog.at, AuditLog.id)
            )
        )
    assert [(a.creator_id, a.external_account_id) for a in accounts] == [(creator_id, "acct_sbx_2")]
    assert [(a.before, a.after) for a in audited] == [
        (None, {"processor": "SANDBOX", "account": "acct_sbx_1"}),
        (
            {"processor": "SANDBOX", "account": "acct_sbx_1"},
            {"processor": "SANDBOX", "account": "acct_sbx_2"},
        ),
    ]


async def test_a_chargeback_won_back_shows_on_the_statement_with_platform_shares(
    client: Client,
    app: Litestar,
    sign_in: Any,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    rig = _rig_module().MoneyRig(engine, session_factory)
    world = await rig.seed(price=1000)
    buyer = await sign_in("buyer@example.com")
    staff = await sign_in("staff@example.com", operator=True)
    started = (await client.post(f"/v1/chatbots/{world.chatbot_id}/checkout", json={}, headers=buyer)).json()
    path = "/" + started["checkout_url"].split("/", 3)[3]
    assert (await client.post(f"{path}/complete", follow_redirects=False)).status_code == 303
    await _run_jobs(client, app)
    assert await _settled(session_factory, 1) == {"PAYMENT_SUCCEEDED": "PROCESSED"}
    async with session_factory() as s:
        purchase = await s.get(Purchase, started["purchase_id"])
        assert purchase is not None
        conversation = await s.scalar(select(Conversation).where(Conversation.purchase_id == purchase.id))
        assert conversation is not None
    await rig.use_and_end(conversation.id, {world.source_shared: 300, world.source_b: 100})
    assert (await client.post("/v1/attribution/run", headers=staff)).json()["attributed"] == 1

    async def dispute_lost_then_won_back() -> list[Any]:
        gateway = (await app.state.dishka_container.get(PaymentGateways)).get("SANDBOX")
        assert isinstance(gateway, SandboxPaymentGateway)
        opened = await gateway.open_dispute(purchase.external_payment_id)
        dispute_id = json.loads(opened.body)["data"]["object"]["id"]
        lost = await gateway.resolve_dispute(dispute_id, won=False)
        back = await gateway.reinstate_dispute(dispute_id)
        return [gateway.sign(json.loads(d.body)) for d in (back, lost, opened)]  # the news backwards

    for delivery in await asyncio.to_thread(client.blocking_portal.call, dispute_lost_then_won_back):
        r = await client.post("/v1/webhooks/sandbox", content=delivery.body, headers=dict(delivery.headers))
        assert r.status_code == 200, r.text
    await _run_jobs(client, app)
    assert set((await _settled(session_factory, 4)).values()) == {"PROCESSED"}

    month = datetime.now(UTC).strftime("%Y-%m")
    body = (
        await client.get(f"/v1/creators/{world.creator_b}/statements/{month}?limit=100", headers=staff)
    ).json()
    kinds = [line["kind"] for line in body["lines"]]
    assert sorted(set(kinds)) == ["ATTRIBUTION", "REINSTATEMENT", "REVERSAL"]
    assert body["totals"] == {"USD": 226 + 188}  # everything B earned, back again
    by_id = {line["row_id"]: line for line in body["lines"]}
    for line in body["lines"]:
        if line["kind"] == "REINSTATEMENT":
            negated = by_id[line["reverses_id"]]
            assert negated["kind"] == "REVERSAL"
            assert line["reversal_key"] == negated["reversal_key"].replace("chargeback:", "chargeback-won:")
            assert (line["amount_minor"], line["platform_share_minor"]) == (
                -negated["amount_minor"],
                -negated["platform_share_minor"],
            )
    originals = [line for line in body["lines"] if line["kind"] == "ATTRIBUTION"]
    assert sum(line["platform_share_minor"] for line in originals) > 0
    csv_lines = (
        await client.get(f"/v1/creators/{world.creator_b}/statements/{month}?format=csv", headers=staff)
    ).text.splitlines()
    header = csv_lines[0].split(",")
    assert header[:4] == ["booked_at", "kind", "amount_minor", "amount"]
    assert "platform_share_minor" in header
    column = header.index("platform_share_minor")
    rows = [row.split(",") for row in csv_lines[1:-1]]
    assert sum(int(row[column]) for row in rows) == sum(
        line["platform_share_minor"] for line in body["lines"]
    )
    assert csv_lines[-1].split(",")[:3] == ["total", "", "414"]

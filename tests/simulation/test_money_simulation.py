"""A seeded simulation of many purchase lifecycles through the REAL HTTP webhook endpoint.

The sandbox processor signs every event; a simulated network delivers them late, out of order
and twice; the webhook use case and the processing job crash at random AFTER their commit and
before they acknowledge (the processor retries a delivery that got no 2xx, the job runner
retries a job that raised). Refunds (partial, full, late) and disputes (won, lost, and lost then
won back weeks later) happen along the way, conversations end, attribution and payouts run. At
the end every cent is accounted for: our purchases and disputes equal the processor's books,
each attributed conversation holds exactly what its purchase's remaining money pays the
creators and the platform, every reinstatement gives its reversal back exactly, payouts equal
the rows they paid.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.identity.local_issuer import LocalTokenIssuer
from adapters.payments.sandbox_gateway import SandboxPaymentGateway
from adapters.persistence.models import (
    Chargeback,
    Conversation,
    JobRun,
    Payout,
    Purchase,
    RevenuePerConversation,
)
from application.money import ledger_math
from application.money.attribute_conversations import AttributeConversations, AttributeConversationsCommand
from application.money.ports import PaymentGateways, PurchaseRecord
from application.money.process_webhook import ProcessWebhook
from application.money.receive_webhook import ReceiveWebhook
from application.money.run_payouts import RunPayouts, RunPayoutsCommand
from application.payments.ports import WebhookDelivery
from domain.revenue import RevenuePolicy
from entrypoints.runtime import build_http_app
from entrypoints.settings import load_settings

T = TypeVar("T")
SEED = 20261121
PURCHASES = 24
PLATFORM_BPS = 2000


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


class Crash(RuntimeError):
    """An injected crash after the commit, before the acknowledgement."""


@pytest.fixture
async def simulated(
    engine: AsyncEngine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[AsyncTestClient[Litestar], Litestar, random.Random, Path]]:
    rnd = random.Random(SEED)
    for cls in (ReceiveWebhook, ProcessWebhook):
        original = cls.__call__

        def crashing(original: Callable[..., Awaitable[Any]] = original) -> Callable[..., Awaitable[Any]]:
            async def call(self: Any, command: Any) -> Any:
                result = await original(self, command)
                if rnd.random() < 0.15:
                    raise Crash("crashed after commit, before acknowledging")
                return result

            return call

        monkeypatch.setattr(cls, "__call__", crashing())
    settings = load_settings(
        {},
        database_url=db_url,
        data_dir=tmp_path / "data",
        vector_backend="memory",
        refund_window_days=0,
        payout_minimum_cents=1,
        platform_share_bps=PLATFORM_BPS,
        rate_limit_per_minute=100_000,
        log_format="console",
    )
    app = build_http_app(settings)
    async with AsyncTestClient(app) as client:
        yield client, app, rnd, tmp_path / "data"


async def test_many_lifecycles_through_the_webhook_endpoint_leave_zero_drift(
    simulated: tuple[AsyncTestClient[Litestar], Litestar, random.Random, Path],
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    client, app, rnd, data_dir = simulated
    portal = client.blocking_portal

    async def in_app(fn: Callable[[], Awaitable[T]]) -> T:
        """Runs ``fn`` on the app's own event loop, where its engine and sandbox live."""
        return await asyncio.to_thread(portal.call, fn)

    container = app.state.dishka_container

    async def get_sandbox() -> SandboxPaymentGateway:
        gateway = (await container.get(PaymentGateways)).get("SANDBOX")
        assert isinstance(gateway, SandboxPaymentGateway)
        return gateway

    sandbox = await in_app(get_sandbox)
    rig = _rig_module().MoneyRig(engine, session_factory)
    world = await rig.seed(price=1000)
    await rig.set_payout_account(world.creator_a, destination="acct_sbx_sim_a")
    await rig.set_payout_account(world.creator_b, destination="acct_sbx_sim_b")
    issuer = LocalTokenIssuer.from_data_dir(data_dir)
    buyer = {"Authorization": f"Bearer {issuer.issue('sim|buyer', 'buyer@sim.example', timedelta(hours=2))}"}
    assert (await client.get("/v1/me", headers=buyer)).status_code == 200

    network: list[WebhookDelivery] = []
    crashes = {"webhook": 0, "duplicates": 0}

    async def post(delivery: WebhookDelivery) -> bool:
        fresh = await in_app(lambda: _async(sandbox.sign(json.loads(delivery.body))))
        try:
            r = await client.post("/v1/webhooks/sandbox", content=fresh.body, headers=dict(fresh.headers))
        except Crash:
            crashes["webhook"] += 1
            return False
        if r.status_code >= 500:
            crashes["webhook"] += 1
            return False
        assert r.status_code == 200, r.text
        return True

    async def deliver_some(share: float) -> None:
        rnd.shuffle(network)
        keep: list[WebhookDelivery] = []
        for delivery in network:
            if rnd.random() > share:
                keep.append(delivery)  # delayed to a later round
                continue
            if not await post(delivery):
                keep.append(delivery)  # no 2xx: the processor retries later
            elif rnd.random() < 0.3:
                crashes["duplicates"] += 1
                await post(delivery)  # delivered twice
        network[:] = keep

    async def run_jobs() -> None:
        for _ in range(20):  # crashed jobs are retried after their backoff
            await in_app(lambda: app.state.job_runner.run_until_idle())
            async with session_factory() as s:
                left = list(await s.scalars(select(JobRun).where(JobRun.status.in_(["PENDING", "RUNNING"]))))
            if not left:
                return
            await asyncio.sleep(0.2)

    def take_sandbox_events() -> None:
        for queued in sandbox.pending_events():
            network.append(sandbox.sign(queued))
            sandbox.ledger.remove_from_outbox(queued["id"])

    payments: list[str] = []
    for n in range(PURCHASES):
        r = await client.post(f"/v1/chatbots/{world.chatbot_id}/checkout", json={}, headers=buyer)
        assert r.status_code == 201, r.text
        checkout_id = r.json()["checkout_url"].rsplit("/", 1)[1]
        succeed = rnd.random() < 0.85
        network.append(await in_app(lambda cid=checkout_id, ok=succeed: sandbox.complete(cid, succeed=ok)))
        if succeed:
            payments.append(sandbox.checkout(checkout_id).external_payment_id or "")
        if n % 4 == 3:
            await deliver_some(0.6)
            await run_jobs()
            await _end_some(rig, session_factory, world, rnd)
            await _money_events(in_app, sandbox, payments, rnd, network)
            take_sandbox_events()
            if rnd.random() < 0.5:
                await in_app(lambda: _attribute(container))
    # the network settles: everything is eventually delivered and processed
    for _ in range(50):
        if not network:
            break
        await deliver_some(1.0)
    assert not network
    await run_jobs()
    await _end_some(rig, session_factory, world, rnd, everything=True)
    await in_app(lambda: _attribute(container))
    # late disputes on sales already attributed: lost, then won back weeks later; the three
    # webhooks of each arrive in any order, late, twice, through crashes like everything else
    assert await _late_disputes(in_app, sandbox, payments, network) > 0
    for _ in range(50):
        if not network:
            break
        await deliver_some(1.0)
    await run_jobs()
    await in_app(lambda: _pay(container))
    take_sandbox_events()
    for _ in range(50):
        if not network:
            break
        await deliver_some(1.0)
    await run_jobs()
    assert crashes["webhook"] > 0
    assert crashes["duplicates"] > 0
    await _no_drift(session_factory, sandbox)


async def _async(value: T) -> T:
    return value


async def _attribute(container: Any) -> None:
    async with container() as request:
        uc = await request.get(AttributeConversations)
        await uc(AttributeConversationsCommand(limit=1000))


async def _pay(container: Any) -> None:
    async with container() as request:
        uc = await request.get(RunPayouts)
        await uc(RunPayoutsCommand())


async def _end_some(
    rig: Any, factory: Any, world: Any, rnd: random.Random, *, everything: bool = False
) -> None:
    async with factory() as s:
        active = list(await s.scalars(select(Conversation.id).where(Conversation.status == "ACTIVE")))
    for conversation_id in active:
        if everything or rnd.random() < 0.7:
            tokens = {world.source_shared: rnd.randint(0, 400), world.source_b: rnd.randint(0, 400)}
            await rig.use_and_end(conversation_id, {k: v for k, v in tokens.items() if v})


async def _money_events(
    in_app: Any,
    sandbox: SandboxPaymentGateway,
    payments: list[str],
    rnd: random.Random,
    network: list[WebhookDelivery],
) -> None:
    for payment_id in list(payments):
        payment = sandbox.ledger.get("payments", payment_id) or {}
        left = payment.get("amount", 0) - payment.get("amount_refunded", 0)
        disputed = any(d["payment"] == payment_id for d in sandbox.ledger.values("disputes"))
        roll = rnd.random()
        if left <= 0 or disputed:
            continue
        if roll < 0.15:
            amount = None if rnd.random() < 0.4 else rnd.randint(1, left)
            key = f"sim-refund-{len(sandbox.ledger.keys('refunds'))}"
            await in_app(lambda p=payment_id, a=amount, k=key: sandbox.refund(p, a, idempotency_key=k))
        elif roll < 0.3:
            opened = await in_app(lambda p=payment_id: sandbox.open_dispute(p))
            network.append(opened)
            dispute_id = json.loads(opened.body)["data"]["object"]["id"]
            won = rnd.random() < 0.4
            network.append(await in_app(lambda d=dispute_id, w=won: sandbox.resolve_dispute(d, won=w)))
            if not won and rnd.random() < 0.6:
                # won back later: its webhook may well arrive before the loss's
                network.append(await in_app(lambda d=dispute_id: sandbox.reinstate_dispute(d)))


async def _late_disputes(
    in_app: Any, sandbox: SandboxPaymentGateway, payments: list[str], network: list[WebhookDelivery]
) -> int:
    disputed = {d["payment"] for d in sandbox.ledger.values("disputes")}
    count = 0
    for payment_id in payments:
        payment = sandbox.ledger.get("payments", payment_id) or {}
        if payment_id in disputed or payment.get("amount", 0) - payment.get("amount_refunded", 0) <= 0:
            continue
        opened = await in_app(lambda p=payment_id: sandbox.open_dispute(p))
        dispute_id = json.loads(opened.body)["data"]["object"]["id"]
        lost = await in_app(lambda d=dispute_id: sandbox.resolve_dispute(d, won=False))
        network += [opened, lost, await in_app(lambda d=dispute_id: sandbox.reinstate_dispute(d))]
        count += 1
        if count == 4:
            break
    return count


async def _no_drift(factory: async_sessionmaker[AsyncSession], sandbox: SandboxPaymentGateway) -> None:
    policy = RevenuePolicy(platform_share_bps=PLATFORM_BPS)
    async with factory() as s:
        purchases = list(await s.scalars(select(Purchase)))
        rows = list(await s.scalars(select(RevenuePerConversation)))
        chargebacks = list(await s.scalars(select(Chargeback)))
        lost: dict[str, int] = {}
        for c in chargebacks:
            if c.status.value == "LOST":
                lost[c.purchase_id] = lost.get(c.purchase_id, 0) + c.amount_cents
        funded: dict[str, list[str]] = {}
        for c in await s.scalars(select(Conversation).where(Conversation.purchase_id.is_not(None))):
            funded.setdefault(c.purchase_id or "", []).append(c.id)
        payouts = list(await s.scalars(select(Payout)))
    paid = [p for p in purchases if p.status.value not in ("PENDING", "FAILED")]
    assert paid, "the simulation sold nothing"
    assert rows, "the simulation attributed nothing"
    for p in paid:
        payment = sandbox.ledger.get("payments", p.external_payment_id)
        assert payment is not None
        assert (p.amount_cents, p.processing_fee_cents, p.refunded_cents) == (
            payment["amount"],
            payment["fee"],
            payment["amount_refunded"],
        )
    by_id = {p.id: p for p in purchases}
    by_conversation: dict[str, list[RevenuePerConversation]] = {}
    for r in rows:
        by_conversation.setdefault(r.conversation_id, []).append(r)
    drift = 0
    for conversation_id, mine in by_conversation.items():
        p = by_id[mine[0].purchase_id or ""]
        record = PurchaseRecord(
            id=p.id,
            purchaser_user_id=p.purchaser_user_id,
            chatbot_id=p.chatbot_id,
            processor=p.payment_processor.value,
            external_payment_id=p.external_payment_id,
            external_checkout_id=p.external_checkout_id,
            currency=p.currency,
            amount=p.amount_cents,
            fee=p.processing_fee_cents,
            net=p.net_amount_cents,
            refunded=p.refunded_cents,
            status=p.status.value,
        )
        taken = ledger_math.taken_back(record, lost.get(p.id, 0))
        gross, fee = ledger_math.conversation_part(record, taken, conversation_id, funded[p.id])
        drift += abs(sum(r.amount_cents for r in mine) - ledger_math.creators_pool(gross, fee, policy))
        platform = sum(r.platform_share_cents for r in mine)
        drift += abs(platform - ledger_math.platform_part(gross, fee, policy))
        drift += abs(gross.minor - fee.minor - platform - sum(r.amount_cents for r in mine))
    assert drift == 0
    # our disputes are the processor's, and every one won back gave each reversal row back
    theirs = {d["id"]: d for d in sandbox.ledger.values("disputes")}
    assert {c.external_dispute_id for c in chargebacks} == set(theirs)
    won_back = 0
    by_id = {r.id: r for r in rows}
    for c in chargebacks:
        dispute = theirs[c.external_dispute_id]
        assert c.status.value == {"needs_response": "OPEN", "won": "WON", "lost": "LOST"}[dispute["status"]]
        given_back = [
            r for r in rows if r.reversal_key == f"chargeback-won:{c.id}" and r.kind.value == "REINSTATEMENT"
        ]
        if dispute.get("funds_reinstated"):
            won_back += 1
            assert c.lost_at is not None
            reversal = [r for r in rows if r.reversal_key == f"chargeback:{c.id}"]
            assert sorted(r.reverses_id or "" for r in given_back) == sorted(r.id for r in reversal)
            for r in given_back:
                negated = by_id[r.reverses_id or ""]
                assert (r.amount_cents, r.platform_share_cents) == (
                    -negated.amount_cents,
                    -negated.platform_share_cents,
                )
        else:
            assert given_back == []
    assert won_back > 0, "the simulation won no dispute back"
    assert any(r.kind.value == "REINSTATEMENT" for r in rows), "no money was given back after attribution"
    for payout in payouts:
        linked = sum(r.amount_cents for r in rows if r.payout_id == payout.id)
        assert linked == (0 if payout.status.value == "FAILED" else payout.amount_cents)
    assert any(p.status.value == "COMPLETED" for p in payouts)

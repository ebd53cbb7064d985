"""Payouts, summaries, statements and concurrent attribution, on both databases."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from money_rig import MoneyRig, Seeded
from sqlalchemy import select

from adapters.persistence.models import AuditLog, Payout
from application.errors import InvalidInput, NotFound, PermissionDenied
from application.identity.principal import Principal
from application.money.attribute_conversations import AttributeConversationsCommand
from application.money.get_statement import GetStatementCommand
from application.money.run_payouts import RunPayoutsCommand
from application.money.summarize_revenue import SummarizeRevenueCommand


async def _attributed(rig: MoneyRig, world: Seeded, purchases: int = 1) -> list[str]:
    ids = []
    for _ in range(purchases):
        purchase_id, conversation_id = await rig.buy(world)
        await rig.use_and_end(conversation_id, {world.source_shared: 300, world.source_b: 100})
        ids.append(purchase_id)
    rig.clock.advance(timedelta(days=8))
    await rig.attribute()
    return ids


async def _run_payouts(rig: MoneyRig) -> object:
    async with rig.unit() as u:
        return await u.payouts(RunPayoutsCommand())


async def _payouts(rig: MoneyRig) -> list[Payout]:
    async with rig.factory() as s:
        return list(await s.scalars(select(Payout).order_by(Payout.creator_id)))


async def _settle_webhooks(rig: MoneyRig) -> None:
    for delivery in await rig.pending_sandbox_events():
        await rig.deliver_and_process(delivery)


async def test_payout_pays_the_balance_once_and_completes_by_webhook(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    await _attributed(rig, world)
    await rig.set_payout_account(world.creator_b)  # A has no account: not paid
    run = await _run_payouts(rig)
    assert len(run.pending) == 1
    [payout] = await _payouts(rig)
    assert (payout.creator_id, payout.amount_cents, payout.status.value) == (
        world.creator_b,
        226 + 188,
        "PROCESSING",
    )
    assert payout.idempotency_key == f"payout:{payout.id}"

    # a second run before the processor settles: same key, no second transfer, no second payout
    await _run_payouts(rig)
    assert len(rig.sandbox.ledger.values("payouts")) == 1
    assert len(await _payouts(rig)) == 1

    await _settle_webhooks(rig)
    [payout] = await _payouts(rig)
    assert payout.status.value == "COMPLETED"
    b_rows = await rig.rows(creator_id=world.creator_b)
    assert {r.payout_status.value for r in b_rows} == {"COMPLETED"}
    assert {r.payout_id for r in b_rows} == {payout.id}
    assert {r.payout_status.value for r in await rig.rows(creator_id=world.creator_a)} == {"PENDING"}
    async with rig.factory() as s:
        audited = list(await s.scalars(select(AuditLog).where(AuditLog.subject_id == payout.id)))
    assert [a.action for a in audited] == ["payout.create"]
    assert audited[0].actor_kind.value == "SYSTEM"
    assert await _run_payouts(rig) == type(run)()  # nothing left to pay


async def test_failed_payout_returns_the_amount_to_the_balance(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    await _attributed(rig, world)
    await rig.set_payout_account(world.creator_a, destination="acct_sbx_fail_closed")
    await _run_payouts(rig)
    await _settle_webhooks(rig)
    [payout] = await _payouts(rig)
    assert payout.status.value == "FAILED"
    rows = await rig.rows(creator_id=world.creator_a)
    assert {(r.payout_id, r.payout_status.value) for r in rows} == {(None, "PENDING")}
    async with rig.unit() as u:
        balances = await u.ledger.unpaid_balances()
    assert {(b.creator_id, b.amount) for b in balances} >= {(world.creator_a, 339)}


async def test_reversal_after_payout_nets_against_the_next_balance(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    [purchase_id] = await _attributed(rig, world)
    await rig.set_payout_account(world.creator_b)
    await _run_payouts(rig)
    await _settle_webhooks(rig)
    payment_id = (await rig.purchase(purchase_id)).external_payment_id
    await rig.sandbox.refund(payment_id, None, idempotency_key="after-payout")
    await _settle_webhooks(rig)
    async with rig.unit() as u:
        balances = {(b.creator_id, b.currency): b.amount for b in await u.ledger.unpaid_balances()}
    assert balances[(world.creator_b, "USD")] == -(226 + 188)
    run = await _run_payouts(rig)
    assert run.pending == []  # a negative balance is never paid


async def test_payouts_below_the_minimum_wait(rig: MoneyRig) -> None:
    world = await rig.seed(price=150)  # net 150 - 34 = 116, creators 93
    await _attributed(rig, world)
    await rig.set_payout_account(world.creator_b)
    await _run_payouts(rig)
    assert await _payouts(rig) == []


async def test_operators_only_run_payouts_by_hand(rig: MoneyRig) -> None:
    world = await rig.seed()
    async with rig.unit() as u:
        with pytest.raises((PermissionDenied, NotFound)):
            await u.payouts(RunPayoutsCommand(principal=Principal.user(world.buyer_id)))
        with pytest.raises((PermissionDenied, NotFound)):
            await u.attribute(AttributeConversationsCommand(principal=Principal.user(world.buyer_id)))


async def test_two_attribution_runs_at_once_write_one_set_of_rows(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    conversations = []
    for _ in range(6):
        _, conversation_id = await rig.buy(world)
        await rig.use_and_end(conversation_id, {world.source_shared: 10, world.source_b: 30})
        conversations.append(conversation_id)
    rig.clock.advance(timedelta(days=8))
    first, second = await asyncio.gather(rig.attribute(), rig.attribute())
    assert sorted(first.attributed + second.attributed) == sorted(conversations)
    rows = await rig.rows()
    assert len(rows) == 6 * 3
    assert len({(r.conversation_id, r.source_id, r.creator_id) for r in rows}) == 18


async def test_summaries_and_statements_follow_the_rows(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    [purchase_id] = await _attributed(rig, world)
    payment_id = (await rig.purchase(purchase_id)).external_payment_id
    await rig.sandbox.refund(payment_id, 400, idempotency_key="part")
    await _settle_webhooks(rig)
    async with rig.unit() as u:
        first = await u.summarize(SummarizeRevenueCommand())
    async with rig.unit() as u:
        second = await u.summarize(SummarizeRevenueCommand())
    assert first.rows == second.rows
    b = next(r for r in first.rows if r.creator_id == world.creator_b)
    b_rows = await rig.rows(creator_id=world.creator_b)
    assert b.creator_share == sum(r.amount_cents for r in b_rows)
    assert b.platform_share == sum(r.platform_share_cents for r in b_rows)
    assert b.total_revenue == b.creator_share + b.platform_share
    assert b.conversation_count == 1
    # all creators' summaries together: the sale's remaining 600 less the 59 fee, to the cent
    assert sum(r.total_revenue for r in first.rows) == 600 - 59
    assert sum(r.platform_share for r in first.rows) == 108  # floor(541 * 20%)

    month = rig.clock.now().strftime("%Y-%m")
    async with rig.unit() as u:
        statement = await u.statement(
            GetStatementCommand(
                principal=Principal.user(world.owner_id), creator_id=world.creator_b, month=month
            )
        )
        with pytest.raises((PermissionDenied, NotFound)):
            await u.statement(
                GetStatementCommand(
                    principal=Principal.user(world.buyer_id), creator_id=world.creator_b, month=month
                )
            )
    assert statement.totals == {"USD": b.creator_share}
    assert {line.purchase_id for line in statement.lines} == {purchase_id}
    assert {line.purchase_external_id for line in statement.lines} == {payment_id}
    assert {line.source_title for line in statement.lines} == {"Shared book", "B's book"}
    assert any(line.row.kind == "REVERSAL" for line in statement.lines)


async def test_statements_page_with_a_cursor_and_keep_month_totals(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    [purchase_id] = await _attributed(rig, world)
    payment_id = (await rig.purchase(purchase_id)).external_payment_id
    await rig.sandbox.refund(payment_id, 400, idempotency_key="paged")
    await _settle_webhooks(rig)
    month = rig.clock.now().strftime("%Y-%m")
    command = GetStatementCommand(principal=None, creator_id=world.creator_b, month=month)
    async with rig.unit() as u:
        everything = await u.statement(command)
        seen, cursor = [], None
        while True:
            page = await u.statement(replace(command, limit=1, cursor=cursor))
            assert page.totals == everything.totals
            seen += [line.row.id for line in page.lines]
            cursor = page.next_cursor
            if cursor is None:
                break
        with pytest.raises(InvalidInput):
            await u.statement(replace(command, limit=1, cursor="not-a-cursor"))
    assert seen == [line.row.id for line in everything.lines]
    assert len(seen) == 4  # two attribution rows and two reversals

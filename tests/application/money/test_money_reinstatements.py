"""A chargeback won back after it was lost, through the real webhook job, on both databases:
reinstatement rows, any delivery order, before and after attribution, payouts, summaries."""

from __future__ import annotations

import json
from datetime import timedelta

from money_rig import MoneyRig, Seeded
from sqlalchemy import select

from adapters.persistence.models import Chargeback, Payout
from application.money.get_statement import GetStatementCommand
from application.money.run_payouts import RunPayoutsCommand
from application.money.summarize_revenue import SummarizeRevenueCommand
from application.payments.ports import WebhookDelivery


async def _bought_and_used(rig: MoneyRig, world: Seeded) -> tuple[str, str]:
    purchase_id, conversation_id = await rig.buy(world)
    await rig.use_and_end(conversation_id, {world.source_shared: 300, world.source_b: 100})
    return purchase_id, (await rig.purchase(purchase_id)).external_payment_id


async def _lose_then_win_back(rig: MoneyRig, payment_id: str) -> tuple[WebhookDelivery, ...]:
    """The processor's side: a dispute opened, lost, and a month later won back."""
    opened = await rig.sandbox.open_dispute(payment_id)
    dispute_id = json.loads(opened.body)["data"]["object"]["id"]
    rig.clock.advance(timedelta(hours=1))
    lost = await rig.sandbox.resolve_dispute(dispute_id, won=False)
    rig.clock.advance(timedelta(days=30))
    won_back = await rig.sandbox.reinstate_dispute(dispute_id)
    return opened, lost, won_back


async def _deliver(rig: MoneyRig, *deliveries: WebhookDelivery) -> None:
    for delivery in deliveries:  # each signed again now, as a processor signs every delivery
        await rig.deliver_and_process(rig.sandbox.sign(json.loads(delivery.body)))


async def _chargeback(rig: MoneyRig) -> Chargeback:
    async with rig.factory() as s:
        [found] = list(await s.scalars(select(Chargeback)))
        return found


async def test_a_chargeback_won_back_gives_each_reversal_row_back_exactly(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    purchase_id, payment_id = await _bought_and_used(rig, world)
    rig.clock.advance(timedelta(days=8))
    await rig.attribute()
    originals = await rig.rows(kind="ATTRIBUTION")
    assert (sum(r.amount_cents for r in originals), sum(r.platform_share_cents for r in originals)) == (
        753,
        188,
    )
    opened, lost, won_back = await _lose_then_win_back(rig, payment_id)
    await _deliver(rig, opened, lost)
    reversals = {r.id: r for r in await rig.rows(kind="REVERSAL")}
    # everything went back: creators 0, the platform has paid the 59 fee
    assert sum(r.amount_cents for r in reversals.values()) == -753
    assert sum(r.platform_share_cents for r in reversals.values()) == -188 - 59
    assert (await rig.purchase(purchase_id)).status.value == "REFUNDED"

    await _deliver(rig, won_back)
    reinstated = await rig.rows(kind="REINSTATEMENT")
    assert sorted(r.reverses_id or "" for r in reinstated) == sorted(reversals)
    for row in reinstated:
        negated = reversals[row.reverses_id or ""]
        assert (row.amount_cents, row.platform_share_cents) == (
            -negated.amount_cents,
            -negated.platform_share_cents,
        )
        assert (row.source_id, row.creator_id, row.conversation_id, row.purchase_id) == (
            negated.source_id,
            negated.creator_id,
            negated.conversation_id,
            negated.purchase_id,
        )
        assert row.reversal_key == negated.reversal_key.replace("chargeback:", "chargeback-won:")
        assert row.amount_cents >= 0
    everything = await rig.rows()
    assert sum(r.amount_cents for r in everything) == 753
    assert sum(r.platform_share_cents for r in everything) == 188
    assert len(everything) == 3 * len(originals)  # nothing edited, nothing deleted
    chargeback = await _chargeback(rig)
    assert chargeback.status.value == "WON"
    assert chargeback.lost_at is not None
    assert chargeback.closed_at is not None
    assert chargeback.lost_at < chargeback.closed_at
    assert (await rig.purchase(purchase_id)).status.value == "COMPLETED"

    # the same news again, and again through a new delivery id: nothing more
    event = json.loads(won_back.body)
    await _deliver(rig, won_back)
    event["id"] += "-again"
    await rig.deliver_and_process(rig.sandbox.sign(event))
    await _deliver(rig, lost, opened)  # late copies of what came before change nothing either
    assert len(await rig.rows()) == len(everything)


async def test_the_win_delivered_before_the_loss_ends_the_same(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    purchase_id, payment_id = await _bought_and_used(rig, world)
    rig.clock.advance(timedelta(days=8))
    await rig.attribute()
    opened, lost, won_back = await _lose_then_win_back(rig, payment_id)
    await _deliver(rig, won_back)  # the last news first: no loss known, nothing to give back
    assert await rig.rows(kind="REINSTATEMENT") == []
    assert (await _chargeback(rig)).status.value == "WON"
    await _deliver(rig, lost, opened)
    # learning of the loss now: it happened before the win, so it is reversed and given back
    reversals = await rig.rows(kind="REVERSAL")
    reinstated = await rig.rows(kind="REINSTATEMENT")
    assert sum(r.amount_cents for r in reversals) == -753
    assert sorted(r.reverses_id or "" for r in reinstated) == sorted(r.id for r in reversals)
    assert sum(r.amount_cents for r in await rig.rows()) == 753
    assert sum(r.platform_share_cents for r in await rig.rows()) == 188
    chargeback = await _chargeback(rig)
    assert (chargeback.status.value, chargeback.lost_at is not None) == ("WON", True)
    assert (await rig.purchase(purchase_id)).status.value == "COMPLETED"


async def test_a_chargeback_won_back_before_attribution_restores_the_net(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    _, payment_id = await _bought_and_used(rig, world)
    opened, lost, won_back = await _lose_then_win_back(rig, payment_id)
    await _deliver(rig, opened, lost, won_back)
    rig.clock.advance(timedelta(days=8))
    await rig.attribute()
    rows = await rig.rows()
    assert {r.kind.value for r in rows} == {"ATTRIBUTION"}
    assert (sum(r.amount_cents for r in rows), sum(r.platform_share_cents for r in rows)) == (753, 188)


async def test_a_conversation_attributed_while_charged_back_is_paid_once_won_back(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    purchase_id, payment_id = await _bought_and_used(rig, world)
    await rig.sandbox.refund(payment_id, 400, idempotency_key="first")
    refund_events = await rig.pending_sandbox_events()
    opened, lost, won_back = await _lose_then_win_back(rig, payment_id)  # the other 600
    await _deliver(rig, *refund_events, opened, lost)
    run = await rig.attribute()
    assert len(run.refunded) == 1  # nothing left to pay: attributed without rows
    assert await rig.rows() == []
    await _deliver(rig, won_back)
    rows = await rig.rows()
    # the 600 came back: attributed now, as attributing 600 would (net 541, platform 108)
    assert {r.kind.value for r in rows} == {"ATTRIBUTION"}
    assert (sum(r.amount_cents for r in rows), sum(r.platform_share_cents for r in rows)) == (433, 108)
    assert (await rig.purchase(purchase_id)).status.value == "PARTIALLY_REFUNDED"


async def test_a_reinstatement_after_the_reversal_was_paid_out_is_new_balance(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    await rig.set_payout_account(world.creator_a, destination="acct_sbx_a")
    await rig.set_payout_account(world.creator_b, destination="acct_sbx_b")
    first = [await _bought_and_used(rig, world) for _ in range(3)]
    rig.clock.advance(timedelta(days=8))
    await rig.attribute()
    [(_, payment_id)] = first[:1]
    opened, lost, won_back = await _lose_then_win_back(rig, payment_id)
    await _deliver(rig, opened, lost)
    await _pay(rig)  # two sales kept, one reversed: the reversal is netted into this payout
    paid_first = await _paid(rig)
    assert sum(paid_first.values()) == 2 * 753
    assert all(r.payout_id is not None for r in await rig.rows(kind="REVERSAL"))

    await _deliver(rig, won_back)
    async with rig.unit() as u:
        balances = {b.creator_id: b.amount for b in await u.ledger.unpaid_balances()}
    assert balances == {world.creator_a: 339, world.creator_b: 414}  # the reinstatement, unpaid
    await _pay(rig)
    paid = await _paid(rig)
    assert sum(paid.values()) == 3 * 753  # every cent of three kept sales, paid once
    assert all(r.payout_id is not None for r in await rig.rows(kind="REINSTATEMENT"))


async def _pay(rig: MoneyRig) -> None:
    async with rig.unit() as u:
        await u.payouts(RunPayoutsCommand())
    for delivery in await rig.pending_sandbox_events():
        await rig.deliver_and_process(delivery)


async def _paid(rig: MoneyRig) -> dict[str, int]:
    async with rig.factory() as s:
        payouts = list(await s.scalars(select(Payout).where(Payout.status == "COMPLETED")))
    out: dict[str, int] = {}
    for payout in payouts:
        out[payout.creator_id] = out.get(payout.creator_id, 0) + payout.amount_cents
    return out


async def test_summaries_and_statements_carry_the_reinstated_money(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    _, payment_id = await _bought_and_used(rig, world)
    rig.clock.advance(timedelta(days=8))
    await rig.attribute()
    opened, lost, won_back = await _lose_then_win_back(rig, payment_id)
    await _deliver(rig, opened, lost, won_back)
    async with rig.unit() as u:
        summaries = (await u.summarize(SummarizeRevenueCommand())).rows
    rows = await rig.rows()
    by_month: dict[tuple[str, int, int], list] = {}
    for r in rows:
        by_month.setdefault((r.creator_id, r.created_at.year, r.created_at.month), []).append(r)
    assert len(summaries) == len(by_month)
    for summary in summaries:
        mine = by_month[(summary.creator_id, summary.year, summary.month)]
        assert summary.creator_share == sum(r.amount_cents for r in mine)
        assert summary.platform_share == sum(r.platform_share_cents for r in mine)
        assert summary.total_revenue == summary.creator_share + summary.platform_share
    # over every month: the sale's 1000 less the 59 fee, creators 753 and platform 188
    assert sum(s.total_revenue for s in summaries) == 941
    assert sum(s.platform_share for s in summaries) == 188
    assert sum(s.creator_share for s in summaries) == 753

    month = rig.clock.now().strftime("%Y-%m")
    async with rig.unit() as u:
        statement = await u.statement(
            GetStatementCommand(principal=None, creator_id=world.creator_b, month=month)
        )
    booked = [r for r in rows if r.creator_id == world.creator_b and r.created_at.strftime("%Y-%m") == month]
    assert sorted(line.row.id for line in statement.lines) == sorted(r.id for r in booked)
    assert "REINSTATEMENT" in {line.row.kind for line in statement.lines}  # booked when it came back
    assert statement.totals == {"USD": sum(r.amount_cents for r in booked)}
    given_back = [line.row for line in statement.lines if line.row.kind == "REINSTATEMENT"]
    assert sum(r.amount for r in given_back) == 414  # all of B's 226 + 188 came back
    assert all(r.reversal_key.startswith("chargeback-won:") for r in given_back)

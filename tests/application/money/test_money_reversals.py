"""Refunds, chargebacks and out-of-order events against the ledger, on both databases."""

from __future__ import annotations

import json
from datetime import timedelta

from money_rig import MoneyRig, Seeded

TOKENS_3_TO_1 = {"shared": 300, "b": 100}


async def _bought_and_used(rig: MoneyRig, world: Seeded) -> tuple[str, str, str]:
    purchase_id, conversation_id = await rig.buy(world)
    await rig.use_and_end(conversation_id, {world.source_shared: 300, world.source_b: 100})
    payment_id = (await rig.purchase(purchase_id)).external_payment_id
    return purchase_id, conversation_id, payment_id


async def _refund(rig: MoneyRig, payment_id: str, amount: int | None, key: str) -> None:
    await rig.sandbox.refund(payment_id, amount, idempotency_key=key)
    for delivery in await rig.pending_sandbox_events():
        await rig.deliver_and_process(delivery)


async def test_partial_refund_before_attribution_reduces_what_is_attributed(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    purchase_id, _, payment_id = await _bought_and_used(rig, world)
    await _refund(rig, payment_id, 400, "r1")
    purchase = await rig.purchase(purchase_id)
    assert (purchase.status.value, purchase.refunded_cents) == ("PARTIALLY_REFUNDED", 400)
    rig.clock.advance(timedelta(days=8))
    await rig.attribute()
    rows = await rig.rows()
    # gross kept 600, fee 59 stays with the processor: net 541, platform 108, creators 433
    assert sum(r.amount_cents for r in rows) == 433
    assert all(r.kind.value == "ATTRIBUTION" for r in rows)


async def test_full_refund_before_attribution_attributes_nothing(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    purchase_id, conversation_id, payment_id = await _bought_and_used(rig, world)
    await _refund(rig, payment_id, None, "r-all")
    assert (await rig.purchase(purchase_id)).status.value == "REFUNDED"
    rig.clock.advance(timedelta(days=8))
    run = await rig.attribute()
    assert run.refunded == [conversation_id]
    assert await rig.rows() == []
    assert (await rig.conversation(conversation_id)).status.value == "ATTRIBUTED"


async def test_late_refund_posts_reversals_split_like_the_originals(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    purchase_id, _, payment_id = await _bought_and_used(rig, world)
    rig.clock.advance(timedelta(days=8))
    await rig.attribute()
    originals = {r.id: r for r in await rig.rows(kind="ATTRIBUTION")}
    assert sum(r.amount_cents for r in originals.values()) == 753

    await _refund(rig, payment_id, 400, "late-1")
    reversals = await rig.rows(kind="REVERSAL")
    # the creators now get what 600 gross would give: 433; 753 - 433 = 320 reversed
    assert sum(r.amount_cents for r in reversals) == -320
    for rev in reversals:
        original = originals[rev.reverses_id]
        assert (rev.source_id, rev.creator_id, rev.conversation_id) == (
            original.source_id,
            original.creator_id,
            original.conversation_id,
        )
        assert rev.amount_cents <= 0
        assert rev.reversal_key.startswith("refund:")

    # the rest, then a replay of the same refund webhook: everything cancels exactly, once
    await _refund(rig, payment_id, None, "late-2")
    assert sum(r.amount_cents for r in await rig.rows()) == 0
    per_line: dict[str, int] = {}
    for row in await rig.rows():
        line = row.reverses_id or row.id
        per_line[line] = per_line.get(line, 0) + row.amount_cents
    assert set(per_line.values()) == {0}
    assert (await rig.purchase(purchase_id)).status.value == "REFUNDED"


async def test_replayed_refund_event_reverses_once(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    _, _, payment_id = await _bought_and_used(rig, world)
    rig.clock.advance(timedelta(days=8))
    await rig.attribute()
    await rig.sandbox.refund(payment_id, 100, idempotency_key="once")
    [delivery] = await rig.pending_sandbox_events()
    first = await rig.deliver_and_process(delivery)
    again = await rig.deliver_and_process(delivery)
    assert first.status == "PROCESSED"
    assert again.status == "ALREADY_DONE"
    # a different delivery of the same refund (a new event id) is also a no-op
    event = json.loads(delivery.body)
    event["id"] = event["id"] + "-redelivered"
    await rig.deliver_and_process(rig.sandbox.sign(event))
    reversed_total = sum(r.amount_cents for r in await rig.rows(kind="REVERSAL"))
    # 900 kept: net 841, platform 168, creators 673; 753 - 673 = 80
    assert reversed_total == -80


async def test_lost_chargeback_reverses_and_won_changes_nothing(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    purchase_id, _, payment_id = await _bought_and_used(rig, world)
    rig.clock.advance(timedelta(days=8))
    await rig.attribute()
    opened = await rig.sandbox.open_dispute(payment_id)
    await rig.deliver_and_process(opened)
    assert (await rig.purchase(purchase_id)).status.value == "DISPUTED"
    assert await rig.rows(kind="REVERSAL") == []
    dispute_id = json.loads(opened.body)["data"]["object"]["id"]
    await rig.deliver_and_process(await rig.sandbox.resolve_dispute(dispute_id, won=False))
    assert sum(r.amount_cents for r in await rig.rows()) == 0
    assert (await rig.purchase(purchase_id)).status.value == "REFUNDED"


async def test_won_chargeback_restores_the_purchase(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    purchase_id, _, payment_id = await _bought_and_used(rig, world)
    opened = await rig.sandbox.open_dispute(payment_id)
    dispute_id = json.loads(opened.body)["data"]["object"]["id"]
    won = await rig.sandbox.resolve_dispute(dispute_id, won=True)
    # delivered out of order: the outcome first, the opening days later
    await rig.deliver_and_process(won)
    rig.clock.advance(timedelta(days=2))
    await rig.deliver_and_process(rig.sandbox.sign(json.loads(opened.body)))
    assert (await rig.purchase(purchase_id)).status.value == "COMPLETED"
    rig.clock.advance(timedelta(days=8))
    await rig.attribute()
    assert sum(r.amount_cents for r in await rig.rows()) == 753


async def test_refund_seen_before_the_payment_fetches_the_payment_first(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    purchase_id, checkout_id = await rig.start_checkout(world)
    paid = await rig.sandbox.complete(checkout_id, succeed=True)
    payment_id = json.loads(paid.body)["data"]["object"]["id"]
    await rig.sandbox.refund(payment_id, 250, idempotency_key="early")
    [refund_delivery] = await rig.pending_sandbox_events()
    await rig.deliver_and_process(refund_delivery)
    purchase = await rig.purchase(purchase_id)
    assert (purchase.status.value, purchase.refunded_cents, purchase.processing_fee_cents) == (
        "PARTIALLY_REFUNDED",
        250,
        59,
    )
    late = await rig.deliver_and_process(paid)
    assert late.status == "PROCESSED"
    converged = await rig.purchase(purchase_id)
    assert (converged.status.value, converged.refunded_cents, converged.net_amount_cents) == (
        "PARTIALLY_REFUNDED",
        250,
        941,
    )

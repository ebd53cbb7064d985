"""Checkout -> signed webhook -> inbox -> purchase -> conversation -> attribution, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from money_rig import MoneyRig

from application.errors import Conflict
from application.payments.errors import WebhookSignatureInvalid, WebhookSignatureMissing
from application.payments.ports import WebhookDelivery


async def test_paid_checkout_completes_the_purchase_and_opens_its_conversation(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    purchase_id, checkout_id = await rig.start_checkout(world)
    pending = await rig.purchase(purchase_id)
    assert (pending.status.value, pending.amount_cents, pending.currency) == ("PENDING", 1000, "USD")

    delivery = await rig.sandbox.complete(checkout_id, succeed=True)
    inbox_id, duplicate = await rig.deliver(delivery)
    assert not duplicate
    assert await rig.outbox_jobs("process-webhook") == 1
    outcome = await rig.process(inbox_id)

    paid = await rig.purchase(purchase_id)
    assert paid.status.value == "COMPLETED"
    # sandbox fee model: 2.9% + 30 = 29 + 30
    assert (paid.amount_cents, paid.processing_fee_cents, paid.net_amount_cents) == (1000, 59, 941)
    assert paid.external_payment_id.startswith("pay_sbx_")
    conversation = await rig.conversation(outcome.conversation_id)
    assert conversation.purchase_id == purchase_id
    assert conversation.user_id == world.buyer_id


async def test_duplicate_delivery_and_rerun_job_change_nothing(rig: MoneyRig) -> None:
    world = await rig.seed()
    purchase_id, checkout_id = await rig.start_checkout(world)
    delivery = await rig.sandbox.complete(checkout_id, succeed=True)
    first, _ = await rig.deliver(delivery)
    again, duplicate = await rig.deliver(delivery)
    assert (again, duplicate) == (first, True)
    assert await rig.outbox_jobs("process-webhook") == 1
    one = await rig.process(first)
    two = await rig.process(first)
    assert one.status == "PROCESSED"
    assert two.status == "ALREADY_DONE"
    assert (await rig.purchase(purchase_id)).status.value == "COMPLETED"


async def test_bad_and_missing_signatures_store_nothing(rig: MoneyRig) -> None:
    world = await rig.seed()
    _, checkout_id = await rig.start_checkout(world)
    delivery = await rig.sandbox.complete(checkout_id, succeed=True)
    tampered = WebhookDelivery(headers=delivery.headers, body=delivery.body.replace(b"1000", b"9000"))
    with pytest.raises(WebhookSignatureInvalid):
        await rig.deliver(tampered)
    with pytest.raises(WebhookSignatureMissing):
        await rig.deliver(WebhookDelivery(headers={}, body=delivery.body))
    assert await rig.outbox_jobs("process-webhook") == 0


async def test_failed_payment_fails_the_purchase_without_a_conversation(rig: MoneyRig) -> None:
    world = await rig.seed()
    purchase_id, checkout_id = await rig.start_checkout(world)
    outcome = await rig.deliver_and_process(await rig.sandbox.complete(checkout_id, succeed=False))
    assert outcome.conversation_id is None
    assert (await rig.purchase(purchase_id)).status.value == "FAILED"


async def test_free_chatbots_cannot_be_bought(rig: MoneyRig) -> None:
    world = await rig.seed(price=0)
    with pytest.raises(Conflict) as caught:
        await rig.start_checkout(world)
    assert caught.value.code == "chatbot-is-free"


async def test_attribution_waits_for_the_refund_window_then_pays_by_tokens_and_shares(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    purchase_id, conversation_id = await rig.buy(world)
    await rig.use_and_end(conversation_id, {world.source_shared: 300, world.source_b: 100})

    rig.clock.advance(timedelta(days=7) - timedelta(seconds=1))
    early = await rig.attribute()
    assert early.attributed == []
    assert await rig.rows() == []

    rig.clock.advance(timedelta(seconds=1))
    run = await rig.attribute()
    assert run.attributed == [conversation_id]
    rows = await rig.rows()
    # net 941, platform floor(941 * 20%) = 188, creators 753: shared 3/4 -> 565 (A 339, B 226), b 188
    by_key = {(r.source_id, r.creator_id): r.amount_cents for r in rows}
    assert by_key == {
        (world.source_shared, world.creator_a): 339,
        (world.source_shared, world.creator_b): 226,
        (world.source_b, world.creator_b): 188,
    }
    assert sum(by_key.values()) == 753
    shared_a = next(r for r in rows if r.creator_id == world.creator_a)
    assert shared_a.token_count == 300
    assert str(shared_a.token_percentage) == "0.7500000000"
    assert str(shared_a.share) == "0.6000"
    conversation = await rig.conversation(conversation_id)
    assert conversation.status.value == "ATTRIBUTED"
    assert conversation.attributed_at == rig.clock.now()

    again = await rig.attribute()
    assert again.attributed == []
    assert len(await rig.rows()) == 3
    purchase = await rig.purchase(purchase_id)
    assert purchase.amount_cents == purchase.processing_fee_cents + 188 + 753


async def test_no_source_tokens_split_equally_across_the_versions_sources(rig: MoneyRig) -> None:
    world = await rig.seed(price=1000)
    _, conversation_id = await rig.buy(world)
    await rig.use_and_end(conversation_id, {})
    rig.clock.advance(timedelta(days=8))
    await rig.attribute()
    per_source: dict[str, int] = {}
    for row in await rig.rows():
        per_source[row.source_id] = per_source.get(row.source_id, 0) + row.amount_cents
    assert sorted(per_source.values()) == [376, 377]

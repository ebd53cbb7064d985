"""Paddle beyond the contract: every notification of Paddle's own SDK fixtures read as Canon's
events, our test signing accepted by the SDK's `Verifier`, the server-side idempotency marker,
partial refunds spread over line items, and what the checkout sends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from types import SimpleNamespace

import pytest
from paddle_billing.Notifications import Secret, Verifier
from payment_testkit.doubles.http_double import vendor_fixture
from payment_testkit.harness import NOW
from payment_testkit.paddle_harness import SECRET, PaddleHarness, dump, notification, paddle_headers

from adapters.payments.paddle_gateway import PaddlePaymentGateway, _allocate
from application.payments.errors import (
    PaymentProcessorRejected,
    PaymentProcessorUnavailable,
    WebhookPayloadInvalid,
)
from application.payments.ports import CheckoutRequest, WebhookEventType

T = WebhookEventType
EXPECTED = {
    "adjustment.created": T.IGNORED,  # a refund still pending Paddle's approval
    "adjustment.updated": T.IGNORED,
    "payout.created": T.IGNORED,  # Paddle paying the platform, not a creator payout
    "payout.paid": T.IGNORED,
    "transaction.billed": T.IGNORED,
    "transaction.canceled": T.PAYMENT_FAILED,
    "transaction.completed": T.PAYMENT_SUCCEEDED,
    "transaction.created": T.IGNORED,
    "transaction.paid": T.IGNORED,  # completed follows, with the fee
    "transaction.past_due": T.IGNORED,
    "transaction.payment_failed": T.IGNORED,  # the buyer may retry
    "transaction.ready": T.IGNORED,
    "transaction.revised": T.IGNORED,
    "transaction.updated": T.IGNORED,
}


@pytest.fixture
async def harness() -> AsyncIterator[PaddleHarness]:
    harness = PaddleHarness()
    yield harness
    await harness.aclose()


def request(**overrides: object) -> CheckoutRequest:
    values: dict[str, object] = {
        "purchase_id": "purchase-7",
        "amount_minor": 6_000,
        "currency": "USD",
        "description": "Ask the archive",
        "success_url": "https://canon.test/ok",
        "cancel_url": "https://canon.test/cancel",
    }
    values.update(overrides)
    return CheckoutRequest(**values)  # type: ignore[arg-type]


async def test_every_published_notification_reads_as_the_documented_event(harness: PaddleHarness) -> None:
    payloads = harness.vendor_payloads()
    assert set(payloads) == set(EXPECTED)
    for name, body in payloads.items():
        event = await harness.gateway.verify_webhook(harness.sign(body), body, now=NOW)
        assert event.type == EXPECTED[name], name
        assert event.processor_event_type == name
    completed = payloads["transaction.completed"]
    event = await harness.gateway.verify_webhook(harness.sign(completed), completed, now=NOW)
    assert (event.amount_minor, event.fee_minor, event.tax_minor, event.currency) == (
        65_215,
        3_311,
        5_315,
        "USD",
    )
    assert event.external_payment_id == "txn_01hv8wptq8987qeep44cyrewp9"
    assert event.purchase_reference is None  # the published example carries no custom data


def test_our_test_signing_is_what_the_sdks_verifier_accepts() -> None:
    body = dump(notification("transaction.completed", vendor_fixture("paddle", "transaction.completed")))
    request = SimpleNamespace(headers=paddle_headers(body, SECRET, NOW), body=body)
    assert Verifier().verify(request, Secret(SECRET), verify_time_drift=False) is True
    assert Verifier().verify(request, Secret("another"), verify_time_drift=False) is False


@pytest.mark.parametrize(
    ("action", "status", "expected"),
    [
        ("refund", "approved", T.REFUNDED),
        ("refund", "rejected", T.IGNORED),
        ("chargeback_warning", "approved", T.CHARGEBACK_OPENED),
        ("chargeback", "approved", T.CHARGEBACK_LOST),
        ("chargeback_reverse", "approved", T.CHARGEBACK_WON),
        ("chargeback_warning_reverse", "approved", T.CHARGEBACK_WON),
        ("credit", "approved", T.IGNORED),
    ],
)
async def test_adjustment_actions(
    harness: PaddleHarness, action: str, status: str, expected: WebhookEventType
) -> None:
    adjustment = vendor_fixture("paddle", "adjustment.updated")
    adjustment.update(action=action, status=status, type="partial")
    body = dump(notification("adjustment.updated", adjustment))
    event = await harness.gateway.verify_webhook(harness.sign(body), body, now=NOW)
    assert event.type == expected
    if expected != T.IGNORED:
        assert (event.external_payment_id, event.amount_minor) == ("txn_01hvcc93znj3mpqt1tenkjb04y", 100)


async def test_a_chargeback_and_its_reverse_name_the_same_dispute(harness: PaddleHarness) -> None:
    events = []
    for action, days in (("chargeback", 0), ("chargeback_reverse", 35)):
        adjustment = vendor_fixture("paddle", "adjustment.created")  # Paddle's published example
        adjustment.update(action=action, status="approved", type="full")
        body = dump(
            notification("adjustment.created", adjustment, occurred_at=NOW - timedelta(days=40 - days))
        )
        events.append(await harness.gateway.verify_webhook(harness.sign(body), body, now=NOW))
    lost, back = events
    assert (lost.type, back.type) == (T.CHARGEBACK_LOST, T.CHARGEBACK_WON)
    assert lost.chargeback is not None
    assert back.chargeback is not None
    # each step is its own adjustment: the transaction is what ties the reverse to the chargeback
    assert back.chargeback.external_dispute_id == lost.chargeback.external_dispute_id
    assert back.chargeback.external_dispute_id == "txn_01hvcc93znj3mpqt1tenkjb04y"
    assert back.occurred_at > lost.occurred_at  # the processor's times order them, not arrival


async def test_amounts_that_are_not_minor_unit_strings_are_refused(harness: PaddleHarness) -> None:
    transaction = vendor_fixture("paddle", "transaction.completed")
    transaction["details"]["totals"]["fee"] = "33.11"
    body = dump(notification("transaction.completed", transaction))
    with pytest.raises(WebhookPayloadInvalid):
        await harness.gateway.verify_webhook(harness.sign(body), body, now=NOW)


async def test_checkout_is_a_tax_inclusive_non_catalog_transaction(harness: PaddleHarness) -> None:
    await harness.gateway.create_checkout(request())
    (call,) = harness.double.calls("POST", "/transactions")
    body = call.json()
    price = body["items"][0]["price"]
    assert price["unit_price"] == {"amount": "6000", "currency_code": "USD"}
    assert (price["tax_mode"], price["product"]["tax_category"]) == ("internal", "digital-goods")
    assert body["custom_data"] == {"canon_purchase_id": "purchase-7"}
    assert "checkout" not in body
    assert call.header("authorization") == f"Bearer {harness.double.api_key}"


async def test_a_retry_from_a_fresh_process_finds_the_first_refund(harness: PaddleHarness) -> None:
    checkout = await harness.gateway.create_checkout(request())
    await harness.pay(checkout, request())
    first = await harness.gateway.refund(checkout.external_checkout_id, 1_000, idempotency_key="refund-abc")
    restarted = PaddlePaymentGateway(
        api_key=harness.double.api_key, webhook_secret=SECRET, api_base=harness.double.base_url
    )
    again = await restarted.refund(checkout.external_checkout_id, 1_000, idempotency_key="refund-abc")
    assert again.external_refund_id == first.external_refund_id
    assert len(harness.double.adjustments) == 1
    (adjustment,) = harness.double.adjustments.values()
    assert adjustment["reason"].endswith("[canon:refund-abc]")


def test_partial_refunds_spread_over_line_items() -> None:
    lines = [
        SimpleNamespace(id="a", totals=SimpleNamespace(total="300")),
        SimpleNamespace(id="b", totals=SimpleNamespace(total="500")),
    ]
    earlier = [SimpleNamespace(items=[SimpleNamespace(item_id="a", amount="250")])]
    items = _allocate(lines, earlier, 300)
    assert [(i.item_id, i.amount) for i in items] == [("a", "50"), ("b", "250")]
    with pytest.raises(PaymentProcessorRejected):
        _allocate(lines, earlier, 600)


async def test_refunding_an_unpaid_transaction_is_refused_and_a_bad_key_is_an_outage(
    harness: PaddleHarness,
) -> None:
    checkout = await harness.gateway.create_checkout(request())
    with pytest.raises(PaymentProcessorRejected):
        await harness.gateway.refund(checkout.external_checkout_id, None, idempotency_key="k")
    wrong = PaddlePaymentGateway(api_key="pdl_wrong", webhook_secret=SECRET, api_base=harness.double.base_url)
    with pytest.raises(PaymentProcessorUnavailable):
        await wrong.fetch_payment(checkout.external_checkout_id)
    assert harness.double.requests[-1].header("authorization") == "Bearer pdl_wrong"

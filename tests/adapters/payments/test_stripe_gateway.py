"""Stripe beyond the contract: what the checkout sends, signatures made by the SDK's own signer,
fees settled in another currency, the events Canon deliberately ignores, and error mapping."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import stripe
from payment_testkit.doubles.http_double import vendor_fixture
from payment_testkit.harness import NOW
from payment_testkit.stripe_harness import SECRET, StripeHarness, dump, stripe_event

from adapters.payments.stripe_gateway import StripePaymentGateway
from application.payments.errors import (
    PaymentNotFound,
    PaymentProcessorRejected,
    PaymentProcessorUnavailable,
    WebhookPayloadInvalid,
)
from application.payments.ports import CheckoutRequest, WebhookEventType

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning")


@pytest.fixture
async def harness() -> AsyncIterator[StripeHarness]:
    harness = StripeHarness()
    yield harness
    await harness.aclose()


def request(**overrides: object) -> CheckoutRequest:
    values: dict[str, object] = {
        "purchase_id": "purchase-42",
        "amount_minor": 1_999,
        "currency": "EUR",
        "description": "Ask the archive",
        "success_url": "https://canon.test/ok",
        "cancel_url": "https://canon.test/cancel",
        "customer_email": "reader@example.com",
        "idempotency_key": "checkout-purchase-42",
    }
    values.update(overrides)
    return CheckoutRequest(**values)  # type: ignore[arg-type]


async def test_checkout_session_is_a_one_line_payment_carrying_our_reference(harness: StripeHarness) -> None:
    checkout = await harness.gateway.create_checkout(request())
    (call,) = harness.double.calls("POST", "/v1/checkout/sessions")
    form = call.form()
    assert call.header("idempotency-key") == "checkout-purchase-42"
    assert form["mode"] == "payment"
    assert form["line_items[0][price_data][currency]"] == "eur"
    assert form["line_items[0][price_data][unit_amount]"] == "1999"
    assert form["line_items[0][price_data][product_data][name]"] == "Ask the archive"
    assert form["client_reference_id"] == "purchase-42"
    assert form["metadata[canon_purchase_id]"] == "purchase-42"
    assert form["payment_intent_data[metadata][canon_purchase_id]"] == "purchase-42"
    assert form["customer_email"] == "reader@example.com"
    assert checkout.url == f"https://checkout.stripe.com/c/pay/{checkout.external_checkout_id}"
    assert checkout.expires_at is not None


async def test_a_header_made_by_the_sdks_own_signer_verifies(harness: StripeHarness) -> None:
    body = harness.vendor_payloads()["event"]
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), SECRET, int(NOW.timestamp()))
    event = await harness.gateway.verify_webhook({"Stripe-Signature": header}, body, now=NOW)
    assert (event.type, event.processor_event_type) == (WebhookEventType.IGNORED, "plan.created")
    assert event.external_event_id == json.loads(body)["id"]


async def test_the_fee_settled_in_another_currency_is_converted_back(harness: StripeHarness) -> None:
    checkout = await harness.gateway.create_checkout(request(amount_minor=10_000))
    intent_id = harness.double.pay(checkout.external_checkout_id)
    charge = harness.double.charges[harness.double.charge_of(intent_id)]
    txn = harness.double.balance_transactions[charge["balance_transaction"]]
    # settled in USD at 1.10 USD per EUR: a 352 USD-cent fee is 320 euro cents
    txn.update(currency="usd", amount=11_000, fee=352, net=10_648, exchange_rate=1.1)
    snapshot = await harness.gateway.fetch_payment(intent_id)
    assert (snapshot.currency, snapshot.fee_minor, snapshot.net_minor) == ("EUR", 320, 9_680)


@pytest.mark.parametrize(
    ("kind", "changes", "expected"),
    [
        ("checkout.session.completed", {"payment_status": "unpaid"}, WebhookEventType.IGNORED),
        (
            "checkout.session.async_payment_succeeded",
            {"payment_status": "paid"},
            WebhookEventType.PAYMENT_SUCCEEDED,
        ),
        ("checkout.session.async_payment_failed", {}, WebhookEventType.PAYMENT_FAILED),
        ("payment_intent.payment_failed", {}, WebhookEventType.IGNORED),
        ("charge.dispute.closed", {"status": "warning_closed"}, WebhookEventType.CHARGEBACK_WON),
        ("charge.dispute.closed", {"status": "won"}, WebhookEventType.CHARGEBACK_WON),
        ("charge.dispute.closed", {"status": "lost"}, WebhookEventType.CHARGEBACK_LOST),
        ("charge.dispute.funds_reinstated", {"status": "won"}, WebhookEventType.CHARGEBACK_WON),
        ("charge.dispute.funds_withdrawn", {"status": "needs_response"}, WebhookEventType.IGNORED),
        ("charge.dispute.closed", {"status": "under_review"}, WebhookEventType.IGNORED),
        ("transfer.reversed", {"amount_reversed": 100}, WebhookEventType.IGNORED),
    ],
)
async def test_event_mapping_edges(
    harness: StripeHarness, kind: str, changes: dict[str, object], expected: WebhookEventType
) -> None:
    checkout = await harness.gateway.create_checkout(request())
    intent_id = harness.double.pay(checkout.external_checkout_id)
    fixture = {
        "checkout": "checkout.session",
        "payment_intent": "payment_intent",
        "charge": "dispute",
        "transfer": "transfer",
    }[kind.split(".")[0]]
    data = vendor_fixture("stripe", fixture)
    data.update(payment_intent=intent_id, metadata={"canon_purchase_id": "purchase-42"}, **changes)
    if fixture == "dispute":
        data["charge"] = harness.double.charge_of(intent_id)
    body = dump(stripe_event(kind, data))
    event = await harness.gateway.verify_webhook(harness.sign(body), body, now=NOW)
    assert event.type == expected


async def test_funds_reinstated_names_the_dispute_it_gives_back(harness: StripeHarness) -> None:
    checkout = await harness.gateway.create_checkout(request())
    intent_id = harness.double.pay(checkout.external_checkout_id)
    events = []
    for kind, status in (("charge.dispute.closed", "lost"), ("charge.dispute.funds_reinstated", "won")):
        dispute = vendor_fixture("stripe", "dispute")  # Stripe's published dispute object
        dispute.update(status=status, payment_intent=intent_id, charge=harness.double.charge_of(intent_id))
        body = dump(stripe_event(kind, dispute))
        events.append(await harness.gateway.verify_webhook(harness.sign(body), body, now=NOW))
    lost, back = events
    assert (lost.type, back.type) == (WebhookEventType.CHARGEBACK_LOST, WebhookEventType.CHARGEBACK_WON)
    assert lost.chargeback is not None
    assert back.chargeback is not None
    assert (
        back.chargeback.external_dispute_id
        == lost.chargeback.external_dispute_id
        == "dp_1Pgc71B7WZ01zgkWMevJiAUx"
    )
    assert back.chargeback.amount_minor == lost.chargeback.amount_minor == 1000
    assert back.external_payment_id == lost.external_payment_id == intent_id
    assert back.purchase_reference == "purchase-42"


async def test_a_verified_body_that_is_not_a_snapshot_event_is_refused(harness: StripeHarness) -> None:
    thin = json.dumps(
        {"id": "evt_1", "object": "v2.core.event", "type": "v1.billing.meter.error_report_triggered"}
    ).encode()
    with pytest.raises(WebhookPayloadInvalid):
        await harness.gateway.verify_webhook(harness.sign(thin), thin, now=NOW)
    odd_currency = dump(
        stripe_event("transfer.created", {"id": "tr_1", "amount": 5, "currency": "zzz", "metadata": {}})
    )
    with pytest.raises(WebhookPayloadInvalid):
        await harness.gateway.verify_webhook(harness.sign(odd_currency), odd_currency, now=NOW)


async def test_errors_map_to_stable_codes(harness: StripeHarness) -> None:
    with pytest.raises(PaymentNotFound):
        await harness.gateway.fetch_payment("pi_does_not_exist")
    checkout = await harness.gateway.create_checkout(request(idempotency_key=None))
    intent_id = harness.double.pay(checkout.external_checkout_id)
    await harness.gateway.refund(intent_id, 100, idempotency_key="k-1")
    with pytest.raises(PaymentProcessorRejected) as reused:
        await harness.gateway.refund(intent_id, 200, idempotency_key="k-1")
    assert reused.value.code == "payment-processor-rejected"
    wrong_key = StripePaymentGateway(
        api_key="sk_test_wrong",
        webhook_secret=SECRET,
        api_base=harness.double.base_url,
        max_network_retries=0,
    )
    try:
        with pytest.raises(PaymentProcessorUnavailable):
            await wrong_key.fetch_payment(intent_id)
    finally:
        await wrong_key.close()

"""Lemon Squeezy beyond the contract: the JSON:API checkout document, the store's single
currency, event ids derived from the body, events Canon ignores, and error mapping."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator

import pytest
from payment_testkit.doubles.lemonsqueezy_double import order_attributes
from payment_testkit.harness import NOW
from payment_testkit.lemonsqueezy_harness import SECRET, LemonSqueezyHarness, webhook

from adapters.payments.lemonsqueezy_gateway import LemonSqueezyPaymentGateway
from application.payments.errors import (
    PaymentNotFound,
    PaymentProcessorRejected,
    PaymentProcessorUnavailable,
    PayoutsNotSupported,
    WebhookPayloadInvalid,
)
from application.payments.ports import CheckoutRequest, PayoutRequest, WebhookEventType


@pytest.fixture
async def harness() -> AsyncIterator[LemonSqueezyHarness]:
    harness = LemonSqueezyHarness()
    yield harness
    await harness.aclose()


def request(**overrides: object) -> CheckoutRequest:
    values: dict[str, object] = {
        "purchase_id": "purchase-9",
        "amount_minor": 1_500,
        "currency": "USD",
        "description": "Ask the archive",
        "success_url": "https://canon.test/ok",
        "cancel_url": "https://canon.test/cancel",
        "customer_email": "reader@example.com",
    }
    values.update(overrides)
    return CheckoutRequest(**values)  # type: ignore[arg-type]


async def test_checkout_document_names_store_variant_price_and_custom_data(
    harness: LemonSqueezyHarness,
) -> None:
    checkout = await harness.gateway.create_checkout(request())
    (call,) = harness.double.calls("POST", "/v1/checkouts")
    data = call.json()["data"]
    assert call.header("content-type") == "application/vnd.api+json"
    assert data["attributes"]["custom_price"] == 1_500
    assert data["attributes"]["checkout_data"] == {
        "email": "reader@example.com",
        "custom": {"canon_purchase_id": "purchase-9"},
    }
    assert data["relationships"]["store"]["data"] == {"type": "stores", "id": "4242"}
    assert data["relationships"]["variant"]["data"] == {"type": "variants", "id": "777"}
    assert checkout.url.startswith("https://canon-test.lemonsqueezy.com/checkout/custom/")


async def test_a_store_sells_in_one_currency(harness: LemonSqueezyHarness) -> None:
    with pytest.raises(PaymentProcessorRejected):
        await harness.gateway.create_checkout(request(currency="EUR"))
    assert harness.double.requests == []


async def test_event_ids_come_from_the_body_and_other_events_are_ignored(
    harness: LemonSqueezyHarness,
) -> None:
    attributes = order_attributes(store_id=4242, total=1_500, currency="USD", email=None)
    body = webhook("order_created", "77", attributes, {"canon_purchase_id": "p"})
    first = await harness.gateway.verify_webhook(harness.sign(body), body, now=NOW)
    assert first.external_event_id == "ls_" + hashlib.sha256(body).hexdigest()[:40]
    uppercase = {"X-Signature": hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest().upper()}
    assert (
        await harness.gateway.verify_webhook(uppercase, body, now=NOW)
    ).external_event_id == first.external_event_id
    pending = webhook("order_created", "78", dict(attributes, status="pending"), None)
    assert (
        await harness.gateway.verify_webhook(harness.sign(pending), pending, now=NOW)
    ).type == WebhookEventType.IGNORED
    other = webhook("subscription_created", "79", attributes, None)
    assert (
        await harness.gateway.verify_webhook(harness.sign(other), other, now=NOW)
    ).type == WebhookEventType.IGNORED
    broken = webhook("order_refunded", "80", dict(attributes, refunded_amount=0), None)
    with pytest.raises(WebhookPayloadInvalid):
        await harness.gateway.verify_webhook(harness.sign(broken), broken, now=NOW)


async def test_errors_and_payouts(harness: LemonSqueezyHarness) -> None:
    with pytest.raises(PaymentNotFound):
        await harness.gateway.fetch_payment("404404")
    with pytest.raises(PayoutsNotSupported):
        await harness.gateway.payout(
            PayoutRequest(
                payout_id="p", destination_account="x", amount_minor=5, currency="USD", idempotency_key="k"
            )
        )
    wrong = LemonSqueezyPaymentGateway(
        api_key="wrong",
        webhook_secret=SECRET,
        store_id="4242",
        variant_id="777",
        api_base=harness.double.base_url,
    )
    try:
        with pytest.raises(PaymentProcessorUnavailable):
            await wrong.fetch_payment("1")
    finally:
        await wrong.close()

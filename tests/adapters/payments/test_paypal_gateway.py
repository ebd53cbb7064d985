"""PayPal beyond the contract: the approve-then-capture flow driven by a CHECKOUT_APPROVED event,
zero-decimal currencies, incomplete transmissions, the verification API being down, payout
reversal limits, and bad credentials."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from payment_testkit.doubles.paypal_double import CLIENT_ID
from payment_testkit.harness import NOW, WebhookCase
from payment_testkit.paypal_harness import WEBHOOK_ID, PayPalHarness

from adapters.payments.paypal_gateway import PayPalPaymentGateway
from application.errors import InvalidInput
from application.payments.errors import (
    PaymentProcessorRejected,
    PaymentProcessorUnavailable,
    WebhookSignatureInvalid,
)
from application.payments.ports import CheckoutRequest, PaymentStatus, PayoutRequest, WebhookEventType


@pytest.fixture
async def harness() -> AsyncIterator[PayPalHarness]:
    harness = PayPalHarness()
    yield harness
    await harness.aclose()


def request(**overrides: object) -> CheckoutRequest:
    values: dict[str, object] = {
        "purchase_id": "purchase-11",
        "amount_minor": 2_000,
        "currency": "USD",
        "description": "Ask the archive",
        "success_url": "https://canon.test/purchases/done",
        "cancel_url": "https://canon.test/cancel",
        "idempotency_key": "order-purchase-11",
    }
    values.update(overrides)
    return CheckoutRequest(**values)  # type: ignore[arg-type]


async def test_an_approved_checkout_is_captured_once(harness: PayPalHarness) -> None:
    checkout = await harness.gateway.create_checkout(request())
    (create,) = harness.double.calls("POST", "/v2/checkout/orders")
    assert create.header("paypal-request-id") == "order-purchase-11"
    unit = create.json()["purchase_units"][0]
    assert (unit["custom_id"], unit["amount"]) == ("purchase-11", {"currency_code": "USD", "value": "20.00"})
    harness.double.approve(checkout.external_checkout_id)
    case = WebhookCase(
        type=WebhookEventType.CHECKOUT_APPROVED,
        purchase_id="purchase-11",
        external_payment_id="",
        external_checkout_id=checkout.external_checkout_id,
        amount_minor=2_000,
        currency="USD",
    )
    body = await harness.webhook_body(case)
    approved = await harness.gateway.verify_webhook(harness.sign(body), body, now=NOW)
    assert approved.type == WebhookEventType.CHECKOUT_APPROVED
    capture = await harness.gateway.capture_checkout(
        approved.external_checkout_id or "", idempotency_key="cap-1"
    )
    assert (capture.status, capture.amount_minor, capture.fee_minor, capture.net_minor) == (
        PaymentStatus.SUCCEEDED,
        2_000,
        119,
        1_881,
    )
    replay = await harness.gateway.capture_checkout(checkout.external_checkout_id, idempotency_key="cap-1")
    assert replay.external_payment_id == capture.external_payment_id
    with pytest.raises(PaymentProcessorRejected) as twice:
        await harness.gateway.capture_checkout(checkout.external_checkout_id, idempotency_key="cap-2")
    assert twice.value.extra["processor_code"] == "ORDER_ALREADY_CAPTURED"


async def test_zero_decimal_currencies_are_written_without_decimals(harness: PayPalHarness) -> None:
    await harness.gateway.create_checkout(request(currency="JPY", amount_minor=1_500, idempotency_key=None))
    (create,) = harness.double.calls("POST", "/v2/checkout/orders")
    assert create.json()["purchase_units"][0]["amount"] == {"currency_code": "JPY", "value": "1500"}
    assert create.header("paypal-request-id") is None
    with pytest.raises(InvalidInput):
        await harness.gateway.create_checkout(request(currency="HUF", amount_minor=150_050))


async def test_incomplete_or_unreadable_transmissions_are_invalid(harness: PayPalHarness) -> None:
    body = harness.vendor_payloads()["PAYMENT.CAPTURE.COMPLETED"]
    headers = harness.sign(body)
    without_cert = {k: v for k, v in headers.items() if k != "PAYPAL-CERT-URL"}
    with pytest.raises(WebhookSignatureInvalid):
        await harness.gateway.verify_webhook(without_cert, body, now=NOW)
    with pytest.raises(WebhookSignatureInvalid):
        await harness.gateway.verify_webhook(
            dict(headers, **{"PAYPAL-TRANSMISSION-TIME": "yesterday"}), body, now=NOW
        )
    with pytest.raises(WebhookSignatureInvalid):
        await harness.gateway.verify_webhook(harness.sign(b"not json"), b"not json", now=NOW)
    assert harness.double.calls("POST", "/v1/notifications/verify-webhook-signature") == []
    forged_cert = dict(headers, **{"PAYPAL-CERT-URL": "https://attacker.example/cert.pem"})
    with pytest.raises(WebhookSignatureInvalid):
        await harness.gateway.verify_webhook(forged_cert, body, now=NOW)


async def test_verification_is_an_outage_when_paypal_cannot_answer(harness: PayPalHarness) -> None:
    body = harness.vendor_payloads()["PAYMENT.CAPTURE.COMPLETED"]
    headers = harness.sign(body)
    harness.double.stop()
    with pytest.raises(PaymentProcessorUnavailable):
        await harness.gateway.verify_webhook(headers, body, now=NOW + timedelta(seconds=1))


async def test_only_a_whole_unclaimed_payout_can_be_taken_back(harness: PayPalHarness) -> None:
    claimed = await harness.gateway.payout(
        PayoutRequest(
            payout_id="po-1",
            destination_account="creator@example.com",
            amount_minor=1_000,
            currency="USD",
            idempotency_key="po-key-1",
        )
    )
    (call,) = harness.double.calls("POST", "/v1/payments/payouts")
    item = call.json()["items"][0]
    assert (item["receiver"], item["recipient_type"], item["amount"]) == (
        "creator@example.com",
        "EMAIL",
        {"value": "10.00", "currency": "USD"},
    )
    assert call.json()["sender_batch_header"]["sender_batch_id"] == "po-1"
    with pytest.raises(PaymentProcessorRejected):
        await harness.gateway.reverse_payout(claimed.external_payout_id, None, idempotency_key="rev-1")
    unclaimed = await harness.gateway.payout(
        PayoutRequest(
            payout_id="po-2",
            destination_account=harness.payout_destination,
            amount_minor=1_000,
            currency="USD",
            idempotency_key="po-key-2",
        )
    )
    with pytest.raises(PaymentProcessorRejected):
        await harness.gateway.reverse_payout(unclaimed.external_payout_id, 400, idempotency_key="rev-2")
    with pytest.raises(PaymentProcessorRejected):
        await harness.gateway.payout(
            PayoutRequest(
                payout_id="po-1",
                destination_account="creator@example.com",
                amount_minor=1_000,
                currency="USD",
                idempotency_key="po-key-3",
            )
        )


async def test_bad_credentials_are_an_outage(harness: PayPalHarness) -> None:
    wrong = PayPalPaymentGateway(
        client_id=CLIENT_ID, client_secret="wrong", webhook_id=WEBHOOK_ID, api_base=harness.double.base_url
    )
    try:
        with pytest.raises(PaymentProcessorUnavailable):
            await wrong.fetch_payment("CAPTURE1")
        body = harness.vendor_payloads()["PAYMENT.CAPTURE.COMPLETED"]
        with pytest.raises(PaymentProcessorUnavailable):
            await wrong.verify_webhook(harness.sign(body), body, now=NOW)
    finally:
        await wrong.close()

"""PayPal under the contract: the official server SDK (and the REST calls it lacks) against
`PayPalDouble`, webhooks signed the way PayPal signs them (SHA256withRSA over
``"{transmission id}|{time}|{webhook id}|{crc32(body)}"``) and verified by PayPal's
verify-webhook-signature API on the double. Event bodies follow PayPal's webhook reference."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from payment_testkit.doubles.paypal_double import (
    CLIENT_ID,
    CLIENT_SECRET,
    STAMP,
    UNCLAIMED_DOMAIN,
    PayPalDouble,
    decimal,
    paypal_fee,
)
from payment_testkit.harness import NOW, GatewayHarness, WebhookCase

from adapters.payments.paypal_gateway import PayPalPaymentGateway
from application.payments.ports import (
    Checkout,
    CheckoutRequest,
    PaymentGateway,
    PaymentProcessor,
    WebhookEventType,
)

T = WebhookEventType
WEBHOOK_ID = "1JE4291016473214C"


def event(kind: str, resource_type: str, resource: dict[str, Any]) -> bytes:
    payload = {
        "id": f"WH-{uuid.uuid4().hex[:17].upper()}-{uuid.uuid4().hex[:17].upper()}",
        "event_version": "1.0",
        "create_time": NOW.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "resource_type": resource_type,
        "resource_version": "2.0",
        "event_type": kind,
        "summary": f"{kind} for a Canon purchase",
        "resource": resource,
        "links": [
            {
                "href": "https://api.paypal.com/v1/notifications/webhooks-events/WH-1",
                "rel": "self",
                "method": "GET",
            }
        ],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def money(amount: int, currency: str, key: str = "currency_code") -> dict[str, str]:
    return {key: currency, "value": decimal(amount, currency)}


class PayPalHarness(GatewayHarness):
    processor = PaymentProcessor.PAYPAL
    signature_header = "PAYPAL-TRANSMISSION-SIG"
    payout_destination = f"creator{UNCLAIMED_DOMAIN}"
    event_types = frozenset(
        {
            T.CHECKOUT_APPROVED,
            T.PAYMENT_SUCCEEDED,
            T.PAYMENT_FAILED,
            T.REFUNDED,
            T.CHARGEBACK_OPENED,
            T.CHARGEBACK_WON,
            T.CHARGEBACK_LOST,
            T.PAYOUT_PAID,
            T.PAYOUT_FAILED,
        }
    )
    reference_echoed = frozenset(event_types - {T.PAYOUT_PAID, T.PAYOUT_FAILED})

    def __init__(self) -> None:
        self.double = PayPalDouble()
        self.double.start()
        self._gateways: list[PayPalPaymentGateway] = []
        self.gateway = self._make(WEBHOOK_ID)

    def _make(self, webhook_id: str) -> PayPalPaymentGateway:
        gateway = PayPalPaymentGateway(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            webhook_id=webhook_id,
            api_base=self.double.base_url,
        )
        self._gateways.append(gateway)
        return gateway

    @property
    def secret(self) -> str:
        return WEBHOOK_ID

    def request_log(self) -> list[object]:
        return list(self.double.requests)

    def checkout_reference(self, checkout: Checkout) -> str | None:
        order = self.double.orders[checkout.external_checkout_id]
        assert order["_return_url"] == "https://canon.test/purchases/done"
        assert checkout.url.endswith(f"token={checkout.external_checkout_id}")
        return order["purchase_units"][0]["custom_id"]

    async def pay(self, checkout: Checkout, request: CheckoutRequest) -> str:
        self.double.approve(checkout.external_checkout_id)
        snapshot = await self.gateway.capture_checkout(
            checkout.external_checkout_id, idempotency_key=f"capture-{checkout.external_checkout_id}"
        )
        assert snapshot.purchase_reference == request.purchase_id
        return snapshot.external_payment_id

    def gateway_with_secret(self, secret: str) -> PaymentGateway:
        return self._make(secret)

    def sign(self, body: bytes, *, secret: str | None = None, at: datetime = NOW) -> dict[str, str]:
        return self.double.sign_delivery(body, webhook_id=WEBHOOK_ID if secret is None else secret, at=at)

    def vendor_payloads(self) -> dict[str, bytes]:
        """PayPal publishes no fixtures: its documented PAYMENT.CAPTURE.COMPLETED example shape."""
        capture = {
            "id": "27M47624FP291604U",
            "status": "COMPLETED",
            "amount": {"currency_code": "USD", "value": "2.51"},
            "final_capture": True,
            "seller_protection": {"status": "ELIGIBLE", "dispute_categories": ["ITEM_NOT_RECEIVED"]},
            "seller_receivable_breakdown": {
                "gross_amount": {"currency_code": "USD", "value": "2.51"},
                "paypal_fee": {"currency_code": "USD", "value": "0.37"},
                "net_amount": {"currency_code": "USD", "value": "2.14"},
            },
            "create_time": "2019-02-14T21:49:58Z",
            "update_time": "2019-02-14T21:49:58Z",
            "links": [
                {
                    "href": "https://api.paypal.com/v2/payments/captures/27M47624FP291604U",
                    "rel": "self",
                    "method": "GET",
                }
            ],
        }
        return {"PAYMENT.CAPTURE.COMPLETED": event("PAYMENT.CAPTURE.COMPLETED", "capture", capture)}

    def breakdown(self, request: CheckoutRequest) -> tuple[int | None, int | None]:
        return paypal_fee(request.amount_minor), None

    def event_fee(self, case: WebhookCase) -> int | None:
        return paypal_fee(case.amount_minor)

    async def webhook_body(self, case: WebhookCase) -> bytes:
        currency = case.currency
        if case.type == T.CHECKOUT_APPROVED:
            order = {
                "id": case.external_checkout_id,
                "intent": "CAPTURE",
                "status": "APPROVED",
                "purchase_units": [
                    {
                        "reference_id": case.purchase_id,
                        "custom_id": case.purchase_id,
                        "amount": money(case.amount_minor, currency),
                    }
                ],
                "create_time": STAMP,
            }
            return event("CHECKOUT.ORDER.APPROVED", "checkout-order", order)
        if case.type in (T.PAYMENT_SUCCEEDED, T.PAYMENT_FAILED):
            fee = paypal_fee(case.amount_minor)
            capture = {
                "id": case.external_payment_id,
                "status": "COMPLETED" if case.type == T.PAYMENT_SUCCEEDED else "DECLINED",
                "amount": money(case.amount_minor, currency),
                "custom_id": case.purchase_id,
                "seller_receivable_breakdown": {
                    "gross_amount": money(case.amount_minor, currency),
                    "paypal_fee": money(fee, currency),
                    "net_amount": money(case.amount_minor - fee, currency),
                },
                "supplementary_data": {"related_ids": {"order_id": case.external_checkout_id}},
                "create_time": STAMP,
            }
            kind = (
                "PAYMENT.CAPTURE.COMPLETED"
                if case.type == T.PAYMENT_SUCCEEDED
                else "PAYMENT.CAPTURE.DECLINED"
            )
            return event(kind, "capture", capture)
        if case.type == T.REFUNDED:
            assert case.refund_amount_minor is not None
            self.double.set_refunded(case.external_payment_id, case.refund_amount_minor)
            refund = {
                "id": case.external_refund_id,
                "status": "COMPLETED",
                "amount": money(case.refund_amount_minor, currency),
                "seller_payable_breakdown": {
                    "gross_amount": money(case.refund_amount_minor, currency),
                    "net_amount": money(case.refund_amount_minor, currency),
                    "total_refunded_amount": money(case.refund_amount_minor, currency),
                },
                "links": [
                    {
                        "href": f"https://api.paypal.com/v2/payments/captures/{case.external_payment_id}",
                        "rel": "up",
                        "method": "GET",
                    }
                ],
                "create_time": STAMP,
            }
            return event("PAYMENT.CAPTURE.REFUNDED", "refund", refund)
        if case.type in (T.CHARGEBACK_OPENED, T.CHARGEBACK_WON, T.CHARGEBACK_LOST):
            dispute: dict[str, Any] = {
                "dispute_id": case.external_dispute_id,
                "create_time": STAMP,
                "update_time": STAMP,
                "disputed_transactions": [
                    {"seller_transaction_id": case.external_payment_id, "custom": case.purchase_id}
                ],
                "reason": "UNAUTHORISED",
                "status": "OPEN" if case.type == T.CHARGEBACK_OPENED else "RESOLVED",
                "dispute_amount": money(case.amount_minor, currency),
                "dispute_life_cycle_stage": "CHARGEBACK",
                "dispute_channel": "EXTERNAL",
            }
            if case.type != T.CHARGEBACK_OPENED:
                won = case.type == T.CHARGEBACK_WON
                dispute["dispute_outcome"] = {
                    "outcome_code": "RESOLVED_SELLER_FAVOUR" if won else "RESOLVED_BUYER_FAVOUR"
                }
            kind = (
                "CUSTOMER.DISPUTE.CREATED"
                if case.type == T.CHARGEBACK_OPENED
                else "CUSTOMER.DISPUTE.RESOLVED"
            )
            return event(kind, "dispute", dispute)
        paid = case.type == T.PAYOUT_PAID
        item: dict[str, Any] = {
            "payout_item_id": "8AELMXH8UB2P8",
            "transaction_id": "0C413693MN970190K" if paid else None,
            "transaction_status": "SUCCESS" if paid else "FAILED",
            "payout_batch_id": case.external_payout_id,
            "payout_item": {
                "recipient_type": "EMAIL",
                "amount": money(case.amount_minor, currency, key="currency"),
                "receiver": "creator@example.com",
                "sender_item_id": case.payout_id,
            },
            "time_processed": STAMP,
        }
        if not paid:
            item["errors"] = {"name": "RECEIVER_UNREGISTERED", "message": "Receiver is unregistered"}
        kind = "PAYMENT.PAYOUTS-ITEM.SUCCEEDED" if paid else "PAYMENT.PAYOUTS-ITEM.FAILED"
        return event(kind, "payouts_item", item)

    def idempotency_keys(self, operation: str) -> list[str]:
        path = {
            "refund": "/v2/payments/captures/[^/]+/refund",
            "payout": "/v1/payments/payouts",
            "reversal": "/v1/payments/payouts-item/[^/]+/cancel",
        }
        return [r.header("paypal-request-id") or "" for r in self.double.calls("POST", path[operation])]

    async def aclose(self) -> None:
        for gateway in self._gateways:
            await gateway.close()
        self.double.stop()

"""Lemon Squeezy under the contract: the httpx gateway against `LemonSqueezyDouble`, webhooks
signed with Lemon Squeezy's scheme (``X-Signature`` = hex HMAC-SHA256 of the raw body) and shaped
as its webhook reference documents them (``meta.event_name``, ``meta.custom_data``, ``data``)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from payment_testkit.doubles.lemonsqueezy_double import (
    LemonSqueezyDouble,
    included_tax,
    order_attributes,
    order_document,
)
from payment_testkit.harness import NOW, GatewayHarness, WebhookCase

from adapters.payments.lemonsqueezy_gateway import LemonSqueezyPaymentGateway
from application.payments.ports import (
    Checkout,
    CheckoutRequest,
    PaymentGateway,
    PaymentProcessor,
    WebhookEventType,
)

T = WebhookEventType
SECRET = "ls-signing-secret-for-tests"


def webhook(
    event_name: str, order_id: str, attributes: dict[str, Any], custom: dict[str, Any] | None
) -> bytes:
    payload = {
        "meta": {
            "test_mode": True,
            "event_name": event_name,
            "custom_data": custom,
            "webhook_id": "b1c2d3e4-0000-4000-8000-000000000001",
        },
        "data": order_document(order_id, attributes),
    }
    return json.dumps(payload, separators=(",", ":")).encode()


class LemonSqueezyHarness(GatewayHarness):
    processor = PaymentProcessor.LEMON_SQUEEZY
    signature_header = "X-Signature"
    signs_timestamp = False
    honours_idempotency_keys = False
    event_types = frozenset({T.PAYMENT_SUCCEEDED, T.PAYMENT_FAILED, T.REFUNDED})
    reference_echoed = frozenset({T.PAYMENT_SUCCEEDED, T.PAYMENT_FAILED, T.REFUNDED})

    def __init__(self) -> None:
        self.double = LemonSqueezyDouble()
        self.double.start()
        self._gateways: list[LemonSqueezyPaymentGateway] = []
        self.gateway = self._make(SECRET)

    def _make(self, secret: str) -> LemonSqueezyPaymentGateway:
        gateway = LemonSqueezyPaymentGateway(
            api_key=self.double.api_key,
            webhook_secret=secret,
            store_id=self.double.store_id,
            variant_id=self.double.variant_id,
            api_base=self.double.base_url,
        )
        self._gateways.append(gateway)
        return gateway

    @property
    def secret(self) -> str:
        return SECRET

    def request_log(self) -> list[object]:
        return list(self.double.requests)

    def checkout_reference(self, checkout: Checkout) -> str | None:
        attributes = self.double.checkouts[checkout.external_checkout_id]["attributes"]
        assert attributes["product_options"]["redirect_url"] == "https://canon.test/purchases/done"
        return attributes["checkout_data"]["custom"].get("canon_purchase_id")

    async def pay(self, checkout: Checkout, request: CheckoutRequest) -> str:
        return self.double.pay(checkout.external_checkout_id)

    def gateway_with_secret(self, secret: str) -> PaymentGateway:
        return self._make(secret)

    def sign(self, body: bytes, *, secret: str | None = None, at: datetime = NOW) -> dict[str, str]:
        key = (SECRET if secret is None else secret).encode()
        digest = hmac.new(key, body, hashlib.sha256).hexdigest()
        return {
            self.signature_header: digest,
            "X-Event-Name": "order_created",
            "Content-Type": "application/json",
        }

    def vendor_payloads(self) -> dict[str, bytes]:
        """Lemon Squeezy publishes no fixtures: its documented ``order_created`` example shape."""
        attributes = order_attributes(store_id=4242, total=1199, currency="USD", email="reader@example.com")
        return {
            "order_created": webhook("order_created", "1", attributes, {"canon_purchase_id": "purchase-1"})
        }

    def breakdown(self, request: CheckoutRequest) -> tuple[int | None, int | None]:
        return None, included_tax(request.amount_minor)

    async def webhook_body(self, case: WebhookCase) -> bytes:
        custom = {"canon_purchase_id": case.purchase_id}
        status = {T.PAYMENT_SUCCEEDED: "paid", T.PAYMENT_FAILED: "failed"}.get(case.type)
        attributes = order_attributes(
            store_id=4242,
            total=case.amount_minor,
            currency=case.currency,
            email=None,
            status=status or "paid",
        )
        if case.type == T.REFUNDED:
            assert case.refund_amount_minor is not None
            attributes.update(
                refunded_amount=case.refund_amount_minor,
                status="refunded" if case.refund_full else "partial_refund",
                refunded=case.refund_full,
            )
            return webhook("order_refunded", case.external_payment_id, attributes, custom)
        return webhook("order_created", case.external_payment_id, attributes, custom)

    def idempotency_keys(self, operation: str) -> list[str]:
        return []

    async def aclose(self) -> None:
        for gateway in self._gateways:
            await gateway.close()
        self.double.stop()

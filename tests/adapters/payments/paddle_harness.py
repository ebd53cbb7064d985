"""Paddle under the contract: the real SDK against `PaddleDouble`, notifications signed with
Paddle's scheme (``Paddle-Signature: ts=..;h1=hex HMAC-SHA256("{ts}:{body}")``) by an
independent HMAC, wrapped as Paddle delivers them (``event_id``, ``event_type``,
``occurred_at``, ``notification_id``, ``data``)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import uuid
from datetime import datetime
from typing import Any

from payment_testkit.doubles.http_double import VENDOR_FIXTURES, vendor_fixture
from payment_testkit.doubles.paddle_double import PaddleDouble, paddle_breakdown
from payment_testkit.harness import NOW, GatewayHarness, WebhookCase

from adapters.payments.paddle_gateway import PaddlePaymentGateway
from application.payments.ports import (
    Checkout,
    CheckoutRequest,
    PaymentGateway,
    PaymentProcessor,
    WebhookEventType,
)

T = WebhookEventType
SECRET = "pdl_ntfset_canon_test_secret"


def notification(kind: str, data: dict[str, Any], *, occurred_at: datetime = NOW) -> dict[str, Any]:
    return {
        "event_id": f"evt_01{uuid.uuid4().hex[:24]}",
        "event_type": kind,
        "occurred_at": occurred_at.isoformat().replace("+00:00", "Z"),
        "notification_id": f"ntf_01{uuid.uuid4().hex[:24]}",
        "data": data,
    }


def paddle_headers(body: bytes, secret: str, at: datetime) -> dict[str, str]:
    """``Paddle-Signature: ts=<unix>;h1=<hex HMAC-SHA256 of "{ts}:{body}">``, computed here
    independently of the SDK."""
    timestamp = int(at.timestamp())
    digest = hmac.new(secret.encode(), f"{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"Paddle-Signature": f"ts={timestamp};h1={digest}", "Content-Type": "application/json"}


def dump(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class PaddleHarness(GatewayHarness):
    processor = PaymentProcessor.PADDLE
    signature_header = "Paddle-Signature"
    event_types = frozenset(
        {
            T.PAYMENT_SUCCEEDED,
            T.PAYMENT_FAILED,
            T.REFUNDED,
            T.CHARGEBACK_OPENED,
            T.CHARGEBACK_WON,
            T.CHARGEBACK_LOST,
        }
    )
    reference_echoed = frozenset({T.PAYMENT_SUCCEEDED, T.PAYMENT_FAILED})

    def __init__(self) -> None:
        self.double = PaddleDouble()
        self.double.start()
        self.gateway = self._make(SECRET)

    def _make(self, secret: str) -> PaddlePaymentGateway:
        return PaddlePaymentGateway(
            api_key=self.double.api_key, webhook_secret=secret, api_base=self.double.base_url
        )

    @property
    def secret(self) -> str:
        return SECRET

    def request_log(self) -> list[object]:
        return list(self.double.requests)

    def checkout_reference(self, checkout: Checkout) -> str | None:
        transaction = self.double.transactions[checkout.external_checkout_id]
        assert checkout.url.endswith(f"?_ptxn={checkout.external_checkout_id}")
        return (transaction["custom_data"] or {}).get("canon_purchase_id")

    async def pay(self, checkout: Checkout, request: CheckoutRequest) -> str:
        self.double.pay(checkout.external_checkout_id)
        return checkout.external_checkout_id

    async def settle(self) -> None:
        self.double.approve_pending()

    def gateway_with_secret(self, secret: str) -> PaymentGateway:
        return self._make(secret)

    def sign(self, body: bytes, *, secret: str | None = None, at: datetime = NOW) -> dict[str, str]:
        return paddle_headers(body, SECRET if secret is None else secret, at)

    def vendor_payloads(self) -> dict[str, bytes]:
        """Every notification entity of Paddle's SDK fixtures, as Paddle wraps it for delivery."""
        names = sorted(p.stem for p in (VENDOR_FIXTURES / "paddle").glob("*.json"))
        return {name: dump(notification(name, vendor_fixture("paddle", name))) for name in names}

    def breakdown(self, request: CheckoutRequest) -> tuple[int | None, int | None]:
        return paddle_breakdown(request.amount_minor)

    def event_fee(self, case: WebhookCase) -> int | None:
        return paddle_breakdown(case.amount_minor)[0]

    async def webhook_body(self, case: WebhookCase) -> bytes:
        if case.type in (T.PAYMENT_SUCCEEDED, T.PAYMENT_FAILED):
            succeeded = case.type == T.PAYMENT_SUCCEEDED
            name = "transaction.completed" if succeeded else "transaction.canceled"
            transaction = copy.deepcopy(vendor_fixture("paddle", name))
            fee, tax = paddle_breakdown(case.amount_minor)
            transaction["details"]["totals"].update(
                total=str(case.amount_minor),
                grand_total=str(case.amount_minor),
                tax=str(tax),
                fee=str(fee) if succeeded else None,
                earnings=str(case.amount_minor - tax - fee) if succeeded else None,
                currency_code=case.currency,
            )
            transaction.update(
                id=case.external_payment_id,
                currency_code=case.currency,
                custom_data={"canon_purchase_id": case.purchase_id},
            )
            return dump(notification(name, transaction))
        adjustment = copy.deepcopy(vendor_fixture("paddle", "adjustment.updated"))
        if case.type == T.REFUNDED:
            assert case.refund_amount_minor is not None
            action, amount, adjustment_id = "refund", case.refund_amount_minor, case.external_refund_id
        else:
            action = {T.CHARGEBACK_OPENED: "chargeback_warning", T.CHARGEBACK_WON: "chargeback_reverse"}.get(
                case.type, "chargeback"
            )
            amount, adjustment_id = case.amount_minor, f"adj_{case.type.lower()}"
        adjustment["totals"].update(total=str(amount), currency_code=case.currency)
        adjustment.update(
            id=adjustment_id,
            action=action,
            status="approved",
            transaction_id=case.external_payment_id,
            type="full" if case.refund_full or action != "refund" else "partial",
            currency_code=case.currency,
        )
        return dump(notification("adjustment.updated", adjustment))

    def expected_dispute_id(self, case: WebhookCase) -> str:
        return case.external_payment_id

    def idempotency_keys(self, operation: str) -> list[str]:
        """Paddle takes no key: the gateway writes it into the adjustment's reason."""
        keys = []
        for request in self.double.calls("POST", "/adjustments"):
            reason = request.json().get("reason", "")
            if "[canon:" in reason:
                keys.append(reason.split("[canon:", 1)[1].rstrip("]"))
        return keys if operation == "refund" else []

    async def aclose(self) -> None:
        self.double.stop()

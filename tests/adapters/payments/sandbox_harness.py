"""The sandbox processor under the contract: no double needed, it *is* the processor. Its
deliveries are signed here with an independent HMAC so a shared bug cannot hide."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from payment_testkit.harness import NOW, GatewayHarness, WebhookCase

from adapters.clock import FakeClock
from adapters.payments.sandbox_gateway import SandboxPaymentGateway
from adapters.payments.sandbox_ledger import SandboxLedger
from application.payments.amounts import PercentagePlusFixedFee
from application.payments.ports import (
    Checkout,
    CheckoutRequest,
    PaymentGateway,
    PaymentProcessor,
    WebhookEventType,
)

T = WebhookEventType
SECRET = "sandbox-webhook-secret-for-tests"


class SandboxHarness(GatewayHarness):
    processor = PaymentProcessor.SANDBOX
    signature_header = "Canon-Sandbox-Signature"
    event_types = frozenset(
        {
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

    def __init__(self, data_dir: Path) -> None:
        self.clock = FakeClock(NOW)
        self.ledger = SandboxLedger(data_dir / "sandbox.json")
        self.gateway: SandboxPaymentGateway = self._make(SECRET)

    def _make(self, secret: str) -> SandboxPaymentGateway:
        return SandboxPaymentGateway(
            public_base_url="http://127.0.0.1:8000",
            webhook_secret=secret,
            clock=self.clock,
            ledger=self.ledger,
        )

    @property
    def secret(self) -> str:
        return SECRET

    def request_log(self) -> list[object]:
        sections = ("checkouts", "payments", "refunds", "disputes", "payouts", "reversals", "idempotency")
        return [record for name in sections for record in self.ledger.values(name)] + list(
            self.ledger.outbox()
        )

    def checkout_reference(self, checkout: Checkout) -> str | None:
        return self.gateway.checkout(checkout.external_checkout_id).purchase_id

    async def pay(self, checkout: Checkout, request: CheckoutRequest) -> str:
        await self.gateway.complete(checkout.external_checkout_id, succeed=True)
        payment_id = self.gateway.checkout(checkout.external_checkout_id).external_payment_id
        assert payment_id is not None
        return payment_id

    def gateway_with_secret(self, secret: str) -> PaymentGateway:
        return self._make(secret)

    def sign(self, body: bytes, *, secret: str | None = None, at: datetime = NOW) -> dict[str, str]:
        key = (SECRET if secret is None else secret).encode()
        timestamp = int(at.timestamp())
        digest = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        return {self.signature_header: f"t={timestamp},v1={digest}", "Content-Type": "application/json"}

    def vendor_payloads(self) -> dict[str, bytes]:
        # the sandbox is its own vendor: its documented example event
        example = _event(
            "payment.succeeded",
            {
                "id": "pay_sbx_example",
                "object": "payment",
                "checkout": "cs_sbx_example",
                "amount": 2500,
                "currency": "USD",
                "fee": 103,
                "net": 2397,
                "amount_refunded": 0,
                "status": "succeeded",
                "metadata": {"canon_purchase_id": "purchase-example"},
            },
        )
        return {"payment.succeeded": _dump(example)}

    def breakdown(self, request: CheckoutRequest) -> tuple[int | None, int | None]:
        return PercentagePlusFixedFee().fee(request.amount_minor, request.currency), None

    def event_fee(self, case: WebhookCase) -> int | None:
        return PercentagePlusFixedFee().fee(case.amount_minor, case.currency)

    async def webhook_body(self, case: WebhookCase) -> bytes:
        reference = {"canon_purchase_id": case.purchase_id}
        fee = PercentagePlusFixedFee().fee(case.amount_minor, case.currency)
        payment = {
            "id": case.external_payment_id,
            "object": "payment",
            "checkout": case.external_checkout_id,
            "amount": case.amount_minor,
            "currency": case.currency,
            "fee": fee,
            "net": case.amount_minor - fee,
            "metadata": reference,
        }
        if case.type in (T.PAYMENT_SUCCEEDED, T.PAYMENT_FAILED):
            kind = "payment.succeeded" if case.type == T.PAYMENT_SUCCEEDED else "payment.failed"
            return _dump(_event(kind, payment))
        if case.type == T.REFUNDED:
            refund = {
                "id": case.external_refund_id,
                "payment": case.external_payment_id,
                "amount": case.refund_amount_minor,
                "currency": case.currency,
                "status": "succeeded",
                "payment_amount": case.amount_minor,
                "payment_amount_refunded": case.refund_amount_minor,
                "metadata": reference,
            }
            return _dump(_event("refund.succeeded", refund))
        if case.type in (T.CHARGEBACK_OPENED, T.CHARGEBACK_WON, T.CHARGEBACK_LOST):
            kind = {T.CHARGEBACK_OPENED: "dispute.opened", T.CHARGEBACK_WON: "dispute.won"}.get(
                case.type, "dispute.lost"
            )
            dispute = {
                "id": case.external_dispute_id,
                "payment": case.external_payment_id,
                "amount": case.amount_minor,
                "currency": case.currency,
                "reason": "fraudulent",
                "metadata": reference,
            }
            return _dump(_event(kind, dispute))
        paid = case.type == T.PAYOUT_PAID
        payout = {
            "id": case.external_payout_id,
            "amount": case.amount_minor,
            "currency": case.currency,
            "status": "paid" if paid else "failed",
            "failure_reason": None if paid else "account_closed",
            "metadata": {"canon_payout_id": case.payout_id},
        }
        return _dump(_event("payout.paid" if paid else "payout.failed", payout))

    def idempotency_keys(self, operation: str) -> list[str]:
        prefix = f"{operation}:"
        return [key[len(prefix) :] for key in self.ledger.keys("idempotency") if key.startswith(prefix)]

    async def aclose(self) -> None:
        await self.gateway.drain()


def _event(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"evt_case_{kind}",
        "object": "event",
        "type": kind,
        "created": int(NOW.timestamp()),
        "data": {"object": data},
    }


def _dump(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()

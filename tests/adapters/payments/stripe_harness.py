"""Stripe under the contract: the real SDK against `StripeDouble`, webhooks signed with Stripe's
scheme (``Stripe-Signature: t=..,v1=hex HMAC-SHA256("{t}.{body}")``) by an independent HMAC."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import uuid
from datetime import datetime
from typing import Any

from payment_testkit.doubles.http_double import VENDOR_FIXTURES, vendor_fixture
from payment_testkit.doubles.stripe_double import StripeDouble, stripe_fee
from payment_testkit.harness import NOW, GatewayHarness, WebhookCase

from adapters.payments.stripe_gateway import StripePaymentGateway
from application.payments.ports import (
    Checkout,
    CheckoutRequest,
    PaymentGateway,
    PaymentProcessor,
    WebhookEventType,
)

T = WebhookEventType
SECRET = "whsec_canon_test_secret"


class StripeHarness(GatewayHarness):
    processor = PaymentProcessor.STRIPE
    signature_header = "Stripe-Signature"
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

    def __init__(self) -> None:
        self.double = StripeDouble()
        self.double.start()
        self._gateways: list[StripePaymentGateway] = []
        self.gateway: StripePaymentGateway = self._make(SECRET)

    def _make(self, secret: str) -> StripePaymentGateway:
        gateway = StripePaymentGateway(
            api_key=self.double.api_key,
            webhook_secret=secret,
            api_base=self.double.base_url,
            max_network_retries=0,
        )
        self._gateways.append(gateway)
        return gateway

    @property
    def secret(self) -> str:
        return SECRET

    def request_log(self) -> list[object]:
        return list(self.double.requests)

    def checkout_reference(self, checkout: Checkout) -> str | None:
        session = self.double.sessions[checkout.external_checkout_id]
        assert session["client_reference_id"] == session["metadata"].get("canon_purchase_id")
        assert session["_intent_metadata"] == session["metadata"]
        return session["metadata"].get("canon_purchase_id")

    async def pay(self, checkout: Checkout, request: CheckoutRequest) -> str:
        return self.double.pay(checkout.external_checkout_id)

    def gateway_with_secret(self, secret: str) -> PaymentGateway:
        return self._make(secret)

    def sign(self, body: bytes, *, secret: str | None = None, at: datetime = NOW) -> dict[str, str]:
        key = (SECRET if secret is None else secret).encode()
        timestamp = int(at.timestamp())
        digest = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        return {self.signature_header: f"t={timestamp},v1={digest}", "Content-Type": "application/json"}

    def vendor_payloads(self) -> dict[str, bytes]:
        """Stripe's published event as it is, and published objects that need no lookup wrapped
        in that event's envelope."""
        payloads = {"event": (VENDOR_FIXTURES / "stripe" / "event.json").read_bytes()}
        for name, kind in (
            ("checkout.session", "checkout.session.completed"),
            ("transfer", "transfer.created"),
        ):
            payloads[kind] = dump(stripe_event(kind, vendor_fixture("stripe", name)))
        return payloads

    def breakdown(self, request: CheckoutRequest) -> tuple[int | None, int | None]:
        return stripe_fee(request.amount_minor), None

    async def webhook_body(self, case: WebhookCase) -> bytes:
        currency = case.currency.lower()
        reference = {"canon_purchase_id": case.purchase_id}
        if case.type in (T.PAYMENT_SUCCEEDED, T.PAYMENT_FAILED):
            session = vendor_fixture("stripe", "checkout.session")
            paid = case.type == T.PAYMENT_SUCCEEDED
            session.update(
                id=case.external_checkout_id,
                payment_intent=case.external_payment_id,
                amount_total=case.amount_minor,
                amount_subtotal=case.amount_minor,
                currency=currency,
                metadata=reference,
                client_reference_id=case.purchase_id,
                status="complete" if paid else "expired",
                payment_status="paid" if paid else "unpaid",
            )
            return dump(
                stripe_event("checkout.session.completed" if paid else "checkout.session.expired", session)
            )
        if case.type == T.REFUNDED:
            assert case.refund_amount_minor is not None
            self.double.set_refunded(case.external_payment_id, case.refund_amount_minor)
            refund = vendor_fixture("stripe", "refund")
            refund.update(
                id=case.external_refund_id,
                amount=case.refund_amount_minor,
                currency=currency,
                charge=self.double.charge_of(case.external_payment_id),
                payment_intent=case.external_payment_id,
                status="succeeded",
            )
            return dump(stripe_event("refund.created", refund))
        if case.type in (T.CHARGEBACK_OPENED, T.CHARGEBACK_WON, T.CHARGEBACK_LOST):
            dispute = vendor_fixture("stripe", "dispute")
            status = {T.CHARGEBACK_OPENED: "needs_response", T.CHARGEBACK_WON: "won"}.get(case.type, "lost")
            # payment_intent stays null as in Stripe's example: the gateway finds it via the charge
            dispute.update(
                id=case.external_dispute_id,
                amount=case.amount_minor,
                currency=currency,
                charge=self.double.charge_of(case.external_payment_id),
                status=status,
            )
            kind = "charge.dispute.created" if case.type == T.CHARGEBACK_OPENED else "charge.dispute.closed"
            return dump(stripe_event(kind, dispute))
        transfer = vendor_fixture("stripe", "transfer")
        failed = case.type == T.PAYOUT_FAILED
        transfer.update(
            id=case.external_payout_id,
            amount=case.amount_minor,
            currency=currency,
            metadata={"canon_payout_id": case.payout_id},
            amount_reversed=case.amount_minor if failed else 0,
            reversed=failed,
        )
        return dump(stripe_event("transfer.reversed" if failed else "transfer.created", transfer))

    def idempotency_keys(self, operation: str) -> list[str]:
        path = {
            "refund": "/v1/refunds",
            "payout": "/v1/transfers",
            "reversal": "/v1/transfers/[^/]+/reversals",
        }
        return [r.header("idempotency-key") or "" for r in self.double.calls("POST", path[operation])]

    async def aclose(self) -> None:
        for gateway in self._gateways:
            await gateway.close()
        self.double.stop()


def stripe_event(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(vendor_fixture("stripe", "event"))
    event.update(
        id=f"evt_{uuid.uuid4().hex[:24]}", type=kind, created=int(NOW.timestamp()), data={"object": data}
    )
    return event


def dump(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()

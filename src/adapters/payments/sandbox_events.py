"""The sandbox processor's wire format: its events (Stripe-shaped: ``{"id", "object": "event",
"type", "created", "data": {"object": ...}}``) and how they read as Canon's normalized types.

| sandbox event        | Canon event          |
| -------------------- | -------------------- |
| ``payment.succeeded``| PAYMENT_SUCCEEDED    |
| ``payment.failed``   | PAYMENT_FAILED       |
| ``refund.succeeded`` | REFUNDED             |
| ``dispute.opened``   | CHARGEBACK_OPENED    |
| ``dispute.won``      | CHARGEBACK_WON       |
| ``dispute.lost``     | CHARGEBACK_LOST      |
| ``dispute.funds_reinstated`` | CHARGEBACK_WON (a lost dispute won back) |
| ``payout.paid``      | PAYOUT_PAID          |
| ``payout.failed``    | PAYOUT_FAILED        |
| ``payout.reversed``  | PAYOUT_FAILED when fully reversed, else IGNORED |
| anything else        | IGNORED              |
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from adapters.payments._shared import integer, obj, purchase_reference, text
from application.payments.errors import WebhookPayloadInvalid
from application.payments.ports import (
    PAYOUT_REFERENCE_KEY,
    ChargebackDetails,
    PaymentProcessor,
    PaymentSnapshot,
    PaymentStatus,
    PayoutDetails,
    PayoutResult,
    PayoutReversalResult,
    PayoutStatus,
    RefundDetails,
    RefundResult,
    RefundStatus,
    WebhookEvent,
    WebhookEventType,
)
from domain.ids import new_id

_SANDBOX = PaymentProcessor.SANDBOX
_PAYMENT_STATUS = {
    "pending": PaymentStatus.PENDING,
    "succeeded": PaymentStatus.SUCCEEDED,
    "failed": PaymentStatus.FAILED,
    "partially_refunded": PaymentStatus.PARTIALLY_REFUNDED,
    "refunded": PaymentStatus.REFUNDED,
}
_CHARGEBACKS = {
    "dispute.opened": WebhookEventType.CHARGEBACK_OPENED,
    "dispute.won": WebhookEventType.CHARGEBACK_WON,
    "dispute.lost": WebhookEventType.CHARGEBACK_LOST,
    "dispute.funds_reinstated": WebhookEventType.CHARGEBACK_WON,
}


def from_unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def event(kind: str, data: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "id": f"evt_sbx_{new_id().replace('-', '')}",
        "object": "event",
        "type": kind,
        "created": int(now.timestamp()),
        "data": {"object": dict(data)},
    }


def normalize(payload: dict[str, Any]) -> WebhookEvent:
    event_id, kind, created = text(payload, "id"), text(payload, "type"), integer(payload, "created")
    if event_id is None or kind is None or created is None:
        raise WebhookPayloadInvalid("A sandbox event needs an id, a type and a created time.")
    data = obj(payload, "data", "object")
    base: dict[str, Any] = {
        "processor": _SANDBOX,
        "external_event_id": event_id,
        "processor_event_type": kind,
        "occurred_at": from_unix(created),
        "raw": payload,
        "currency": text(data, "currency"),
        "purchase_reference": purchase_reference(obj(data, "metadata")),
    }
    if kind in ("payment.succeeded", "payment.failed"):
        succeeded = kind == "payment.succeeded"
        return WebhookEvent(
            **base,
            type=WebhookEventType.PAYMENT_SUCCEEDED if succeeded else WebhookEventType.PAYMENT_FAILED,
            external_payment_id=text(data, "id"),
            external_checkout_id=text(data, "checkout"),
            amount_minor=integer(data, "amount"),
            fee_minor=integer(data, "fee") if succeeded else None,
        )
    if kind == "refund.succeeded":
        refund_id, amount = text(data, "id"), integer(data, "amount")
        total, paid = integer(data, "payment_amount_refunded"), integer(data, "payment_amount")
        if refund_id is None or amount is None:
            raise WebhookPayloadInvalid("A sandbox refund event needs the refund's id and amount.")
        return WebhookEvent(
            **base,
            type=WebhookEventType.REFUNDED,
            external_payment_id=text(data, "payment"),
            amount_minor=amount,
            refund=RefundDetails(
                external_refund_id=refund_id,
                amount_minor=amount,
                full=total is not None and paid is not None and total >= paid,
                refunded_total_minor=total,
            ),
        )
    if kind in _CHARGEBACKS:
        dispute_id, amount = text(data, "id"), integer(data, "amount")
        if dispute_id is None or amount is None:
            raise WebhookPayloadInvalid("A sandbox dispute event needs the dispute's id and amount.")
        return WebhookEvent(
            **base,
            type=_CHARGEBACKS[kind],
            external_payment_id=text(data, "payment"),
            amount_minor=amount,
            chargeback=ChargebackDetails(
                external_dispute_id=dispute_id, amount_minor=amount, reason=text(data, "reason")
            ),
        )
    if kind in ("payout.paid", "payout.failed", "payout.reversed"):
        payout_id, amount = text(data, "id"), integer(data, "amount")
        if payout_id is None or amount is None:
            raise WebhookPayloadInvalid("A sandbox payout event needs the payout's id and amount.")
        if kind == "payout.reversed" and integer(data, "amount_reversed") != amount:
            return WebhookEvent(**base, type=WebhookEventType.IGNORED)
        failed = kind != "payout.paid"
        return WebhookEvent(
            **base,
            type=WebhookEventType.PAYOUT_FAILED if failed else WebhookEventType.PAYOUT_PAID,
            amount_minor=amount,
            payout=PayoutDetails(
                external_payout_id=payout_id,
                payout_id=text(data, "metadata", PAYOUT_REFERENCE_KEY),
                failure_reason=(text(data, "failure_reason") or "reversed") if failed else None,
            ),
        )
    return WebhookEvent(**base, type=WebhookEventType.IGNORED)


def snapshot(payment: Mapping[str, Any]) -> PaymentSnapshot:
    paid = payment["status"] != "failed"
    return PaymentSnapshot(
        processor=_SANDBOX,
        external_payment_id=payment["id"],
        status=_PAYMENT_STATUS[payment["status"]],
        amount_minor=payment["amount"],
        currency=payment["currency"],
        fee_minor=payment["fee"] if paid else None,
        net_minor=payment["net"] if paid else None,
        refunded_minor=payment["amount_refunded"],
        purchase_reference=purchase_reference(payment.get("metadata")),
    )


def refund_result(refund: Mapping[str, Any]) -> RefundResult:
    return RefundResult(
        processor=_SANDBOX,
        external_refund_id=refund["id"],
        external_payment_id=refund["payment"],
        amount_minor=refund["amount"],
        currency=refund["currency"],
        status=RefundStatus.SUCCEEDED if refund["status"] == "succeeded" else RefundStatus.PENDING,
    )


def payout_result(payout: Mapping[str, Any]) -> PayoutResult:
    status = {"paid": PayoutStatus.PAID, "failed": PayoutStatus.FAILED}.get(
        payout["status"], PayoutStatus.PENDING
    )
    return PayoutResult(
        processor=_SANDBOX,
        payout_id=payout["metadata"][PAYOUT_REFERENCE_KEY],
        external_payout_id=payout["id"],
        amount_minor=payout["amount"],
        currency=payout["currency"],
        status=status,
    )


def reversal_result(reversal: Mapping[str, Any]) -> PayoutReversalResult:
    return PayoutReversalResult(
        processor=_SANDBOX,
        external_payout_id=reversal["payout"],
        external_reversal_id=reversal["id"],
        amount_minor=reversal["amount"],
        currency=reversal["currency"],
    )

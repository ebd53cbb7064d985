"""A verified, normalized webhook event as stored in the inbox (JSON) and read back by the job.

The inbox keeps the processor-neutral event, not just the raw body: a delivery's signature is
only valid for minutes, so re-verifying it when a job retries days later would fail.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from application.payments.ports import (
    ChargebackDetails,
    PaymentProcessor,
    PayoutDetails,
    RefundDetails,
    WebhookEvent,
    WebhookEventType,
)

_SCALARS = (
    "external_event_id",
    "processor_event_type",
    "purchase_reference",
    "external_payment_id",
    "external_checkout_id",
    "amount_minor",
    "fee_minor",
    "tax_minor",
    "currency",
)


def to_payload(event: WebhookEvent) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(event, name) for name in _SCALARS}
    data["processor"] = event.processor.value
    data["type"] = event.type.value
    data["occurred_at"] = event.occurred_at.isoformat()
    if event.refund is not None:
        r = event.refund
        data["refund"] = {
            "external_refund_id": r.external_refund_id,
            "amount_minor": r.amount_minor,
            "full": r.full,
            "refunded_total_minor": r.refunded_total_minor,
        }
    if event.chargeback is not None:
        c = event.chargeback
        data["chargeback"] = {
            "external_dispute_id": c.external_dispute_id,
            "amount_minor": c.amount_minor,
            "reason": c.reason,
        }
    if event.payout is not None:
        p = event.payout
        data["payout"] = {
            "external_payout_id": p.external_payout_id,
            "payout_id": p.payout_id,
            "failure_reason": p.failure_reason,
        }
    return data


def from_payload(data: Mapping[str, Any]) -> WebhookEvent:
    refund = data.get("refund")
    chargeback = data.get("chargeback")
    payout = data.get("payout")
    return WebhookEvent(
        processor=PaymentProcessor(data["processor"]),
        type=WebhookEventType(data["type"]),
        occurred_at=datetime.fromisoformat(data["occurred_at"]),
        refund=RefundDetails(**refund) if refund else None,
        chargeback=ChargebackDetails(**chargeback) if chargeback else None,
        payout=PayoutDetails(**payout) if payout else None,
        external_event_id=str(data["external_event_id"]),
        processor_event_type=str(data["processor_event_type"]),
        purchase_reference=data.get("purchase_reference"),
        external_payment_id=data.get("external_payment_id"),
        external_checkout_id=data.get("external_checkout_id"),
        amount_minor=data.get("amount_minor"),
        fee_minor=data.get("fee_minor"),
        tax_minor=data.get("tax_minor"),
        currency=data.get("currency"),
    )

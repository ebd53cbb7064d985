"""PayPal's wire format read as Canon's types: webhook events, captured payments, refunds.

PayPal writes amounts as decimal strings (``{"currency_code": "USD", "value": "10.00"}``),
read strictly by `parse_decimal` (a value with more decimals than the currency has is refused,
never rounded).

| PayPal event                                     | Canon event                       |
| ------------------------------------------------ | --------------------------------- |
| ``CHECKOUT.ORDER.APPROVED``                      | CHECKOUT_APPROVED (capture it)    |
| ``PAYMENT.CAPTURE.COMPLETED``                    | PAYMENT_SUCCEEDED (fee in it)     |
| ``PAYMENT.CAPTURE.DECLINED`` / ``.DENIED``       | PAYMENT_FAILED                    |
| ``PAYMENT.CAPTURE.REFUNDED``                     | REFUNDED                          |
| ``CUSTOMER.DISPUTE.CREATED``                     | CHARGEBACK_OPENED                 |
| ``CUSTOMER.DISPUTE.RESOLVED``, seller favour / denied / withdrawn / paid by PayPal | CHARGEBACK_WON |
| ``CUSTOMER.DISPUTE.RESOLVED``, buyer favour / accepted | CHARGEBACK_LOST             |
| ``PAYMENT.PAYOUTS-ITEM.SUCCEEDED``               | PAYOUT_PAID                       |
| ``PAYMENT.PAYOUTS-ITEM.FAILED`` / DENIED / RETURNED / BLOCKED / REFUNDED / CANCELED | PAYOUT_FAILED |
| anything else (UNCLAIMED, HELD: still pending)   | IGNORED                           |
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from adapters.payments._shared import obj, parse_iso, text
from application.errors import InvalidInput
from application.payments.amounts import normalize_currency, parse_decimal
from application.payments.errors import WebhookPayloadInvalid
from application.payments.ports import (
    ChargebackDetails,
    PaymentProcessor,
    PaymentSnapshot,
    PaymentStatus,
    PayoutDetails,
    RefundDetails,
    WebhookEvent,
    WebhookEventType,
)

_PAYPAL = PaymentProcessor.PAYPAL
_CAPTURE_STATUS = {
    "COMPLETED": PaymentStatus.SUCCEEDED,
    "PARTIALLY_REFUNDED": PaymentStatus.PARTIALLY_REFUNDED,
    "REFUNDED": PaymentStatus.REFUNDED,
    "PENDING": PaymentStatus.PENDING,
    "DECLINED": PaymentStatus.FAILED,
    "FAILED": PaymentStatus.FAILED,
}
_DISPUTE_WON = {"RESOLVED_SELLER_FAVOUR", "CANCELED_BY_BUYER", "DENIED", "RESOLVED_WITH_PAYOUT"}
_DISPUTE_LOST = {"RESOLVED_BUYER_FAVOUR", "ACCEPTED"}
_PAYOUT_FAILED = {"FAILED", "DENIED", "RETURNED", "BLOCKED", "REFUNDED", "CANCELED"}

CaptureLookup = Callable[[str], Awaitable[dict[str, Any]]]


def money(value: Any, *, currency_key: str = "currency_code") -> tuple[int, str] | None:
    """A PayPal money object as (minor units, currency), or None when absent."""
    if not isinstance(value, Mapping) or value.get("value") is None or not value.get(currency_key):
        return None
    currency = normalize_currency(str(value[currency_key]))
    return parse_decimal(str(value["value"]), currency), currency


def capture_snapshot(capture: Mapping[str, Any], refunded_minor: int | None = None) -> PaymentSnapshot:
    gross = money(capture.get("amount"))
    if gross is None:
        raise WebhookPayloadInvalid("A PayPal capture needs an amount.")
    amount, currency = gross
    breakdown = obj(capture, "seller_receivable_breakdown")
    fee, net = money(breakdown.get("paypal_fee")), money(breakdown.get("net_amount"))
    status = _CAPTURE_STATUS.get(text(capture, "status") or "", PaymentStatus.PENDING)
    if refunded_minor is None:
        refunded_minor = amount if status == PaymentStatus.REFUNDED else 0
    return PaymentSnapshot(
        processor=_PAYPAL,
        external_payment_id=text(capture, "id") or "",
        status=status,
        amount_minor=amount,
        currency=currency,
        fee_minor=fee[0] if fee else None,
        net_minor=net[0] if net else None,
        refunded_minor=refunded_minor,
        purchase_reference=text(capture, "custom_id"),
    )


def refunded_on_order(order: Mapping[str, Any], capture_id: str) -> int:
    """What the order's completed refunds of one capture add up to."""
    total = 0
    for unit in order.get("purchase_units") or []:
        for refund in obj(unit, "payments").get("refunds") or []:
            up = [link.get("href", "") for link in refund.get("links") or [] if link.get("rel") == "up"]
            if text(refund, "status") == "COMPLETED" and any(
                href.endswith(f"/captures/{capture_id}") for href in up
            ):
                found = money(refund.get("amount"))
                total += found[0] if found else 0
    return total


def capture_of_refund(refund: Mapping[str, Any]) -> str | None:
    for link in refund.get("links") or []:
        href = str(link.get("href", ""))
        if link.get("rel") == "up" and "/captures/" in href:
            return href.rstrip("/").rsplit("/", 1)[-1]
    return None


async def normalize(payload: dict[str, Any], now: datetime, lookup_capture: CaptureLookup) -> WebhookEvent:
    event_id, kind = text(payload, "id"), text(payload, "event_type")
    if event_id is None or kind is None:
        raise WebhookPayloadInvalid("A PayPal webhook event needs an id and an event_type.")
    resource = obj(payload, "resource")
    base: dict[str, Any] = {
        "processor": _PAYPAL,
        "external_event_id": event_id,
        "processor_event_type": kind,
        "occurred_at": parse_iso(payload.get("create_time"), now),
        "raw": payload,
    }
    try:
        return await _read(base, kind, resource, lookup_capture)
    except (InvalidInput, KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        # amounts that are not PayPal decimals, shapes that are not PayPal's
        raise WebhookPayloadInvalid(f"The PayPal {kind} resource cannot be read: {exc}") from exc


async def _read(
    base: dict[str, Any], kind: str, resource: dict[str, Any], lookup_capture: CaptureLookup
) -> WebhookEvent:
    if kind == "CHECKOUT.ORDER.APPROVED":
        units = resource.get("purchase_units") or [{}]
        amount = money(units[0].get("amount"))
        return WebhookEvent(
            **base,
            type=WebhookEventType.CHECKOUT_APPROVED,
            external_checkout_id=text(resource, "id"),
            purchase_reference=text(units[0], "custom_id"),
            amount_minor=amount[0] if amount else None,
            currency=amount[1] if amount else None,
        )
    if kind in ("PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.DECLINED", "PAYMENT.CAPTURE.DENIED"):
        completed = kind == "PAYMENT.CAPTURE.COMPLETED"
        snapshot = capture_snapshot(resource)
        return WebhookEvent(
            **base,
            type=WebhookEventType.PAYMENT_SUCCEEDED if completed else WebhookEventType.PAYMENT_FAILED,
            purchase_reference=snapshot.purchase_reference,
            external_payment_id=snapshot.external_payment_id,
            external_checkout_id=text(resource, "supplementary_data", "related_ids", "order_id"),
            amount_minor=snapshot.amount_minor,
            currency=snapshot.currency,
            fee_minor=snapshot.fee_minor if completed else None,
        )
    if kind == "PAYMENT.CAPTURE.REFUNDED":
        return await _refund(base, resource, lookup_capture)
    if kind in ("CUSTOMER.DISPUTE.CREATED", "CUSTOMER.DISPUTE.RESOLVED"):
        return _dispute(base, kind, resource)
    if kind.startswith("PAYMENT.PAYOUTS-ITEM."):
        return _payout(base, resource)
    return WebhookEvent(**base, type=WebhookEventType.IGNORED)


async def _refund(
    base: dict[str, Any], refund: dict[str, Any], lookup_capture: CaptureLookup
) -> WebhookEvent:
    refund_id, amount, capture_id = text(refund, "id"), money(refund.get("amount")), capture_of_refund(refund)
    if refund_id is None or amount is None or capture_id is None:
        raise WebhookPayloadInvalid("A PayPal refund needs an id, an amount and a link up to its capture.")
    total = money(obj(refund, "seller_payable_breakdown").get("total_refunded_amount"))
    # the refund does not say whether it emptied the capture: the capture's status does
    capture = await lookup_capture(capture_id)
    return WebhookEvent(
        **base,
        type=WebhookEventType.REFUNDED,
        purchase_reference=text(refund, "custom_id") or text(capture, "custom_id"),
        external_payment_id=capture_id,
        amount_minor=amount[0],
        currency=amount[1],
        refund=RefundDetails(
            external_refund_id=refund_id,
            amount_minor=amount[0],
            full=text(capture, "status") == "REFUNDED",
            refunded_total_minor=total[0] if total else None,
        ),
    )


def _dispute(base: dict[str, Any], kind: str, dispute: dict[str, Any]) -> WebhookEvent:
    dispute_id, amount = text(dispute, "dispute_id"), money(dispute.get("dispute_amount"))
    if dispute_id is None or amount is None:
        raise WebhookPayloadInvalid("A PayPal dispute needs a dispute_id and a dispute_amount.")
    if kind == "CUSTOMER.DISPUTE.CREATED":
        outcome = WebhookEventType.CHARGEBACK_OPENED
    else:
        code = text(dispute, "dispute_outcome", "outcome_code") or ""
        if code in _DISPUTE_WON:
            outcome = WebhookEventType.CHARGEBACK_WON
        elif code in _DISPUTE_LOST:
            outcome = WebhookEventType.CHARGEBACK_LOST
        else:
            return WebhookEvent(**base, type=WebhookEventType.IGNORED)
    transactions = dispute.get("disputed_transactions") or [{}]
    return WebhookEvent(
        **base,
        type=outcome,
        purchase_reference=text(transactions[0], "custom"),
        external_payment_id=text(transactions[0], "seller_transaction_id"),
        amount_minor=amount[0],
        currency=amount[1],
        chargeback=ChargebackDetails(
            external_dispute_id=dispute_id, amount_minor=amount[0], reason=text(dispute, "reason")
        ),
    )


def _payout(base: dict[str, Any], item: dict[str, Any]) -> WebhookEvent:
    status = text(item, "transaction_status") or ""
    if status != "SUCCESS" and status not in _PAYOUT_FAILED:
        return WebhookEvent(**base, type=WebhookEventType.IGNORED)
    batch_id, amount = (
        text(item, "payout_batch_id"),
        money(obj(item, "payout_item").get("amount"), currency_key="currency"),
    )
    if batch_id is None or amount is None:
        raise WebhookPayloadInvalid("A PayPal payout item needs its batch id and amount.")
    failed = status != "SUCCESS"
    return WebhookEvent(
        **base,
        type=WebhookEventType.PAYOUT_FAILED if failed else WebhookEventType.PAYOUT_PAID,
        amount_minor=amount[0],
        currency=amount[1],
        payout=PayoutDetails(
            external_payout_id=batch_id,
            payout_id=text(item, "payout_item", "sender_item_id"),
            failure_reason=(text(item, "errors", "name") or status.lower()) if failed else None,
        ),
    )

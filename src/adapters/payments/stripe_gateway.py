"""Stripe, through the official SDK (`stripe.StripeClient`, async methods over its httpx client).

- Checkout: a Checkout Session in ``payment`` mode with one ad-hoc line item; our purchase id
  travels as ``client_reference_id`` and as metadata on both the session and its PaymentIntent,
  so every later object (refunds, disputes) can be traced back.
- The external payment id is the PaymentIntent id; fees come from the balance transaction of its
  latest charge (``expand=latest_charge.balance_transaction``), converted by the balance
  transaction's exchange rate when Stripe settles in another currency.
- Webhooks: ``Stripe-Signature: t=..,v1=..`` (HMAC-SHA256 over ``"{t}.{raw body}"``) checked by
  the SDK (`StripeClient.construct_event`); the timestamp is checked against *our* clock, in both
  directions, because the SDK compares to the wall clock and only for old deliveries.
- Refunds and Connect transfers (payouts) and transfer reversals carry the idempotency key in
  Stripe's ``Idempotency-Key`` header.

Events read:

| Stripe event                                    | Canon event                         |
| ----------------------------------------------- | ----------------------------------- |
| ``checkout.session.completed`` (paid)           | PAYMENT_SUCCEEDED                   |
| ``checkout.session.async_payment_succeeded``    | PAYMENT_SUCCEEDED                   |
| ``checkout.session.async_payment_failed``       | PAYMENT_FAILED                      |
| ``checkout.session.expired``                    | PAYMENT_FAILED                      |
| ``refund.created`` / ``refund.updated`` (succeeded) | REFUNDED (one per refund id)    |
| ``charge.dispute.created``                      | CHARGEBACK_OPENED                   |
| ``charge.dispute.closed`` won / warning_closed  | CHARGEBACK_WON                      |
| ``charge.dispute.closed`` lost                  | CHARGEBACK_LOST                     |
| ``charge.dispute.funds_reinstated``             | CHARGEBACK_WON (the money came back) |
| ``transfer.created``                            | PAYOUT_PAID                         |
| ``transfer.reversed`` (fully)                   | PAYOUT_FAILED                       |
| anything else                                   | IGNORED                             |

A failed card attempt (``payment_intent.payment_failed``) is IGNORED on purpose: the buyer may
retry on the same session; the purchase fails only when the session expires.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import stripe

from adapters.payments._shared import (
    integer,
    load_json_object,
    obj,
    payload_reading,
    purchase_reference,
    text,
)
from application.payments.amounts import normalize_currency, round_half_up
from application.payments.errors import (
    CaptureNotSupported,
    PaymentNotFound,
    PaymentProcessorRejected,
    PaymentProcessorUnavailable,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
)
from application.payments.ports import (
    PAYOUT_REFERENCE_KEY,
    PURCHASE_REFERENCE_KEY,
    ChargebackDetails,
    Checkout,
    CheckoutRequest,
    PaymentProcessor,
    PaymentSnapshot,
    PaymentStatus,
    PayoutDetails,
    PayoutRequest,
    PayoutResult,
    PayoutReversalResult,
    PayoutStatus,
    RefundDetails,
    RefundResult,
    RefundStatus,
    WebhookEvent,
    WebhookEventType,
    validate_idempotency_key,
    validate_refund_amount,
)
from application.payments.signing import (
    DEFAULT_WEBHOOK_TOLERANCE,
    check_timestamp,
    from_unix,
    require_header,
    require_secret,
)

SIGNATURE_HEADER = "Stripe-Signature"
_STRIPE = PaymentProcessor.STRIPE
_REFUND_STATUS = {
    "succeeded": RefundStatus.SUCCEEDED,
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
}


class StripePaymentGateway:
    def __init__(
        self,
        *,
        api_key: str,
        webhook_secret: str,
        api_base: str | None = None,
        tolerance: timedelta = DEFAULT_WEBHOOK_TOLERANCE,
        max_network_retries: int = 2,
        timeout_seconds: float = 30.0,
    ) -> None:
        self._http = stripe.HTTPXClient(timeout=timeout_seconds)
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
            max_network_retries=max_network_retries,
        )
        self._webhook_secret = webhook_secret
        self._tolerance = tolerance

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

    @property
    def processor(self) -> PaymentProcessor:
        return _STRIPE

    @property
    def supports_payouts(self) -> bool:
        return True

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        reference = {PURCHASE_REFERENCE_KEY: request.purchase_id}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount_minor,
                        "product_data": {"name": request.description},
                    },
                }
            ],
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "client_reference_id": request.purchase_id,
            "metadata": reference,
            "payment_intent_data": {"metadata": reference},
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        options = {"idempotency_key": request.idempotency_key} if request.idempotency_key else None
        async with _errors():
            session = await self._client.v1.checkout.sessions.create_async(params, options)  # type: ignore[arg-type]
        if not session.url:
            raise PaymentProcessorUnavailable("Stripe created a checkout session without a URL.")
        return Checkout(
            processor=_STRIPE,
            external_checkout_id=session.id,
            url=session.url,
            expires_at=from_unix(session.expires_at) if session.expires_at else None,
        )

    async def capture_checkout(self, external_checkout_id: str, *, idempotency_key: str) -> PaymentSnapshot:
        raise CaptureNotSupported("Stripe Checkout captures the payment when the buyer pays.")

    # -- webhooks ----------------------------------------------------------------------------

    async def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, *, now: datetime
    ) -> WebhookEvent:
        secret = require_secret(self._webhook_secret, "Stripe")
        header = require_header(headers, SIGNATURE_HEADER)
        try:
            # tolerance=0 turns the SDK's wall-clock check off; ours below uses the injected clock
            self._client.construct_event(raw_body, header, secret, tolerance=0)
        except stripe.SignatureVerificationError as exc:
            raise WebhookSignatureInvalid("The Stripe signature does not match the body.") from exc
        except ValueError as exc:
            raise WebhookPayloadInvalid("The Stripe webhook body is not a snapshot event.") from exc
        check_timestamp(from_unix(_signed_timestamp(header)), now, self._tolerance)
        with payload_reading("Stripe"):
            return await self._normalize(load_json_object(raw_body))

    async def _normalize(self, payload: dict[str, Any]) -> WebhookEvent:
        event_id, kind, created = text(payload, "id"), text(payload, "type"), integer(payload, "created")
        if event_id is None or kind is None or created is None:
            raise WebhookPayloadInvalid("A Stripe event needs an id, a type and a created time.")
        data = obj(payload, "data", "object")
        base: dict[str, Any] = {
            "processor": _STRIPE,
            "external_event_id": event_id,
            "processor_event_type": kind,
            "occurred_at": from_unix(created),
            "raw": payload,
        }
        currency = text(data, "currency")
        if currency:
            base["currency"] = normalize_currency(currency)

        if kind.startswith("checkout.session."):
            outcome = _checkout_outcome(kind, text(data, "payment_status"))
            if outcome is None:
                return WebhookEvent(**base, type=WebhookEventType.IGNORED)
            return WebhookEvent(
                **base,
                type=outcome,
                purchase_reference=purchase_reference(obj(data, "metadata"))
                or text(data, "client_reference_id"),
                external_checkout_id=text(data, "id"),
                external_payment_id=text(data, "payment_intent"),
                amount_minor=integer(data, "amount_total"),
            )
        if kind in ("refund.created", "refund.updated") and text(data, "status") == "succeeded":
            return await self._refund_event(base, data)
        if kind in ("charge.dispute.created", "charge.dispute.closed", "charge.dispute.funds_reinstated"):
            return await self._dispute_event(base, kind, data)
        if kind in ("transfer.created", "transfer.reversed"):
            return _transfer_event(base, kind, data)
        return WebhookEvent(**base, type=WebhookEventType.IGNORED)

    async def _refund_event(self, base: dict[str, Any], refund: dict[str, Any]) -> WebhookEvent:
        refund_id, amount = text(refund, "id"), integer(refund, "amount")
        if refund_id is None or amount is None:
            raise WebhookPayloadInvalid("A Stripe refund needs an id and an amount.")
        intent = await self._intent_for(text(refund, "payment_intent"), text(refund, "charge"))
        charge = obj(intent, "latest_charge")
        total, paid = integer(charge, "amount_refunded"), integer(charge, "amount")
        return WebhookEvent(
            **base,
            type=WebhookEventType.REFUNDED,
            purchase_reference=purchase_reference(obj(refund, "metadata"), obj(intent, "metadata")),
            external_payment_id=text(intent, "id"),
            amount_minor=amount,
            refund=RefundDetails(
                external_refund_id=refund_id,
                amount_minor=amount,
                full=total is not None and paid is not None and total >= paid,
                refunded_total_minor=total,
            ),
        )

    async def _dispute_event(self, base: dict[str, Any], kind: str, dispute: dict[str, Any]) -> WebhookEvent:
        dispute_id, amount, status = text(dispute, "id"), integer(dispute, "amount"), text(dispute, "status")
        if dispute_id is None or amount is None:
            raise WebhookPayloadInvalid("A Stripe dispute needs an id and an amount.")
        if kind == "charge.dispute.created":
            outcome = WebhookEventType.CHARGEBACK_OPENED
        elif kind == "charge.dispute.funds_reinstated" or status in ("won", "warning_closed"):
            outcome = WebhookEventType.CHARGEBACK_WON
        elif status == "lost":
            outcome = WebhookEventType.CHARGEBACK_LOST
        else:
            return WebhookEvent(**base, type=WebhookEventType.IGNORED)
        intent = await self._intent_for(text(dispute, "payment_intent"), text(dispute, "charge"))
        return WebhookEvent(
            **base,
            type=outcome,
            purchase_reference=purchase_reference(obj(dispute, "metadata"), obj(intent, "metadata")),
            external_payment_id=text(intent, "id"),
            amount_minor=amount,
            chargeback=ChargebackDetails(
                external_dispute_id=dispute_id, amount_minor=amount, reason=text(dispute, "reason")
            ),
        )

    async def _intent_for(self, intent_id: str | None, charge_id: str | None) -> dict[str, Any]:
        """The PaymentIntent (latest charge expanded) an object belongs to: refunds and disputes
        name their charge, and our purchase id and the running totals live on the intent."""
        if intent_id is None and charge_id is not None:
            async with _errors():
                charge = await self._client.v1.charges.retrieve_async(charge_id)
            intent_id = text(charge.to_dict(), "payment_intent")
        if intent_id is None:
            raise WebhookPayloadInvalid("The Stripe object is not tied to a PaymentIntent.")
        async with _errors():
            intent = await self._client.v1.payment_intents.retrieve_async(
                intent_id, {"expand": ["latest_charge.balance_transaction"]}
            )
        return intent.to_dict()

    # -- payments ----------------------------------------------------------------------------

    async def fetch_payment(self, external_payment_id: str) -> PaymentSnapshot:
        intent = await self._intent_for(external_payment_id, None)
        currency = normalize_currency(text(intent, "currency") or "")
        charge = obj(intent, "latest_charge")
        amount = integer(intent, "amount_received") or integer(intent, "amount") or 0
        refunded = integer(charge, "amount_refunded") or 0
        fee = _fee_in(currency, obj(charge, "balance_transaction"))
        state = text(intent, "status")
        if state == "succeeded":
            status = PaymentStatus.SUCCEEDED
            if refunded:
                status = PaymentStatus.REFUNDED if refunded >= amount else PaymentStatus.PARTIALLY_REFUNDED
        elif state == "canceled":
            status = PaymentStatus.FAILED
        else:
            status = PaymentStatus.PENDING
        return PaymentSnapshot(
            processor=_STRIPE,
            external_payment_id=external_payment_id,
            status=status,
            amount_minor=amount,
            currency=currency,
            fee_minor=fee,
            net_minor=amount - fee if fee is not None else None,
            refunded_minor=refunded,
            purchase_reference=purchase_reference(obj(intent, "metadata")),
        )

    async def refund(
        self, external_payment_id: str, amount_minor: int | None, *, idempotency_key: str
    ) -> RefundResult:
        validate_refund_amount(amount_minor)
        validate_idempotency_key(idempotency_key)
        params: dict[str, Any] = {"payment_intent": external_payment_id}
        if amount_minor is not None:
            params["amount"] = amount_minor
        async with _errors():
            refund = await self._client.v1.refunds.create_async(params, {"idempotency_key": idempotency_key})  # type: ignore[arg-type]
        return RefundResult(
            processor=_STRIPE,
            external_refund_id=refund.id,
            external_payment_id=external_payment_id,
            amount_minor=refund.amount,
            currency=normalize_currency(refund.currency),
            status=_REFUND_STATUS.get(refund.status or "", RefundStatus.PENDING),
        )

    # -- payouts (Connect transfers) -----------------------------------------------------------

    async def payout(self, request: PayoutRequest) -> PayoutResult:
        params: dict[str, Any] = {
            "amount": request.amount_minor,
            "currency": request.currency.lower(),
            "destination": request.destination_account,
            "transfer_group": request.payout_id,
            "metadata": {PAYOUT_REFERENCE_KEY: request.payout_id},
        }
        if request.description:
            params["description"] = request.description
        async with _errors():
            transfer = await self._client.v1.transfers.create_async(
                params,  # type: ignore[arg-type]
                {"idempotency_key": request.idempotency_key},
            )
        return PayoutResult(
            processor=_STRIPE,
            payout_id=request.payout_id,
            external_payout_id=transfer.id,
            amount_minor=transfer.amount,
            currency=normalize_currency(transfer.currency),
            # a transfer lands in the connected account's balance at once; Stripe pays it out
            status=PayoutStatus.PAID,
        )

    async def reverse_payout(
        self, external_payout_id: str, amount_minor: int | None, *, idempotency_key: str
    ) -> PayoutReversalResult:
        validate_refund_amount(amount_minor)
        validate_idempotency_key(idempotency_key)
        params: dict[str, Any] = {} if amount_minor is None else {"amount": amount_minor}
        async with _errors():
            reversal = await self._client.v1.transfers.reversals.create_async(
                external_payout_id,
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        return PayoutReversalResult(
            processor=_STRIPE,
            external_payout_id=external_payout_id,
            external_reversal_id=reversal.id,
            amount_minor=reversal.amount,
            currency=normalize_currency(reversal.currency),
        )


def _signed_timestamp(header: str) -> int:
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    raise WebhookSignatureInvalid("The Stripe signature header has no timestamp.")


def _checkout_outcome(kind: str, payment_status: str | None) -> WebhookEventType | None:
    if kind == "checkout.session.completed":
        # "unpaid" means a delayed method (bank debit): async_payment_succeeded/failed follows
        return (
            WebhookEventType.PAYMENT_SUCCEEDED if payment_status in ("paid", "no_payment_required") else None
        )
    return {
        "checkout.session.async_payment_succeeded": WebhookEventType.PAYMENT_SUCCEEDED,
        "checkout.session.async_payment_failed": WebhookEventType.PAYMENT_FAILED,
        "checkout.session.expired": WebhookEventType.PAYMENT_FAILED,
    }.get(kind)


def _transfer_event(base: dict[str, Any], kind: str, transfer: dict[str, Any]) -> WebhookEvent:
    transfer_id, amount = text(transfer, "id"), integer(transfer, "amount")
    if transfer_id is None or amount is None:
        raise WebhookPayloadInvalid("A Stripe transfer needs an id and an amount.")
    reversed_fully = kind == "transfer.reversed" and (integer(transfer, "amount_reversed") or 0) >= amount
    if kind == "transfer.reversed" and not reversed_fully:
        return WebhookEvent(**base, type=WebhookEventType.IGNORED)
    return WebhookEvent(
        **base,
        type=WebhookEventType.PAYOUT_FAILED if reversed_fully else WebhookEventType.PAYOUT_PAID,
        amount_minor=amount,
        payout=PayoutDetails(
            external_payout_id=transfer_id,
            payout_id=text(transfer, "metadata", PAYOUT_REFERENCE_KEY) or text(transfer, "transfer_group"),
            failure_reason="reversed" if reversed_fully else None,
        ),
    )


def _fee_in(currency: str, balance_transaction: dict[str, Any]) -> int | None:
    """Stripe's fee in the payment's currency. A balance transaction is in the settlement
    currency; when that differs, its ``exchange_rate`` (settlement per presentment unit) converts
    the fee back, rounded half-up."""
    fee = integer(balance_transaction, "fee")
    settled_in = text(balance_transaction, "currency")
    if fee is None or settled_in is None:
        return None
    if normalize_currency(settled_in) == currency:
        return fee
    rate = balance_transaction.get("exchange_rate")
    if rate is None or isinstance(rate, bool):
        return None
    return round_half_up(Decimal(fee) / Decimal(str(rate)))


@asynccontextmanager
async def _errors() -> AsyncIterator[None]:
    """Maps the SDK's errors onto ours: 404 is not-found, other 4xx a rejection (with Stripe's
    code kept in ``extra``), the rest an outage the caller may retry with the same key."""
    try:
        yield
    except stripe.StripeError as exc:
        extra = {"processor_code": exc.code, "status": exc.http_status}
        message = exc.user_message or str(exc) or type(exc).__name__
        if exc.http_status == 404:
            raise PaymentNotFound(f"Stripe: {message}", extra=extra) from exc
        if isinstance(exc, (stripe.InvalidRequestError, stripe.CardError, stripe.IdempotencyError)):
            raise PaymentProcessorRejected(f"Stripe refused: {message}", extra=extra) from exc
        raise PaymentProcessorUnavailable(f"Stripe failed: {message}", extra=extra) from exc

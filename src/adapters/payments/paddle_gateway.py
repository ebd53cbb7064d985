"""Paddle Billing, through the official SDK (`paddle_billing`, synchronous: calls run in a thread).

- Checkout: a transaction with one non-catalog price (tax included, ``tax_mode=internal``) whose
  ``custom_data`` carries our purchase id; Paddle answers with the checkout URL (your default
  payment link, or ``checkout_url`` if given, with ``?_ptxn=<transaction id>``). The transaction
  id is both the external checkout id and the external payment id.
- Amounts are minor-unit strings on Paddle's wire (`parse_minor_units`). The snapshot's fee,
  tax and net are Paddle's ``details.totals`` ``fee``, ``tax`` and ``earnings``: as merchant of
  record Paddle remits the sales tax, so net = amount - fee - tax.
- Refunds are ``refund`` adjustments, created ``pending_approval`` and approved by Paddle later;
  only approved ones count as refunded. Paddle's API takes no idempotency key, so the gateway
  writes ``[canon:<key>]`` into the adjustment's reason and, before creating one, looks for an
  adjustment of the transaction carrying that marker: a retry returns it instead of refunding
  twice (in-process retries are also serialized).
- Paddle pays only the platform, never third parties: ``supports_payouts`` is False.
- Webhooks: ``Paddle-Signature: ts=<unix>;h1=<hex HMAC-SHA256 of "{ts}:{raw body}">``, checked
  with the SDK's `PaddleSignature` (the primitive its `Verifier` uses: `Verifier` itself compares
  against the wall clock and honours a ``TEST_MODE`` variable, so the timestamp is checked here
  against the injected clock instead).

Events read:

| Paddle event                                   | Canon event                         |
| ---------------------------------------------- | ----------------------------------- |
| ``transaction.completed``                      | PAYMENT_SUCCEEDED (fee and tax in it) |
| ``transaction.canceled``                       | PAYMENT_FAILED                      |
| ``adjustment.*`` refund, approved              | REFUNDED                            |
| ``adjustment.*`` chargeback_warning            | CHARGEBACK_OPENED                   |
| ``adjustment.*`` chargeback                    | CHARGEBACK_LOST (the money is taken) |
| ``adjustment.*`` chargeback_reverse / chargeback_warning_reverse | CHARGEBACK_WON   |
| anything else (``payout.*`` is Paddle paying us) | IGNORED                           |

A failed card attempt (``transaction.payment_failed``) is IGNORED: the buyer may retry. A
chargeback's external dispute id is its transaction id, since each step is its own adjustment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

import requests
from paddle_billing import Client, Options
from paddle_billing.Entities.Shared import (
    Action,
    AdjustmentType,
    CollectionMode,
    CurrencyCode,
    CustomData,
    Money,
    TaxCategory,
    TaxMode,
)
from paddle_billing.Entities.Shared import Checkout as PaddleCheckout
from paddle_billing.Environment import Environment
from paddle_billing.Exceptions.ApiError import ApiError
from paddle_billing.Exceptions.SdkExceptions.InvalidArgumentException import InvalidArgumentException
from paddle_billing.Notifications import PaddleSignature, Secret
from paddle_billing.Resources.Adjustments.Operations import (
    CreateAdjustment,
    CreateAdjustmentItem,
    ListAdjustments,
)
from paddle_billing.Resources.Transactions.Operations import CreateTransaction
from paddle_billing.Resources.Transactions.Operations.Create import TransactionCreateItemWithPrice
from paddle_billing.Resources.Transactions.Operations.Price import (
    TransactionNonCatalogPriceWithProduct,
    TransactionNonCatalogProduct,
)
from paddle_billing.Undefined import Undefined

from adapters.payments._shared import load_json_object, obj, parse_iso, purchase_reference, text
from application.errors import InvalidInput
from application.payments.amounts import normalize_currency, parse_minor_units
from application.payments.errors import (
    CaptureNotSupported,
    PaymentNotFound,
    PaymentProcessorRejected,
    PaymentProcessorUnavailable,
    PayoutsNotSupported,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
)
from application.payments.ports import (
    PURCHASE_REFERENCE_KEY,
    ChargebackDetails,
    Checkout,
    CheckoutRequest,
    PaymentProcessor,
    PaymentSnapshot,
    PaymentStatus,
    PayoutRequest,
    PayoutResult,
    PayoutReversalResult,
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

SIGNATURE_HEADER = "Paddle-Signature"
_PADDLE = PaymentProcessor.PADDLE
_R = TypeVar("_R")
_CHARGEBACKS = {
    "chargeback_warning": WebhookEventType.CHARGEBACK_OPENED,
    "chargeback": WebhookEventType.CHARGEBACK_LOST,
    "chargeback_reverse": WebhookEventType.CHARGEBACK_WON,
    "chargeback_warning_reverse": WebhookEventType.CHARGEBACK_WON,
}
_REFUND_STATUS = {
    "approved": RefundStatus.SUCCEEDED,
    "pending_approval": RefundStatus.PENDING,
    "rejected": RefundStatus.FAILED,
    "reversed": RefundStatus.FAILED,
}
_COUNTED = ("approved", "pending_approval")


class _Endpoint:
    """Stands in for the SDK's `Environment`: the client reads only ``base_url`` from it."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")


class PaddlePaymentGateway:
    def __init__(
        self,
        *,
        api_key: str,
        webhook_secret: str,
        api_base: str | None = None,
        sandbox: bool = False,
        checkout_url: str | None = None,
        tax_category: str = "digital-goods",
        tolerance: timedelta = DEFAULT_WEBHOOK_TOLERANCE,
        timeout_seconds: float = 30.0,
    ) -> None:
        environment: Any = (
            _Endpoint(api_base) if api_base else (Environment.SANDBOX if sandbox else Environment.PRODUCTION)
        )
        self._client = Client(api_key, options=Options(environment=environment), timeout=timeout_seconds)
        self._webhook_secret = webhook_secret
        self._checkout_url = checkout_url
        self._tax_category = TaxCategory(tax_category)
        self._tolerance = tolerance
        self._refund_lock = asyncio.Lock()

    @property
    def processor(self) -> PaymentProcessor:
        return _PADDLE

    @property
    def supports_payouts(self) -> bool:
        return False

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        price = TransactionNonCatalogPriceWithProduct(
            description=request.description,
            name=request.description[:150],
            unit_price=Money(str(request.amount_minor), CurrencyCode(request.currency)),
            product=TransactionNonCatalogProduct(
                name=request.description[:200], tax_category=self._tax_category
            ),
            tax_mode=TaxMode.Internal,
        )
        operation = CreateTransaction(
            items=[TransactionCreateItemWithPrice(price=price, quantity=1)],
            custom_data=CustomData({PURCHASE_REFERENCE_KEY: request.purchase_id}),
            currency_code=CurrencyCode(request.currency),
            collection_mode=CollectionMode.Automatic,
            checkout=PaddleCheckout(url=self._checkout_url) if self._checkout_url else Undefined(),
        )
        transaction = await self._call(self._client.transactions.create, operation)
        url = transaction.checkout.url if transaction.checkout else None
        if not url:
            raise PaymentProcessorUnavailable("Paddle returned no checkout URL: set a default payment link.")
        return Checkout(processor=_PADDLE, external_checkout_id=transaction.id, url=url)

    async def capture_checkout(self, external_checkout_id: str, *, idempotency_key: str) -> PaymentSnapshot:
        raise CaptureNotSupported("Paddle captures the payment when the buyer pays.")

    # -- webhooks ----------------------------------------------------------------------------

    async def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, *, now: datetime
    ) -> WebhookEvent:
        secret = require_secret(self._webhook_secret, "Paddle")
        header = require_header(headers, SIGNATURE_HEADER)
        try:
            timestamp, _ = PaddleSignature.parse(header)
            valid = PaddleSignature().verify(header, raw_body.decode("utf-8"), Secret(secret))
        except (ValueError, UnicodeDecodeError) as exc:
            raise WebhookSignatureInvalid("The Paddle signature header cannot be read.") from exc
        if not valid or timestamp <= 0:
            raise WebhookSignatureInvalid("The Paddle signature does not match the body.")
        check_timestamp(from_unix(timestamp), now, self._tolerance)
        return _normalize(load_json_object(raw_body), now)

    # -- payments and refunds ----------------------------------------------------------------

    async def fetch_payment(self, external_payment_id: str) -> PaymentSnapshot:
        transaction = await self._call(self._client.transactions.get, external_payment_id)
        adjustments = await self._call(self._adjustments_of, external_payment_id)
        totals = transaction.details.totals
        amount = _minor(totals.grand_total) or _minor(totals.total) or 0
        fee, tax, earnings = _minor(totals.fee), _minor(totals.tax), _minor(totals.earnings)
        refunded = sum(
            _minor(a.totals.total) or 0
            for a in adjustments
            if a.action.value == "refund" and a.status.value == "approved"
        )
        state = transaction.status.value
        if state in ("completed", "paid"):
            status = PaymentStatus.SUCCEEDED
            if refunded:
                status = PaymentStatus.REFUNDED if refunded >= amount else PaymentStatus.PARTIALLY_REFUNDED
        elif state == "canceled":
            status = PaymentStatus.FAILED
        else:
            status = PaymentStatus.PENDING
        custom = transaction.custom_data.data if transaction.custom_data else {}
        return PaymentSnapshot(
            processor=_PADDLE,
            external_payment_id=external_payment_id,
            status=status,
            amount_minor=amount,
            currency=normalize_currency(transaction.currency_code.value),
            fee_minor=fee,
            tax_minor=tax,
            net_minor=earnings
            if earnings is not None
            else (amount - fee - (tax or 0) if fee is not None else None),
            refunded_minor=refunded,
            purchase_reference=purchase_reference(custom),
        )

    async def refund(
        self, external_payment_id: str, amount_minor: int | None, *, idempotency_key: str
    ) -> RefundResult:
        validate_refund_amount(amount_minor)
        validate_idempotency_key(idempotency_key)
        async with self._refund_lock:
            adjustment = await self._call(
                self._refund_once, external_payment_id, amount_minor, idempotency_key
            )
        return RefundResult(
            processor=_PADDLE,
            external_refund_id=adjustment.id,
            external_payment_id=external_payment_id,
            amount_minor=_minor(adjustment.totals.total) or 0,
            currency=normalize_currency(adjustment.currency_code.value),
            status=_REFUND_STATUS.get(adjustment.status.value, RefundStatus.PENDING),
        )

    def _refund_once(self, transaction_id: str, amount_minor: int | None, key: str) -> Any:
        marker = f"[canon:{key}]"
        existing = self._adjustments_of(transaction_id)
        for adjustment in existing:
            if marker in (adjustment.reason or ""):
                return adjustment
        transaction = self._client.transactions.get(transaction_id)
        if transaction.status.value not in ("completed", "paid"):
            raise PaymentProcessorRejected(
                f"Paddle transaction {transaction_id} is {transaction.status.value}."
            )
        refunds = [a for a in existing if a.action.value == "refund" and a.status.value in _COUNTED]
        total = (
            _minor(transaction.details.totals.grand_total) or _minor(transaction.details.totals.total) or 0
        )
        refunded = sum(_minor(a.totals.total) or 0 for a in refunds)
        remaining = total - refunded
        amount = remaining if amount_minor is None else amount_minor
        if amount <= 0 or amount > remaining:
            raise PaymentProcessorRejected(
                f"Cannot refund {amount}: {remaining} is left on Paddle transaction {transaction_id}."
            )
        reason = f"Refund requested by Canon {marker}"
        if refunded == 0 and amount == total:
            operation = CreateAdjustment.full(Action.Refund, reason, transaction_id)
        else:
            # the SDK names this one attribute in camelCase
            items = _allocate(transaction.details.lineItems, refunds, amount)
            operation = CreateAdjustment.partial(Action.Refund, items, reason, transaction_id)
        return self._client.adjustments.create(operation)

    def _adjustments_of(self, transaction_id: str) -> list[Any]:
        return list(self._client.adjustments.list(ListAdjustments(transaction_ids=[transaction_id])))

    # -- payouts -----------------------------------------------------------------------------

    async def payout(self, request: PayoutRequest) -> PayoutResult:
        raise PayoutsNotSupported("Paddle pays only the platform; configure a payout processor that can.")

    async def reverse_payout(
        self, external_payout_id: str, amount_minor: int | None, *, idempotency_key: str
    ) -> PayoutReversalResult:
        raise PayoutsNotSupported("Paddle makes no payouts to reverse.")

    async def _call(self, function: Callable[..., _R], *args: Any) -> _R:
        try:
            return await asyncio.to_thread(function, *args)
        except ApiError as exc:
            status = exc.response.status_code if exc.response is not None else None
            extra = {"processor_code": exc.error_code, "status": status}
            if status == 404:
                raise PaymentNotFound(f"Paddle: {exc.detail}", extra=extra) from exc
            # 401/403 are our configuration, 429 and 5xx Paddle's: retryable, not a refusal
            if status is not None and 400 <= status < 500 and status not in (401, 403, 429):
                raise PaymentProcessorRejected(f"Paddle refused: {exc.detail}", extra=extra) from exc
            raise PaymentProcessorUnavailable(f"Paddle failed: {exc.detail}", extra=extra) from exc
        except InvalidArgumentException as exc:
            raise PaymentProcessorRejected(f"Paddle request not valid: {exc}") from exc
        except requests.RequestException as exc:
            raise PaymentProcessorUnavailable(f"Paddle could not be reached: {exc}") from exc


def _minor(value: Any) -> int | None:
    return None if value is None else parse_minor_units(value)


def _allocate(line_items: list[Any], refunds: list[Any], amount: int) -> list[CreateAdjustmentItem]:
    """Spreads a partial refund over the transaction's line items, each up to what is left on it."""
    taken: dict[str, int] = {}
    for refund in refunds:
        for item in refund.items or []:
            taken[item.item_id] = taken.get(item.item_id, 0) + (_minor(item.amount) or 0)
    items: list[CreateAdjustmentItem] = []
    for line in line_items:
        left = (_minor(line.totals.total) or 0) - taken.get(line.id, 0)
        part = min(left, amount)
        if part > 0:
            items.append(CreateAdjustmentItem(item_id=line.id, type=AdjustmentType.Partial, amount=str(part)))
            amount -= part
        if amount == 0:
            break
    if amount:
        raise PaymentProcessorRejected("The refund is larger than what is left on the transaction's items.")
    return items


def _normalize(payload: dict[str, Any], now: datetime) -> WebhookEvent:
    event_id, kind = text(payload, "event_id"), text(payload, "event_type")
    if event_id is None or kind is None:
        raise WebhookPayloadInvalid("A Paddle notification needs an event_id and an event_type.")
    data = obj(payload, "data")
    base: dict[str, Any] = {
        "processor": _PADDLE,
        "external_event_id": event_id,
        "processor_event_type": kind,
        "occurred_at": parse_iso(payload.get("occurred_at"), now),
        "raw": payload,
    }
    currency = text(data, "currency_code")
    if currency:
        base["currency"] = normalize_currency(currency)
    try:
        if kind in ("transaction.completed", "transaction.canceled"):
            totals = obj(data, "details", "totals")
            succeeded = kind == "transaction.completed"
            return WebhookEvent(
                **base,
                type=WebhookEventType.PAYMENT_SUCCEEDED if succeeded else WebhookEventType.PAYMENT_FAILED,
                purchase_reference=purchase_reference(obj(data, "custom_data")),
                external_payment_id=text(data, "id"),
                external_checkout_id=text(data, "id"),
                amount_minor=_minor(totals.get("grand_total")) or _minor(totals.get("total")),
                fee_minor=_minor(totals.get("fee")) if succeeded else None,
                tax_minor=_minor(totals.get("tax")),
            )
        if kind in ("adjustment.created", "adjustment.updated"):
            return _adjustment_event(base, data)
    except (InvalidInput, KeyError, TypeError, ValueError, AttributeError) as exc:
        # amounts that are not minor-unit strings, shapes that are not Paddle's
        raise WebhookPayloadInvalid(f"The Paddle {kind} payload cannot be read: {exc}") from exc
    return WebhookEvent(**base, type=WebhookEventType.IGNORED)


def _adjustment_event(base: dict[str, Any], data: dict[str, Any]) -> WebhookEvent:
    action, status = text(data, "action"), text(data, "status")
    adjustment_id, transaction_id = text(data, "id"), text(data, "transaction_id")
    amount = _minor(obj(data, "totals").get("total"))
    if adjustment_id is None or transaction_id is None or amount is None:
        raise WebhookPayloadInvalid("A Paddle adjustment needs an id, a transaction_id and totals.total.")
    if action == "refund" and status == "approved":
        return WebhookEvent(
            **base,
            type=WebhookEventType.REFUNDED,
            external_payment_id=transaction_id,
            amount_minor=amount,
            refund=RefundDetails(
                external_refund_id=adjustment_id, amount_minor=amount, full=text(data, "type") == "full"
            ),
        )
    if action in _CHARGEBACKS and status not in ("rejected", "reversed"):
        return WebhookEvent(
            **base,
            type=_CHARGEBACKS[action],
            external_payment_id=transaction_id,
            amount_minor=amount,
            chargeback=ChargebackDetails(
                external_dispute_id=transaction_id, amount_minor=amount, reason=text(data, "reason")
            ),
        )
    return WebhookEvent(**base, type=WebhookEventType.IGNORED)

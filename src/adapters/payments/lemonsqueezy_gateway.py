"""Lemon Squeezy, over its JSON:API with httpx (there is no official Python SDK).

- Checkout: ``POST /v1/checkouts`` for the configured store and variant with a ``custom_price``
  (the price of this purchase, in the store's currency) and our purchase id in
  ``checkout_data.custom``, which Lemon Squeezy echoes in every related webhook's
  ``meta.custom_data``. The order id is the external payment id.
- Lemon Squeezy does not report its fee through the API: the snapshot's fee and net are None
  (the tax it remits as merchant of record is reported).
- Refunds: ``POST /v1/orders/{id}/refund``. The API takes no idempotency key and has no refund
  object: the gateway always sends an explicit amount (the remaining balance when asked for a
  full refund) and names a refund ``<order id>:refunded:<running total>``. A retried partial
  refund is a second refund, so callers record the refund before calling; a retried full refund
  is refused because nothing is left.
- No payouts to third parties (``supports_payouts`` is False).
- Webhooks: ``X-Signature`` = hex HMAC-SHA256 of the raw body with the signing secret, compared
  in constant time. The scheme signs no timestamp, so there is no tolerance check; a delivery has
  no event id either, so the external event id is a hash of the raw body, identical across the
  retries of one delivery: replays are caught by processing each event id once.

Events read: ``order_created`` (paid: PAYMENT_SUCCEEDED, failed: PAYMENT_FAILED),
``order_refunded`` (REFUNDED, with the running total only); anything else is IGNORED.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx

from adapters.payments._shared import (
    integer,
    load_json_object,
    obj,
    parse_iso,
    parse_iso_or_none,
    payload_reading,
    purchase_reference,
    text,
)
from application.payments.amounts import normalize_currency
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
    constant_time_equal,
    hmac_sha256_hex,
    require_header,
    require_secret,
)

SIGNATURE_HEADER = "X-Signature"
DEFAULT_API_BASE = "https://api.lemonsqueezy.com"
_LS = PaymentProcessor.LEMON_SQUEEZY
_JSON_API = "application/vnd.api+json"
_STATUS = {
    "paid": PaymentStatus.SUCCEEDED,
    "partial_refund": PaymentStatus.PARTIALLY_REFUNDED,
    "refunded": PaymentStatus.REFUNDED,
    "failed": PaymentStatus.FAILED,
    "fraudulent": PaymentStatus.FAILED,
    "pending": PaymentStatus.PENDING,
}


class LemonSqueezyPaymentGateway:
    def __init__(
        self,
        *,
        api_key: str,
        webhook_secret: str,
        store_id: str,
        variant_id: str,
        store_currency: str = "USD",
        api_base: str | None = None,
        timeout_seconds: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=(api_base or DEFAULT_API_BASE).rstrip("/"),
            headers={"Accept": _JSON_API, "Content-Type": _JSON_API, "Authorization": f"Bearer {api_key}"},
            timeout=timeout_seconds,
            transport=transport,
        )
        self._webhook_secret = webhook_secret
        self._store_id = store_id
        self._variant_id = variant_id
        self._currency = normalize_currency(store_currency)

    async def close(self) -> None:
        await self._http.aclose()

    @property
    def processor(self) -> PaymentProcessor:
        return _LS

    @property
    def supports_payouts(self) -> bool:
        return False

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        if request.currency != self._currency:
            raise PaymentProcessorRejected(
                f"This Lemon Squeezy store sells in {self._currency}, not {request.currency}."
            )
        checkout_data: dict[str, Any] = {"custom": {PURCHASE_REFERENCE_KEY: request.purchase_id}}
        if request.customer_email:
            checkout_data["email"] = request.customer_email
        body = {
            "data": {
                "type": "checkouts",
                "attributes": {
                    "custom_price": request.amount_minor,
                    "product_options": {
                        "name": request.description,
                        "redirect_url": request.success_url,
                        "enabled_variants": [_as_int(self._variant_id)],
                    },
                    "checkout_data": checkout_data,
                },
                "relationships": {
                    "store": {"data": {"type": "stores", "id": self._store_id}},
                    "variant": {"data": {"type": "variants", "id": self._variant_id}},
                },
            }
        }
        document = await self._request("POST", "/v1/checkouts", body)
        data = obj(document, "data")
        url, checkout_id = text(data, "attributes", "url"), text(data, "id")
        if not url or not checkout_id:
            raise PaymentProcessorUnavailable("Lemon Squeezy created a checkout without an id or URL.")
        return Checkout(
            processor=_LS,
            external_checkout_id=checkout_id,
            url=url,
            expires_at=parse_iso_or_none(text(data, "attributes", "expires_at")),
        )

    async def capture_checkout(self, external_checkout_id: str, *, idempotency_key: str) -> PaymentSnapshot:
        raise CaptureNotSupported("Lemon Squeezy captures the payment when the buyer pays.")

    # -- webhooks ----------------------------------------------------------------------------

    async def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, *, now: datetime
    ) -> WebhookEvent:
        secret = require_secret(self._webhook_secret, "Lemon Squeezy")
        signature = require_header(headers, SIGNATURE_HEADER)
        if not constant_time_equal(hmac_sha256_hex(secret, raw_body), signature.lower()):
            raise WebhookSignatureInvalid("The Lemon Squeezy signature does not match the body.")
        payload = load_json_object(raw_body)
        with payload_reading("Lemon Squeezy"):
            return _normalize(payload, "ls_" + hashlib.sha256(raw_body).hexdigest()[:40], now)

    # -- orders and refunds ------------------------------------------------------------------

    async def fetch_payment(self, external_payment_id: str) -> PaymentSnapshot:
        order = obj(await self._request("GET", f"/v1/orders/{external_payment_id}"), "data", "attributes")
        amount = integer(order, "total")
        currency = text(order, "currency")
        if amount is None or currency is None:
            raise PaymentProcessorUnavailable("Lemon Squeezy returned an order without total or currency.")
        return PaymentSnapshot(
            processor=_LS,
            external_payment_id=external_payment_id,
            status=_STATUS.get(text(order, "status") or "", PaymentStatus.PENDING),
            amount_minor=amount,
            currency=normalize_currency(currency),
            fee_minor=None,
            net_minor=None,
            tax_minor=integer(order, "tax"),
            refunded_minor=integer(order, "refunded_amount") or 0,
        )

    async def refund(
        self, external_payment_id: str, amount_minor: int | None, *, idempotency_key: str
    ) -> RefundResult:
        validate_refund_amount(amount_minor)
        validate_idempotency_key(idempotency_key)
        before = await self.fetch_payment(external_payment_id)
        if before.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED):
            raise PaymentProcessorRejected(f"Lemon Squeezy order {external_payment_id} is {before.status}.")
        remaining = before.amount_minor - before.refunded_minor
        amount = remaining if amount_minor is None else amount_minor
        if amount <= 0 or amount > remaining:
            raise PaymentProcessorRejected(f"Cannot refund {amount}: {remaining} is left on the order.")
        body = {"data": {"type": "orders", "id": external_payment_id, "attributes": {"amount": amount}}}
        after = obj(
            await self._request("POST", f"/v1/orders/{external_payment_id}/refund", body),
            "data",
            "attributes",
        )
        total_refunded = integer(after, "refunded_amount")
        if total_refunded is None:
            raise PaymentProcessorUnavailable("Lemon Squeezy answered a refund without refunded_amount.")
        return RefundResult(
            processor=_LS,
            external_refund_id=f"{external_payment_id}:refunded:{total_refunded}",
            external_payment_id=external_payment_id,
            amount_minor=amount,
            currency=before.currency,
            status=RefundStatus.SUCCEEDED,
        )

    async def payout(self, request: PayoutRequest) -> PayoutResult:
        raise PayoutsNotSupported("Lemon Squeezy pays only the store; configure a payout processor that can.")

    async def reverse_payout(
        self, external_payout_id: str, amount_minor: int | None, *, idempotency_key: str
    ) -> PayoutReversalResult:
        raise PayoutsNotSupported("Lemon Squeezy makes no payouts to reverse.")

    async def _request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        async with _errors():
            response = await self._http.request(method, path, json=body)
        if response.status_code >= 400:
            errors = _json(response).get("errors") or [{}]
            detail = str(errors[0].get("detail") or errors[0].get("title") or response.reason_phrase)
            extra = {"status": response.status_code}
            if response.status_code == 404:
                raise PaymentNotFound(f"Lemon Squeezy: {detail}", extra=extra)
            # 401/403 are our configuration, 429 and 5xx the processor's: retryable, not a refusal
            if response.status_code < 500 and response.status_code not in (401, 403, 429):
                raise PaymentProcessorRejected(f"Lemon Squeezy refused: {detail}", extra=extra)
            raise PaymentProcessorUnavailable(f"Lemon Squeezy failed: {detail}", extra=extra)
        return _json(response)


def _normalize(payload: dict[str, Any], event_id: str, now: datetime) -> WebhookEvent:
    kind = text(payload, "meta", "event_name")
    data = obj(payload, "data")
    order = obj(data, "attributes")
    if kind is None:
        raise WebhookPayloadInvalid("A Lemon Squeezy webhook needs meta.event_name.")
    base: dict[str, Any] = {
        "processor": _LS,
        "external_event_id": event_id,
        "processor_event_type": kind,
        "occurred_at": parse_iso(order.get("updated_at") or order.get("created_at"), now),
        "raw": payload,
    }
    if kind not in ("order_created", "order_refunded") or text(data, "type") != "orders":
        return WebhookEvent(**base, type=WebhookEventType.IGNORED)
    order_id, total, currency = text(data, "id"), integer(order, "total"), text(order, "currency")
    if order_id is None or total is None or currency is None:
        raise WebhookPayloadInvalid("A Lemon Squeezy order needs an id, a total and a currency.")
    base.update(
        purchase_reference=purchase_reference(obj(payload, "meta", "custom_data")),
        external_payment_id=order_id,
        currency=normalize_currency(currency),
        tax_minor=integer(order, "tax"),
    )
    status = text(order, "status")
    if kind == "order_created":
        outcome = {"paid": WebhookEventType.PAYMENT_SUCCEEDED, "failed": WebhookEventType.PAYMENT_FAILED}.get(
            status or ""
        )
        return WebhookEvent(**base, type=outcome or WebhookEventType.IGNORED, amount_minor=total)
    refunded = integer(order, "refunded_amount")
    if refunded is None or refunded <= 0:
        raise WebhookPayloadInvalid("An order_refunded webhook needs a positive refunded_amount.")
    return WebhookEvent(
        **base,
        type=WebhookEventType.REFUNDED,
        amount_minor=refunded,
        refund=RefundDetails(
            external_refund_id=f"{order_id}:refunded:{refunded}",
            amount_minor=None,
            refunded_total_minor=refunded,
            full=status == "refunded" or refunded >= total,
        ),
    )


def _as_int(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@asynccontextmanager
async def _errors() -> AsyncIterator[None]:
    try:
        yield
    except httpx.HTTPError as exc:
        raise PaymentProcessorUnavailable(f"Lemon Squeezy could not be reached: {exc}") from exc

"""PayPal, through the official server SDK (`paypalserversdk`, synchronous: calls run in a
thread) for orders, captures and refunds, and through httpx for the two REST APIs the SDK does
not cover (webhook signature verification and Payouts), authenticated with the SDK's own OAuth
token.

- Checkout: an order (intent CAPTURE) whose purchase unit carries our purchase id as
  ``custom_id``; the buyer approves on PayPal (the ``payer-action`` link). PayPal then waits for
  us: ``CHECKOUT.ORDER.APPROVED`` arrives as CHECKOUT_APPROVED and `capture_checkout` captures the
  order; the capture id is the external payment id, its ``seller_receivable_breakdown`` the fee.
- Amounts are decimal strings (`format_decimal`); PayPal writes HUF, JPY and TWD without
  decimals, so a HUF amount must be a whole forint.
- Every money-moving call sends the idempotency key as ``PayPal-Request-Id``.
- Payouts: the Payouts API, one item per batch, our payout id as ``sender_batch_id`` and
  ``sender_item_id``. A payout settles later (PAYOUT_PAID / PAYOUT_FAILED events); reversing one
  is cancelling its item, which PayPal allows only while it is unclaimed, and only whole.
- Webhooks: PayPal signs with a certificate; the gateway asks PayPal to check the transmission
  (``POST /v1/notifications/verify-webhook-signature`` with the ``PAYPAL-*`` headers and our
  webhook id, the "secret" here) with the raw body embedded byte for byte, after checking the
  transmission time against our clock. An empty webhook id disables the endpoint.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, NoReturn

import httpx
import requests
from apimatic_core.exceptions.auth_validation_exception import (  # type: ignore[import-untyped]
    AuthValidationException,
)
from paypalserversdk.api_helper import APIHelper
from paypalserversdk.configuration import Configuration, Environment, Server
from paypalserversdk.exceptions.api_exception import ApiException
from paypalserversdk.exceptions.error_exception import ErrorException
from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
from paypalserversdk.models.amount_with_breakdown import AmountWithBreakdown
from paypalserversdk.models.checkout_payment_intent import CheckoutPaymentIntent
from paypalserversdk.models.money import Money
from paypalserversdk.models.order_request import OrderRequest
from paypalserversdk.models.payment_source import PaymentSource
from paypalserversdk.models.paypal_wallet import PaypalWallet
from paypalserversdk.models.paypal_wallet_experience_context import PaypalWalletExperienceContext
from paypalserversdk.models.purchase_unit_request import PurchaseUnitRequest
from paypalserversdk.models.refund_request import RefundRequest
from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

from adapters.payments import paypal_events
from adapters.payments._shared import load_json_object, obj, parse_iso_or_none, text
from application.payments.amounts import format_decimal
from application.payments.errors import (
    PaymentNotFound,
    PaymentProcessorRejected,
    PaymentProcessorUnavailable,
    WebhookSignatureInvalid,
)
from application.payments.ports import (
    Checkout,
    CheckoutRequest,
    PaymentProcessor,
    PaymentSnapshot,
    PaymentStatus,
    PayoutRequest,
    PayoutResult,
    PayoutReversalResult,
    PayoutStatus,
    RefundResult,
    RefundStatus,
    WebhookEvent,
    validate_idempotency_key,
    validate_refund_amount,
)
from application.payments.signing import (
    DEFAULT_WEBHOOK_TOLERANCE,
    check_timestamp,
    header_value,
    require_header,
    require_secret,
)

SIGNATURE_HEADER = "PAYPAL-TRANSMISSION-SIG"
_TRANSMISSION_HEADERS = (
    "PAYPAL-TRANSMISSION-ID",
    "PAYPAL-TRANSMISSION-TIME",
    "PAYPAL-CERT-URL",
    "PAYPAL-AUTH-ALGO",
)
_PAYPAL = PaymentProcessor.PAYPAL
_DECIMALS = {"HUF": 0, "JPY": 0, "TWD": 0}
_REFUND_STATUS = {
    "COMPLETED": RefundStatus.SUCCEEDED,
    "PENDING": RefundStatus.PENDING,
    "CANCELLED": RefundStatus.FAILED,
    "FAILED": RefundStatus.FAILED,
}


class PayPalPaymentGateway:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        webhook_id: str,
        api_base: str | None = None,
        live: bool = False,
        brand_name: str = "Canon",
        tolerance: timedelta = DEFAULT_WEBHOOK_TOLERANCE,
        timeout_seconds: float = 30.0,
    ) -> None:
        self._tokens: list[Any] = []
        credentials = ClientCredentialsAuthCredentials(
            o_auth_client_id=client_id,
            o_auth_client_secret=client_secret,
            o_auth_on_token_update=self._remember_token,
        )
        config = Configuration(
            environment=Environment.PRODUCTION if live else Environment.SANDBOX,
            client_credentials_auth_credentials=credentials,
            timeout=timeout_seconds,
        )
        if api_base:
            # the SDK resolves its base URL from this table; pointing every environment at one
            # address is how a deployment (or a test double) redirects it
            config.environments = {env: {Server.DEFAULT: api_base.rstrip("/")} for env in Environment}
        self._sdk = PaypalServersdkClient(config=config)
        self._base = config.get_base_uri()
        self._http = httpx.AsyncClient(base_url=self._base, timeout=timeout_seconds)
        self._webhook_id = webhook_id
        self._brand = brand_name
        self._tolerance = tolerance

    async def close(self) -> None:
        await self._http.aclose()

    @property
    def processor(self) -> PaymentProcessor:
        return _PAYPAL

    @property
    def supports_payouts(self) -> bool:
        return True

    # -- checkout and capture ----------------------------------------------------------------

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        unit = PurchaseUnitRequest(
            amount=AmountWithBreakdown(
                currency_code=request.currency, value=_decimal(request.amount_minor, request.currency)
            ),
            reference_id=request.purchase_id[:256],
            custom_id=request.purchase_id[:127],
            description=request.description[:127],
        )
        context = PaypalWalletExperienceContext(
            brand_name=self._brand,
            return_url=request.success_url,
            cancel_url=request.cancel_url,
            user_action="PAY_NOW",
            shipping_preference="NO_SHIPPING",
        )
        wallet = PaypalWallet(experience_context=context)
        if request.customer_email:
            wallet.email_address = request.customer_email
        body = OrderRequest(
            intent=CheckoutPaymentIntent.CAPTURE,
            purchase_units=[unit],
            payment_source=PaymentSource(paypal=wallet),
        )
        options: dict[str, Any] = {"body": body, "prefer": "return=representation"}
        if request.idempotency_key:
            options["paypal_request_id"] = request.idempotency_key
        order = await self._sdk_call(self._sdk.orders.create_order, options)
        links = {link.get("rel"): link.get("href") for link in order.get("links") or []}
        url = links.get("payer-action") or links.get("approve")
        if not url or not order.get("id"):
            raise PaymentProcessorUnavailable("PayPal created an order without an approval link.")
        return Checkout(processor=_PAYPAL, external_checkout_id=order["id"], url=url)

    async def capture_checkout(self, external_checkout_id: str, *, idempotency_key: str) -> PaymentSnapshot:
        validate_idempotency_key(idempotency_key)
        order = await self._sdk_call(
            self._sdk.orders.capture_order,
            {
                "id": external_checkout_id,
                "paypal_request_id": idempotency_key,
                "prefer": "return=representation",
            },
        )
        for unit in order.get("purchase_units") or []:
            for capture in obj(unit, "payments").get("captures") or []:
                return paypal_events.capture_snapshot(capture)
        raise PaymentProcessorUnavailable(f"PayPal captured order {external_checkout_id} without a capture.")

    # -- webhooks ----------------------------------------------------------------------------

    async def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, *, now: datetime
    ) -> WebhookEvent:
        webhook_id = require_secret(self._webhook_id, "PayPal")
        signature = require_header(headers, SIGNATURE_HEADER)
        transmission = {name: header_value(headers, name) for name in _TRANSMISSION_HEADERS}
        if any(value is None for value in transmission.values()):
            raise WebhookSignatureInvalid("The PayPal transmission headers are incomplete.")
        sent_at = parse_iso_or_none(transmission["PAYPAL-TRANSMISSION-TIME"])
        if sent_at is None:
            raise WebhookSignatureInvalid("The PayPal transmission time cannot be read.")
        check_timestamp(sent_at, now, self._tolerance)
        try:
            json.loads(raw_body)
        except ValueError as exc:
            raise WebhookSignatureInvalid("The body is not JSON, so PayPal cannot have signed it.") from exc
        fields = {
            "auth_algo": transmission["PAYPAL-AUTH-ALGO"],
            "cert_url": transmission["PAYPAL-CERT-URL"],
            "transmission_id": transmission["PAYPAL-TRANSMISSION-ID"],
            "transmission_sig": signature,
            "transmission_time": transmission["PAYPAL-TRANSMISSION-TIME"],
            "webhook_id": webhook_id,
        }
        # PayPal checks a CRC32 of the event as it was sent: embed the raw body byte for byte
        # instead of re-serializing the parsed event
        document = json.dumps(fields)[:-1].encode() + b',"webhook_event":' + raw_body + b"}"
        answer = await self._rest("POST", "/v1/notifications/verify-webhook-signature", content=document)
        if answer.get("verification_status") != "SUCCESS":
            raise WebhookSignatureInvalid("PayPal did not confirm the webhook signature.")
        return await paypal_events.normalize(load_json_object(raw_body), now, self._capture)

    # -- payments and refunds ----------------------------------------------------------------

    async def _capture(self, capture_id: str) -> dict[str, Any]:
        return await self._sdk_call(self._sdk.payments.get_captured_payment, {"capture_id": capture_id})

    async def fetch_payment(self, external_payment_id: str) -> PaymentSnapshot:
        capture = await self._capture(external_payment_id)
        snapshot = paypal_events.capture_snapshot(capture)
        order_id = text(capture, "supplementary_data", "related_ids", "order_id")
        if snapshot.status == PaymentStatus.PARTIALLY_REFUNDED and order_id:
            order = await self._sdk_call(self._sdk.orders.get_order, {"id": order_id})
            refunded = paypal_events.refunded_on_order(order, external_payment_id)
            snapshot = paypal_events.capture_snapshot(capture, refunded_minor=refunded)
        return snapshot

    async def refund(
        self, external_payment_id: str, amount_minor: int | None, *, idempotency_key: str
    ) -> RefundResult:
        validate_refund_amount(amount_minor)
        validate_idempotency_key(idempotency_key)
        options: dict[str, Any] = {
            "capture_id": external_payment_id,
            "paypal_request_id": idempotency_key,
            "prefer": "return=representation",
        }
        if amount_minor is not None:
            currency = (await self.fetch_payment(external_payment_id)).currency
            options["body"] = RefundRequest(
                amount=Money(currency_code=currency, value=_decimal(amount_minor, currency))
            )
        refund = await self._sdk_call(self._sdk.payments.refund_captured_payment, options)
        amount = paypal_events.money(refund.get("amount"))
        if amount is None or not refund.get("id"):
            raise PaymentProcessorUnavailable("PayPal answered a refund without an id or amount.")
        return RefundResult(
            processor=_PAYPAL,
            external_refund_id=refund["id"],
            external_payment_id=external_payment_id,
            amount_minor=amount[0],
            currency=amount[1],
            status=_REFUND_STATUS.get(str(refund.get("status")), RefundStatus.PENDING),
        )

    # -- payouts -----------------------------------------------------------------------------

    async def payout(self, request: PayoutRequest) -> PayoutResult:
        recipient = "EMAIL" if "@" in request.destination_account else "PAYPAL_ID"
        item: dict[str, Any] = {
            "recipient_type": recipient,
            "receiver": request.destination_account,
            "amount": {
                "value": _decimal(request.amount_minor, request.currency),
                "currency": request.currency,
            },
            "sender_item_id": request.payout_id,
        }
        if request.description:
            item["note"] = request.description
        body = {
            "sender_batch_header": {
                "sender_batch_id": request.payout_id,
                "recipient_type": recipient,
                "email_subject": f"You have a payout from {self._brand}",
            },
            "items": [item],
        }
        answer = await self._rest(
            "POST", "/v1/payments/payouts", json_body=body, request_id=request.idempotency_key
        )
        batch_id = text(answer, "batch_header", "payout_batch_id")
        if batch_id is None:
            raise PaymentProcessorUnavailable("PayPal answered a payout without a batch id.")
        status = text(answer, "batch_header", "batch_status")
        return PayoutResult(
            processor=_PAYPAL,
            payout_id=request.payout_id,
            external_payout_id=batch_id,
            amount_minor=request.amount_minor,
            currency=request.currency,
            status=PayoutStatus.FAILED if status in ("DENIED", "CANCELED") else PayoutStatus.PENDING,
        )

    async def reverse_payout(
        self, external_payout_id: str, amount_minor: int | None, *, idempotency_key: str
    ) -> PayoutReversalResult:
        validate_refund_amount(amount_minor)
        validate_idempotency_key(idempotency_key)
        batch = await self._rest("GET", f"/v1/payments/payouts/{external_payout_id}")
        items = batch.get("items") or []
        if len(items) != 1:
            raise PaymentProcessorRejected(
                f"PayPal payout {external_payout_id} does not hold exactly one item."
            )
        item = items[0]
        amount = paypal_events.money(obj(item, "payout_item").get("amount"), currency_key="currency")
        item_id = text(item, "payout_item_id")
        if amount is None or item_id is None:
            raise PaymentProcessorUnavailable("PayPal answered a payout item without id or amount.")
        if amount_minor is not None and amount_minor != amount[0]:
            raise PaymentProcessorRejected("PayPal can only cancel a whole payout item.")
        if text(item, "transaction_status") != "UNCLAIMED":
            raise PaymentProcessorRejected("PayPal cancels only payouts the receiver has not claimed yet.")
        await self._rest("POST", f"/v1/payments/payouts-item/{item_id}/cancel", request_id=idempotency_key)
        return PayoutReversalResult(
            processor=_PAYPAL,
            external_payout_id=external_payout_id,
            external_reversal_id=f"{item_id}:cancel",
            amount_minor=amount[0],
            currency=amount[1],
        )

    # -- transport ---------------------------------------------------------------------------

    def _remember_token(self, token: Any) -> None:
        self._tokens[:] = [token]

    def _access_token(self) -> str:
        # the SDK fetches (or reuses) the token and reports it through the update callback
        if not self._sdk.oauth_2.is_valid() or not self._tokens:
            raise PaymentProcessorUnavailable("PayPal did not grant an access token.")
        return str(self._tokens[0].access_token)

    async def _rest(
        self,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        async with _transport_errors():
            token = await asyncio.to_thread(self._access_token)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if request_id:
            headers["PayPal-Request-Id"] = request_id
        if json_body is not None:
            content = json.dumps(json_body).encode()
        async with _transport_errors():
            response = await self._http.request(method, path, content=content, headers=headers)
        try:
            answer = response.json() if response.content else {}
        except ValueError:
            answer = {}
        if response.status_code >= 400:
            _raise_for(response.status_code, answer if isinstance(answer, dict) else {})
        return answer if isinstance(answer, dict) else {}

    async def _sdk_call(
        self, function: Callable[[dict[str, Any]], Any], options: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            response = await asyncio.to_thread(function, options)
        except ErrorException as exc:
            detail = {
                "name": exc.name,
                "message": exc.message,
                "details": [{"issue": d.issue} for d in exc.details or []],
            }
            _raise_for(exc.response_code, detail)
        except ApiException as exc:
            raise PaymentProcessorUnavailable(f"PayPal failed ({exc.response_code}).") from exc
        except AuthValidationException as exc:
            raise PaymentProcessorUnavailable("PayPal did not grant an access token.") from exc
        except requests.RequestException as exc:
            raise PaymentProcessorUnavailable(f"PayPal could not be reached: {exc}") from exc
        body = APIHelper.to_dictionary(response.body)
        return body if isinstance(body, dict) else {}


def _decimal(amount_minor: int, currency: str) -> str:
    return format_decimal(amount_minor, currency, decimals=_DECIMALS.get(currency))


def _raise_for(status: int, body: Mapping[str, Any]) -> NoReturn:
    issues = [str(d.get("issue")) for d in body.get("details") or [] if isinstance(d, Mapping)]
    message = str(body.get("message") or body.get("name") or status)
    extra: dict[str, object] = {"status": status, "processor_code": issues[0] if issues else body.get("name")}
    if status == 404:
        raise PaymentNotFound(f"PayPal: {message}", extra=extra)
    # 401/403 are our configuration, 429 and 5xx PayPal's: retryable, not a refusal
    if 400 <= status < 500 and status not in (401, 403, 429):
        raise PaymentProcessorRejected(f"PayPal refused: {message} {issues}".strip(), extra=extra)
    raise PaymentProcessorUnavailable(f"PayPal failed: {message}", extra=extra)


@asynccontextmanager
async def _transport_errors() -> AsyncIterator[None]:
    try:
        yield
    except httpx.HTTPError as exc:
        raise PaymentProcessorUnavailable(f"PayPal could not be reached: {exc}") from exc
    except requests.RequestException as exc:
        raise PaymentProcessorUnavailable(f"PayPal could not be reached: {exc}") from exc
    except ErrorException as exc:
        raise PaymentProcessorUnavailable(f"PayPal refused the credentials: {exc.message}") from exc

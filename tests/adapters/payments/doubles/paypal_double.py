"""A local double of the PayPal REST endpoints the PayPal gateway calls.

No vendor fixtures are published for PayPal, so its objects follow the shapes of PayPal's API
reference (orders v2, payments v2, Payouts v1, webhook notifications). Wire format: OAuth client
credentials (``POST /v1/oauth2/token`` with Basic auth, then ``Authorization: Bearer``), JSON
bodies, ``PayPal-Request-Id`` honoured (same id + same request replays the first answer; same id
+ another request is ``PAYPAL_REQUEST_ID_PREVIOUSLY_USED``), errors as
``{"name", "message", "debug_id", "details": [{"issue", "description"}]}``.

Webhook signatures work as PayPal's do: the double holds an RSA key, signs
``"{transmission id}|{transmission time}|{webhook id}|{CRC32 of the body}"`` with SHA256withRSA
(`sign_delivery`), and ``POST /v1/notifications/verify-webhook-signature`` checks it, computing
the CRC32 over the ``webhook_event`` bytes exactly as the caller sent them.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import uuid
import zlib
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from payment_testkit.doubles.http_double import DoubleError, HttpDouble, RecordedRequest, Reply

STAMP = "2026-03-02T11:58:00Z"
UNCLAIMED_DOMAIN = "@unclaimed.example"
CLIENT_ID, CLIENT_SECRET = "canon-paypal-client", "canon-paypal-secret"
NO_DECIMALS = {"HUF", "JPY", "TWD"}


def _places(currency: str) -> int:
    return 0 if currency in NO_DECIMALS else 2


def paypal_fee(amount: int, currency: str = "USD") -> int:
    """PayPal's standard US rate: 3.49% + 0.49 (no fixed part where PayPal writes no decimals)."""
    fixed = 49 if _places(currency) == 2 else 0
    return int((Decimal(amount) * Decimal("0.0349")).to_integral_value(rounding=ROUND_HALF_UP)) + fixed


def cents(value: str, currency: str = "USD") -> int:
    """A PayPal decimal string in minor units (two decimals, none for HUF, JPY, TWD)."""
    return int(Decimal(value).scaleb(_places(currency)).to_integral_value())


def decimal(amount: int, currency: str = "USD") -> str:
    places = _places(currency)
    return f"{Decimal(amount).scaleb(-places):.{places}f}"


def _error(status: int, name: str, issue: str, message: str = "") -> DoubleError:
    return DoubleError(
        status,
        {
            "name": name,
            "message": message or "The requested action could not be performed.",
            "debug_id": uuid.uuid4().hex[:13],
            "details": [{"issue": issue, "description": message or issue}],
        },
    )


def _id() -> str:
    return uuid.uuid4().hex[:17].upper()


_SIGNING_KEYS: list[rsa.RSAPrivateKey] = []


def _signing_key() -> rsa.RSAPrivateKey:
    # one key per test session: generating 2048-bit keys per test would dominate the run time
    if not _SIGNING_KEYS:
        _SIGNING_KEYS.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _SIGNING_KEYS[0]


class PayPalDouble(HttpDouble):
    def __init__(self) -> None:
        super().__init__()
        self._key = _signing_key()
        self._token = f"A21AA{uuid.uuid4().hex}"
        self.orders: dict[str, dict[str, Any]] = {}
        self.captures: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self._request_ids: dict[str, tuple[str, Reply]] = {}
        self.route("POST", "/v1/oauth2/token", self._token_grant)
        self.route("POST", "/v2/checkout/orders", self._create_order)
        self.route("GET", "/v2/checkout/orders/(?P<id>[^/]+)", self._get_order)
        self.route("POST", "/v2/checkout/orders/(?P<id>[^/]+)/capture", self._capture_order)
        self.route("GET", "/v2/payments/captures/(?P<id>[^/]+)", self._get_capture)
        self.route("POST", "/v2/payments/captures/(?P<id>[^/]+)/refund", self._refund_capture)
        self.route("POST", "/v1/notifications/verify-webhook-signature", self._verify_signature)
        self.route("POST", "/v1/payments/payouts", self._create_payout)
        self.route("GET", "/v1/payments/payouts/(?P<id>[^/]+)", self._get_payout)
        self.route("POST", "/v1/payments/payouts-item/(?P<id>[^/]+)/cancel", self._cancel_item)

    @property
    def cert_url(self) -> str:
        return f"{self.base_url}/v1/notifications/certs/CERT-canon-double"

    def dispatch(self, request: RecordedRequest) -> Reply:
        if request.path != "/v1/oauth2/token" and request.header("authorization") != f"Bearer {self._token}":
            with self.lock:
                self.requests.append(request)
            return Reply(
                401, {"error": "invalid_token", "error_description": "Token signature verification failed"}
            )
        request_id = request.header("paypal-request-id") if request.method == "POST" else None
        if request_id is None:
            return super().dispatch(request)
        fingerprint = hashlib.sha256(request.path.encode() + b"\n" + request.body).hexdigest()
        with self.lock:
            seen = self._request_ids.get(request_id)
            if seen is not None:
                self.requests.append(request)
                if seen[0] != fingerprint:
                    error = _error(422, "UNPROCESSABLE_ENTITY", "PAYPAL_REQUEST_ID_PREVIOUSLY_USED")
                    return Reply(error.status, error.body)
                return Reply(seen[1].status, seen[1].body)
            reply = super().dispatch(request)
            if reply.status < 500:
                self._request_ids[request_id] = (fingerprint, reply)
            return reply

    # -- PayPal's side of a webhook delivery -------------------------------------------------

    def sign_delivery(self, body: bytes, *, webhook_id: str, at: datetime) -> dict[str, str]:
        transmission_id = str(uuid.uuid4())
        sent_at = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        message = f"{transmission_id}|{sent_at}|{webhook_id}|{zlib.crc32(body)}".encode()
        signature = self._key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return {
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": sent_at,
            "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
            "PAYPAL-CERT-URL": self.cert_url,
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
            "Content-Type": "application/json",
        }

    def _verify_signature(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        marker = b',"webhook_event":'
        head, found, tail = request.body.partition(marker)
        if not found or not tail.endswith(b"}"):
            raise _error(400, "VALIDATION_ERROR", "MISSING_REQUIRED_PARAMETER", "webhook_event is required")
        event_bytes = tail[:-1]
        fields = json.loads(head + b"}")
        message = "|".join(
            [
                fields["transmission_id"],
                fields["transmission_time"],
                fields["webhook_id"],
                str(zlib.crc32(event_bytes)),
            ]
        ).encode()
        status = "FAILURE"
        if fields.get("auth_algo") == "SHA256withRSA" and fields.get("cert_url") == self.cert_url:
            try:
                signature = base64.b64decode(fields["transmission_sig"], validate=True)
                self._key.public_key().verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
                status = "SUCCESS"
            except (InvalidSignature, ValueError):
                status = "FAILURE"
        return Reply(200, {"verification_status": status})

    # -- the buyer and PayPal's back office --------------------------------------------------

    def approve(self, order_id: str) -> None:
        with self.lock:
            self.orders[order_id]["status"] = "APPROVED"

    def set_refunded(self, capture_id: str, amount: int) -> None:
        with self.lock:
            capture = self.captures[capture_id]
            full = amount >= cents(capture["amount"]["value"], capture["amount"]["currency_code"])
            capture["status"] = "REFUNDED" if full else "PARTIALLY_REFUNDED"

    # -- endpoints ---------------------------------------------------------------------------

    def _token_grant(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if (
            request.header("authorization") != expected
            or b"grant_type=client_credentials" not in request.body
        ):
            return Reply(
                401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
            )
        return Reply(
            200,
            {
                "scope": "https://uri.paypal.com/services/payments/payment",
                "access_token": self._token,
                "token_type": "Bearer",
                "app_id": "APP-80W284485P519543T",
                "expires_in": 32400,
                "nonce": "double",
            },
        )

    def _create_order(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        body = request.json()
        try:
            (unit,) = body["purchase_units"]
            amount = unit["amount"]
            cents(amount["value"], amount["currency_code"])
            context = body["payment_source"]["paypal"]["experience_context"]
        except (KeyError, ValueError, TypeError) as exc:
            raise _error(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", str(exc)) from exc
        pattern = r"\d+" if _places(amount["currency_code"]) == 0 else r"\d+\.\d\d"
        if body.get("intent") != "CAPTURE" or not re.fullmatch(pattern, amount["value"]):
            raise _error(
                422, "UNPROCESSABLE_ENTITY", "DECIMAL_PRECISION", "intent CAPTURE and 2 decimals here"
            )
        order_id = _id()
        order = {
            "id": order_id,
            "intent": "CAPTURE",
            "status": "PAYER_ACTION_REQUIRED",
            "payment_source": {"paypal": {}},
            "purchase_units": [
                {
                    "reference_id": unit.get("reference_id", "default"),
                    "amount": amount,
                    "payee": {"email_address": "merchant@canon.example", "merchant_id": "CANONMERCHANT"},
                    "description": unit.get("description"),
                    "custom_id": unit.get("custom_id"),
                }
            ],
            "create_time": STAMP,
            "links": [
                {"href": f"{self.base_url}/v2/checkout/orders/{order_id}", "rel": "self", "method": "GET"},
                {
                    "href": f"https://www.sandbox.paypal.com/checkoutnow?token={order_id}",
                    "rel": "payer-action",
                    "method": "GET",
                },
            ],
            "_return_url": context.get("return_url"),
        }
        self.orders[order_id] = order
        return Reply(200, self._public(order))

    def _public(self, value: dict[str, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in value.items() if not k.startswith("_")}

    def _get_order(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        order = self.orders.get(match["id"])
        if order is None:
            raise _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        return Reply(200, self._public(order))

    def _capture_order(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        order = self.orders.get(match["id"])
        if order is None:
            raise _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        if order["status"] == "COMPLETED":
            raise _error(422, "UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED")
        if order["status"] != "APPROVED":
            raise _error(
                422, "UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED", "Payer has not yet approved the Order"
            )
        unit = order["purchase_units"][0]
        currency = unit["amount"]["currency_code"]
        amount = cents(unit["amount"]["value"], currency)
        fee = paypal_fee(amount, currency)
        capture_id = _id()
        capture = {
            "id": capture_id,
            "status": "COMPLETED",
            "amount": {"currency_code": currency, "value": decimal(amount, currency)},
            "final_capture": True,
            "seller_protection": {"status": "ELIGIBLE", "dispute_categories": ["ITEM_NOT_RECEIVED"]},
            "seller_receivable_breakdown": {
                "gross_amount": {"currency_code": currency, "value": decimal(amount, currency)},
                "paypal_fee": {"currency_code": currency, "value": decimal(fee, currency)},
                "net_amount": {"currency_code": currency, "value": decimal(amount - fee, currency)},
            },
            "custom_id": unit.get("custom_id"),
            "links": [
                {
                    "href": f"{self.base_url}/v2/payments/captures/{capture_id}",
                    "rel": "self",
                    "method": "GET",
                },
                {
                    "href": f"{self.base_url}/v2/payments/captures/{capture_id}/refund",
                    "rel": "refund",
                    "method": "POST",
                },
                {"href": f"{self.base_url}/v2/checkout/orders/{order['id']}", "rel": "up", "method": "GET"},
            ],
            "create_time": STAMP,
            "update_time": STAMP,
        }
        self.captures[capture_id] = dict(capture, _order=order["id"])
        unit["payments"] = {"captures": [capture], "refunds": []}
        order["status"] = "COMPLETED"
        return Reply(201, self._public(order))

    def _capture_view(self, capture_id: str) -> dict[str, Any]:
        capture = self.captures.get(capture_id)
        if capture is None:
            raise _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        view = self._public(capture)
        view["supplementary_data"] = {"related_ids": {"order_id": capture["_order"]}}
        return view

    def _get_capture(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        return Reply(200, self._capture_view(match["id"]))

    def _refund_capture(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        capture = self.captures.get(match["id"])
        if capture is None:
            raise _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        order = self.orders[capture["_order"]]
        refunds = order["purchase_units"][0]["payments"]["refunds"]
        currency = capture["amount"]["currency_code"]
        total = cents(capture["amount"]["value"], currency)
        already = sum(cents(r["amount"]["value"], currency) for r in refunds if r["status"] == "COMPLETED")
        if already >= total:
            raise _error(422, "UNPROCESSABLE_ENTITY", "CAPTURE_FULLY_REFUNDED")
        body = request.json() if request.body else {}
        requested = (body or {}).get("amount")
        amount = cents(requested["value"], currency) if requested else total - already
        if amount <= 0 or already + amount > total:
            raise _error(422, "UNPROCESSABLE_ENTITY", "REFUND_AMOUNT_EXCEEDED")
        refund = {
            "id": _id(),
            "status": "COMPLETED",
            "amount": {"currency_code": currency, "value": decimal(amount, currency)},
            "seller_payable_breakdown": {
                "gross_amount": {"currency_code": currency, "value": decimal(amount, currency)},
                "net_amount": {"currency_code": currency, "value": decimal(amount, currency)},
                "total_refunded_amount": {
                    "currency_code": currency,
                    "value": decimal(already + amount, currency),
                },
            },
            "links": [
                {
                    "href": f"{self.base_url}/v2/payments/captures/{capture['id']}",
                    "rel": "up",
                    "method": "GET",
                },
            ],
            "create_time": STAMP,
            "update_time": STAMP,
        }
        refunds.append(refund)
        capture["status"] = "REFUNDED" if already + amount == total else "PARTIALLY_REFUNDED"
        order["purchase_units"][0]["payments"]["captures"][0]["status"] = capture["status"]
        return Reply(201, refund)

    def _create_payout(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        body = request.json()
        header = body.get("sender_batch_header") or {}
        batch_key = header.get("sender_batch_id")
        if not batch_key or len(body.get("items") or []) == 0:
            raise _error(400, "VALIDATION_ERROR", "REQUIRED_FIELD_MISSING")
        if any(
            b["batch_header"]["sender_batch_header"]["sender_batch_id"] == batch_key
            for b in self.batches.values()
        ):
            raise _error(
                400,
                "USER_BUSINESS_ERROR",
                "DUPLICATE_SENDER_BATCH_ID",
                "Batch with given sender_batch_id already exists",
            )
        batch_id = _id()
        items = []
        for item in body["items"]:
            cents(item["amount"]["value"], item["amount"]["currency"])
            unclaimed = str(item["receiver"]).endswith(UNCLAIMED_DOMAIN)
            items.append(
                {
                    "payout_item_id": _id(),
                    "transaction_id": None if unclaimed else _id(),
                    "transaction_status": "UNCLAIMED" if unclaimed else "SUCCESS",
                    "payout_batch_id": batch_id,
                    "payout_item": {
                        k: item[k] for k in ("recipient_type", "amount", "receiver", "sender_item_id")
                    },
                    "time_processed": STAMP,
                }
            )
        self.batches[batch_id] = {
            "batch_header": {
                "payout_batch_id": batch_id,
                "batch_status": "PENDING",
                "sender_batch_header": header,
            },
            "items": items,
        }
        links = [{"href": f"{self.base_url}/v1/payments/payouts/{batch_id}", "rel": "self", "method": "GET"}]
        return Reply(
            201, {"batch_header": copy.deepcopy(self.batches[batch_id]["batch_header"]), "links": links}
        )

    def _get_payout(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        batch = self.batches.get(match["id"])
        if batch is None:
            raise _error(404, "INVALID_RESOURCE_ID", "INVALID_RESOURCE_ID")
        return Reply(200, copy.deepcopy(batch))

    def _cancel_item(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        for batch in self.batches.values():
            for item in batch["items"]:
                if item["payout_item_id"] == match["id"]:
                    if item["transaction_status"] != "UNCLAIMED":
                        raise _error(400, "ITEM_CANCELLATION_FAILED", "ITEM_CANCELLATION_FAILED")
                    item["transaction_status"] = "RETURNED"
                    return Reply(200, copy.deepcopy(item))
        raise _error(404, "INVALID_RESOURCE_ID", "INVALID_RESOURCE_ID")

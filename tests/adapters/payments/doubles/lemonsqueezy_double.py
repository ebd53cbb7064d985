"""A local double of the Lemon Squeezy API endpoints the Lemon Squeezy gateway calls.

No vendor fixtures are published for Lemon Squeezy, so its objects follow the shapes of its API
reference (checkout and order objects, JSON:API documents with ``application/vnd.api+json``,
``Authorization: Bearer <key>``, errors as ``{"errors": [{"status", "title", "detail"}]}``).

Endpoints: ``POST /v1/checkouts``, ``GET /v1/orders/{id}``, ``POST /v1/orders/{id}/refund``.
`pay` plays the buyer: the checkout becomes a paid order; the store prices tax-inclusive with a
20% VAT, so the order total is the custom price.
"""

from __future__ import annotations

import re
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from payment_testkit.doubles.http_double import DoubleError, HttpDouble, RecordedRequest, Reply

STAMP = "2026-03-02T11:58:00.000000Z"
STORE_SLUG = "canon-test"


def included_tax(total: int) -> int:
    return total - int((Decimal(total) / Decimal("1.2")).to_integral_value(rounding=ROUND_HALF_UP))


def _error(status: int, title: str, detail: str) -> DoubleError:
    return DoubleError(
        status,
        {
            "jsonapi": {"version": "1.0"},
            "errors": [{"status": str(status), "title": title, "detail": detail}],
        },
    )


def order_document(order_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "orders",
        "id": order_id,
        "attributes": attributes,
        "relationships": {
            "store": {"links": {"related": f"https://api.lemonsqueezy.com/v1/orders/{order_id}/store"}}
        },
        "links": {"self": f"https://api.lemonsqueezy.com/v1/orders/{order_id}"},
    }


def order_attributes(
    *, store_id: int, total: int, currency: str, email: str | None, status: str = "paid"
) -> dict[str, Any]:
    tax = included_tax(total)
    return {
        "store_id": store_id,
        "customer_id": 1,
        "identifier": str(uuid.uuid4()),
        "order_number": 1,
        "user_name": "Reader",
        "user_email": email or "reader@example.com",
        "currency": currency,
        "currency_rate": "1.00000000",
        "subtotal": total - tax,
        "setup_fee": 0,
        "discount_total": 0,
        "tax": tax,
        "total": total,
        "refunded_amount": 0,
        "subtotal_usd": total - tax,
        "setup_fee_usd": 0,
        "discount_total_usd": 0,
        "tax_usd": tax,
        "total_usd": total,
        "refunded_amount_usd": 0,
        "tax_name": "VAT",
        "tax_rate": "20.00",
        "tax_inclusive": True,
        "status": status,
        "status_formatted": status.replace("_", " ").title(),
        "refunded": False,
        "refunded_at": None,
        "first_order_item": {
            "id": 1,
            "order_id": 1,
            "product_name": "Canon",
            "variant_name": "Default",
            "price": total,
        },
        "urls": {"receipt": "https://app.lemonsqueezy.com/my-orders/receipt"},
        "created_at": STAMP,
        "updated_at": STAMP,
        "test_mode": True,
    }


class LemonSqueezyDouble(HttpDouble):
    def __init__(
        self, api_key: str = "ls_test_canon", store_id: str = "4242", variant_id: str = "777"
    ) -> None:
        super().__init__()
        self.api_key, self.store_id, self.variant_id = api_key, store_id, variant_id
        self.checkouts: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self._next_order = 1000
        self.route("POST", "/v1/checkouts", self._create_checkout)
        self.route("GET", "/v1/orders/(?P<id>[^/]+)", self._get_order)
        self.route("POST", "/v1/orders/(?P<id>[^/]+)/refund", self._refund)

    def dispatch(self, request: RecordedRequest) -> Reply:
        if request.header("authorization") != f"Bearer {self.api_key}":
            with self.lock:
                self.requests.append(request)
            return Reply(
                401, {"errors": [{"status": "401", "title": "Unauthorized", "detail": "Unauthenticated."}]}
            )
        if request.method == "POST" and request.header("content-type") != "application/vnd.api+json":
            with self.lock:
                self.requests.append(request)
            return Reply(
                415, {"errors": [{"status": "415", "title": "Unsupported Media Type", "detail": "JSON:API"}]}
            )
        return super().dispatch(request)

    def pay(self, checkout_id: str) -> str:
        with self.lock:
            checkout = self.checkouts[checkout_id]
            attributes = checkout["attributes"]
            self._next_order += 1
            order_id = str(self._next_order)
            self.orders[order_id] = order_attributes(
                store_id=int(self.store_id),
                total=attributes["custom_price"],
                currency="USD",
                email=attributes["checkout_data"].get("email"),
            )
            self.orders[order_id]["_custom"] = attributes["checkout_data"].get("custom", {})
            return order_id

    def _create_checkout(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        data = (request.json() or {}).get("data") or {}
        relationships = data.get("relationships") or {}
        store = ((relationships.get("store") or {}).get("data") or {}).get("id")
        variant = ((relationships.get("variant") or {}).get("data") or {}).get("id")
        if data.get("type") != "checkouts" or store != self.store_id or variant != self.variant_id:
            raise _error(422, "Unprocessable Entity", "store and variant relationships are required")
        attributes = data.get("attributes") or {}
        price = attributes.get("custom_price")
        if not isinstance(price, int) or price <= 0:
            raise _error(422, "Unprocessable Entity", "custom_price must be a positive integer")
        checkout_id = str(uuid.uuid4())
        stored = {
            "store_id": int(self.store_id),
            "variant_id": int(self.variant_id),
            "custom_price": price,
            "product_options": attributes.get("product_options") or {},
            "checkout_options": attributes.get("checkout_options") or {},
            "checkout_data": attributes.get("checkout_data") or {},
            "preview": False,
            "expires_at": None,
            "created_at": STAMP,
            "updated_at": STAMP,
            "test_mode": True,
            "url": f"https://{STORE_SLUG}.lemonsqueezy.com/checkout/custom/{checkout_id}?signature=double",
        }
        document = {
            "type": "checkouts",
            "id": checkout_id,
            "attributes": stored,
            "links": {"self": f"https://api.lemonsqueezy.com/v1/checkouts/{checkout_id}"},
        }
        self.checkouts[checkout_id] = document
        return Reply(
            201,
            {"jsonapi": {"version": "1.0"}, "data": document},
            {"Content-Type": "application/vnd.api+json"},
        )

    def _order(self, order_id: str) -> dict[str, Any]:
        order = self.orders.get(order_id)
        if order is None:
            raise _error(404, "Not Found", f"No order {order_id}.")
        return order

    def _get_order(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        order = self._order(match["id"])
        public = {k: v for k, v in order.items() if not k.startswith("_")}
        return Reply(200, {"jsonapi": {"version": "1.0"}, "data": order_document(match["id"], public)})

    def _refund(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        order = self._order(match["id"])
        data = (request.json() or {}).get("data") or {}
        if data.get("type") != "orders" or data.get("id") != match["id"]:
            raise _error(422, "Unprocessable Entity", "data.type must be orders and data.id the order")
        remaining = order["total"] - order["refunded_amount"]
        amount = (data.get("attributes") or {}).get("amount", remaining)
        if order["status"] not in ("paid", "partial_refund") or not 0 < amount <= remaining:
            raise _error(422, "Unprocessable Entity", f"Cannot refund {amount}; {remaining} remains.")
        order["refunded_amount"] += amount
        order["refunded_amount_usd"] = order["refunded_amount"]
        full = order["refunded_amount"] == order["total"]
        order.update(
            status="refunded" if full else "partial_refund",
            refunded=full,
            refunded_at=STAMP if full else None,
        )
        order["status_formatted"] = "Refunded" if full else "Partial Refund"
        public = {k: v for k, v in order.items() if not k.startswith("_")}
        return Reply(200, {"jsonapi": {"version": "1.0"}, "data": order_document(match["id"], public)})

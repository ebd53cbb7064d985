"""A local double of the Paddle Billing API endpoints the Paddle gateway calls, answering with
the transaction and adjustment entities of Paddle's own SDK fixtures (``paddle/*.json`` in the
vendor fixtures) adapted to the request.

Wire format as the SDK speaks it: JSON bodies, ``Authorization: Bearer <key>``,
``Paddle-Version: 1``, responses ``{"data": ..., "meta": {"request_id", "pagination"?}}``,
errors ``{"error": {"type", "code", "detail", "documentation_url"}, "meta": {...}}``.

Endpoints: ``POST /transactions``, ``GET /transactions/{id}``, ``GET /adjustments``
(``transaction_id`` filter), ``POST /adjustments``. `pay` plays the buyer (the transaction
completes with Paddle's 5% + 50 fee and a 20% tax included in the price); `approve_pending` plays
Paddle's review of refund adjustments, which are created ``pending_approval`` as on Paddle.
"""

from __future__ import annotations

import copy
import re
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from payment_testkit.doubles.http_double import (
    DoubleError,
    HttpDouble,
    RecordedRequest,
    Reply,
    vendor_fixture,
)

STAMP = "2026-03-02T11:58:00.000000Z"
DEFAULT_CHECKOUT = "https://canon.test/pay"


def _half_up(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def paddle_breakdown(total: int) -> tuple[int, int]:
    """(fee, tax) on a tax-inclusive total: 20% VAT inside the price; 5% + 50 fee on the total."""
    tax = total - _half_up(Decimal(total) / Decimal("1.2"))
    fee = _half_up(Decimal(total) * Decimal("0.05")) + 50
    return fee, tax


def _id(prefix: str) -> str:
    return f"{prefix}_01{uuid.uuid4().hex[:24]}"


def _error(status: int, code: str, detail: str) -> DoubleError:
    return DoubleError(
        status,
        {
            "error": {
                "type": "request_error",
                "code": code,
                "detail": detail,
                "documentation_url": f"https://developer.paddle.com/errors/shared/{code}",
            },
            "meta": {"request_id": str(uuid.uuid4())},
        },
    )


def _envelope(data: Any, **meta: Any) -> dict[str, Any]:
    return {"data": data, "meta": {"request_id": str(uuid.uuid4()), **meta}}


class PaddleDouble(HttpDouble):
    def __init__(self, api_key: str = "pdl_test_canon") -> None:
        super().__init__()
        self.api_key = api_key
        self.transactions: dict[str, dict[str, Any]] = {}
        self.adjustments: dict[str, dict[str, Any]] = {}
        self.route("POST", "/transactions", self._create_transaction)
        self.route("GET", "/transactions/(?P<id>[^/]+)", self._get_transaction)
        self.route("GET", "/adjustments", self._list_adjustments)
        self.route("POST", "/adjustments", self._create_adjustment)

    def dispatch(self, request: RecordedRequest) -> Reply:
        if request.header("authorization") != f"Bearer {self.api_key}":
            with self.lock:
                self.requests.append(request)
            raise_reply = _error(403, "forbidden", "You aren't permitted to perform this request.")
            return Reply(raise_reply.status, raise_reply.body)
        return super().dispatch(request)

    # -- the buyer and Paddle's back office --------------------------------------------------

    def pay(self, transaction_id: str) -> None:
        with self.lock:
            transaction = self.transactions[transaction_id]
            totals = transaction["details"]["totals"]
            total = int(totals["total"])
            fee, _tax = paddle_breakdown(total)
            totals.update(fee=str(fee), earnings=str(total - int(totals["tax"]) - fee))
            payment = copy.deepcopy(vendor_fixture("paddle", "transaction.completed")["payments"][0])
            payment.update(amount=str(total), status="captured")
            transaction.update(status="completed", payments=[payment], billed_at=STAMP, updated_at=STAMP)

    def approve_pending(self) -> None:
        with self.lock:
            for adjustment in self.adjustments.values():
                if adjustment["status"] == "pending_approval":
                    adjustment.update(status="approved", updated_at=STAMP)

    # -- endpoints ---------------------------------------------------------------------------

    def _create_transaction(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        body = request.json()
        try:
            (item,) = body["items"]
            price = item["price"]
            amount = int(price["unit_price"]["amount"]) * int(item["quantity"])
            currency = price["unit_price"]["currency_code"]
            name = price["product"]["name"]
        except (KeyError, ValueError, TypeError) as exc:
            raise _error(400, "bad_request", f"Invalid request: {exc}") from exc
        if price.get("tax_mode") != "internal":
            raise _error(400, "bad_request", "this double models tax-inclusive prices only")
        _fee, tax = paddle_breakdown(amount)
        transaction_id = _id("txn")
        transaction = copy.deepcopy(vendor_fixture("paddle", "transaction.ready"))
        line = copy.deepcopy(transaction["details"]["line_items"][0])
        line_totals = {"tax": str(tax), "total": str(amount), "discount": "0", "subtotal": str(amount - tax)}
        line.update(
            id=_id("txnitm"), quantity=1, totals=line_totals, unit_totals=dict(line_totals), tax_rate="0.2"
        )
        line["product"].update(name=name, custom_data=None)
        totals = transaction["details"]["totals"]
        totals.update(
            total=str(amount),
            grand_total=str(amount),
            subtotal=str(amount - tax),
            tax=str(tax),
            grand_total_tax=str(tax),
            balance=str(amount),
            discount="0",
            fee=None,
            earnings=None,
            currency_code=currency,
        )
        transaction["details"].update(line_items=[line], adjusted_totals=None, payout_totals=None)
        transaction["details"]["tax_rates_used"] = [{"totals": dict(line_totals), "tax_rate": "0.2"}]
        checkout = (body.get("checkout") or {}).get("url") or DEFAULT_CHECKOUT
        transaction.update(
            id=transaction_id,
            status="ready",
            custom_data=body.get("custom_data"),
            currency_code=currency,
            collection_mode=body.get("collection_mode", "automatic"),
            checkout={"url": f"{checkout}?_ptxn={transaction_id}"},
            items=transaction["items"][:1],
            payments=[],
            created_at=STAMP,
            updated_at=STAMP,
            billed_at=None,
            invoice_id=None,
            invoice_number=None,
            subscription_id=None,
            billing_period=None,
        )
        self.transactions[transaction_id] = transaction
        return Reply(201, _envelope(transaction))

    def _get_transaction(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        transaction = self.transactions.get(match["id"])
        if transaction is None:
            raise _error(404, "entity_not_found", f"Entity {match['id']} not found")
        return Reply(200, _envelope(transaction))

    def _list_adjustments(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        wanted = set(",".join(request.query.get("transaction_id", [])).split(",")) - {""}
        found = [a for a in self.adjustments.values() if not wanted or a["transaction_id"] in wanted]
        pagination = {"per_page": 50, "next": None, "has_more": False, "estimated_total": len(found)}
        return Reply(200, _envelope(found, pagination=pagination))

    def _create_adjustment(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        body = request.json()
        transaction = self.transactions.get(body.get("transaction_id", ""))
        if transaction is None:
            raise _error(404, "entity_not_found", "transaction not found")
        if transaction["status"] not in ("completed", "billed"):
            raise _error(400, "adjustment_transaction_invalid_status", "transaction is not completed")
        if not body.get("reason"):
            raise _error(400, "bad_request", "reason is required")
        lines = {line["id"]: int(line["totals"]["total"]) for line in transaction["details"]["line_items"]}
        counted = [
            a
            for a in self.adjustments.values()
            if a["transaction_id"] == transaction["id"] and a["status"] in ("approved", "pending_approval")
        ]
        already = sum(int(a["totals"]["total"]) for a in counted)
        total = int(transaction["details"]["totals"]["total"])
        if body.get("type") == "full":
            if already:
                raise _error(400, "adjustment_amount_above_remaining_allowed", "transaction already adjusted")
            items = [{"item_id": i, "type": "full", "amount": str(t)} for i, t in lines.items()]
        else:
            items = body.get("items") or []
            if not items:
                raise _error(400, "bad_request", "items are required for partial adjustments")
            for item in items:
                if item.get("item_id") not in lines:
                    raise _error(400, "adjustment_invalid_item", f"no such item {item.get('item_id')}")
        amount = sum(int(item["amount"]) for item in items)
        if amount <= 0 or already + amount > total:
            raise _error(
                400,
                "adjustment_amount_above_remaining_allowed",
                f"adjustment of {amount} exceeds the remaining {total - already}",
            )
        fee, tax = paddle_breakdown(amount)
        adjustment = copy.deepcopy(vendor_fixture("paddle", "adjustment.created"))
        adjustment_items = []
        for item in items:
            entry = copy.deepcopy(adjustment["items"][0])
            part = int(item["amount"])
            _part_fee, part_tax = paddle_breakdown(part)
            entry.update(
                id=_id("adjitm"),
                item_id=item["item_id"],
                type=item["type"],
                amount=str(part),
                totals={"tax": str(part_tax), "total": str(part), "subtotal": str(part - part_tax)},
            )
            adjustment_items.append(entry)
        currency = transaction["currency_code"]
        totals = {
            "fee": str(fee),
            "tax": str(tax),
            "total": str(amount),
            "earnings": str(amount - tax - fee),
            "subtotal": str(amount - tax),
            "currency_code": currency,
            "retained_fee": "0",
        }
        adjustment.update(
            id=_id("adj"),
            action=body["action"],
            reason=body["reason"],
            status="pending_approval",
            type=body.get("type", "partial"),
            transaction_id=transaction["id"],
            items=adjustment_items,
            totals=totals,
            payout_totals=dict(totals, chargeback_fee=None),
            currency_code=currency,
            tax_rates_used=[],
            subscription_id=None,
            created_at=STAMP,
            updated_at=STAMP,
            customer_id=transaction["customer_id"],
        )
        self.adjustments[adjustment["id"]] = adjustment
        return Reply(201, _envelope(adjustment))

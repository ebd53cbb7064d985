"""A local double of the Stripe API endpoints the Stripe gateway calls, answering with Stripe's
own published example objects (``stripe/*.json`` in the vendor fixtures) adapted to the request.

Wire format as the SDK speaks it: form-encoded bodies with bracketed keys, ``Authorization:
Bearer sk_...``, ``Idempotency-Key`` honoured like Stripe (same key + same request replays the
first answer with ``Idempotent-Replayed: true``; same key + another request is an
``idempotency_error``), errors as ``{"error": {"type", "code", "message", "param"}}``.

Endpoints: ``POST /v1/checkout/sessions``, ``GET /v1/payment_intents/{id}`` (with
``expand[]=latest_charge[.balance_transaction]``), ``GET /v1/charges/{id}``, ``POST /v1/refunds``,
``POST /v1/transfers``, ``POST /v1/transfers/{id}/reversals``. `pay` plays the buyer: it turns an
open session into a succeeded PaymentIntent, a captured charge and a balance transaction whose
fee is Stripe's standard 2.9% + 30.
"""

from __future__ import annotations

import copy
import hashlib
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

CREATED = 1_772_000_000


def stripe_fee(amount: int) -> int:
    percentage = (Decimal(amount) * Decimal("0.029")).to_integral_value(rounding=ROUND_HALF_UP)
    return int(percentage) + 30


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def _error(
    status: int, message: str, *, kind: str = "invalid_request_error", code: str | None = None
) -> DoubleError:
    return DoubleError(status, {"error": {"type": kind, "code": code, "message": message, "param": None}})


class StripeDouble(HttpDouble):
    def __init__(self, api_key: str = "sk_test_canon") -> None:
        super().__init__()
        self.api_key = api_key
        self.sessions: dict[str, dict[str, Any]] = {}
        self.intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.balance_transactions: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.transfers: dict[str, dict[str, Any]] = {}
        self._idempotency: dict[str, tuple[str, Reply]] = {}
        self.route("POST", "/v1/checkout/sessions", self._create_session)
        self.route("GET", "/v1/payment_intents/(?P<id>[^/]+)", self._get_intent)
        self.route("GET", "/v1/charges/(?P<id>[^/]+)", self._get_charge)
        self.route("POST", "/v1/refunds", self._create_refund)
        self.route("POST", "/v1/transfers", self._create_transfer)
        self.route("POST", "/v1/transfers/(?P<id>[^/]+)/reversals", self._create_reversal)

    def dispatch(self, request: RecordedRequest) -> Reply:
        if request.header("authorization") != f"Bearer {self.api_key}":
            with self.lock:
                self.requests.append(request)
            return Reply(
                401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}
            )
        key = request.header("idempotency-key") if request.method == "POST" else None
        if key is None:
            return super().dispatch(request)
        fingerprint = hashlib.sha256(request.path.encode() + b"\n" + request.body).hexdigest()
        with self.lock:
            seen = self._idempotency.get(key)
            if seen is not None:
                self.requests.append(request)
                if seen[0] != fingerprint:
                    return Reply(
                        400,
                        {
                            "error": {
                                "type": "idempotency_error",
                                "message": (
                                    "Keys for idempotent requests can only be used with the same parameters "
                                    "they were first used with."
                                ),
                            }
                        },
                    )
                return Reply(seen[1].status, seen[1].body, {"Idempotent-Replayed": "true"})
            reply = super().dispatch(request)
            if reply.status < 500:
                self._idempotency[key] = (fingerprint, reply)
            return reply

    # -- the buyer ---------------------------------------------------------------------------

    def pay(self, session_id: str) -> str:
        with self.lock:
            session = self.sessions[session_id]
            amount, currency = session["amount_total"], session["currency"]
            intent_id, charge_id, txn_id = _id("pi"), _id("ch"), _id("txn")
            fee = stripe_fee(amount)
            txn = copy.deepcopy(vendor_fixture("stripe", "balance_transaction"))
            txn.update(
                id=txn_id,
                amount=amount,
                fee=fee,
                net=amount - fee,
                currency=currency,
                source=charge_id,
                fee_details=[
                    {
                        "amount": fee,
                        "application": None,
                        "currency": currency,
                        "description": "Stripe processing fees",
                        "type": "stripe_fee",
                    }
                ],
            )
            charge = copy.deepcopy(vendor_fixture("stripe", "charge"))
            charge.update(
                id=charge_id,
                amount=amount,
                amount_captured=amount,
                amount_refunded=0,
                captured=True,
                paid=True,
                refunded=False,
                status="succeeded",
                currency=currency,
                payment_intent=intent_id,
                balance_transaction=txn_id,
                metadata={},
            )
            intent = copy.deepcopy(vendor_fixture("stripe", "payment_intent"))
            intent.update(
                id=intent_id,
                amount=amount,
                amount_received=amount,
                currency=currency,
                status="succeeded",
                latest_charge=charge_id,
                canceled_at=None,
                last_payment_error=None,
                next_action=None,
                metadata=dict(session["_intent_metadata"]),
            )
            self.balance_transactions[txn_id], self.charges[charge_id], self.intents[intent_id] = (
                txn,
                charge,
                intent,
            )
            session.update(status="complete", payment_status="paid", payment_intent=intent_id)
            return intent_id

    def set_refunded(self, intent_id: str, amount_refunded: int) -> None:
        with self.lock:
            charge = self.charges[self.intents[intent_id]["latest_charge"]]
            charge.update(amount_refunded=amount_refunded, refunded=amount_refunded >= charge["amount"])

    def charge_of(self, intent_id: str) -> str:
        return str(self.intents[intent_id]["latest_charge"])

    # -- endpoints ---------------------------------------------------------------------------

    def _create_session(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        form = request.form()
        if form.get("mode") != "payment":
            raise _error(400, "mode must be payment here", code="parameter_invalid_empty")
        try:
            amount = int(form["line_items[0][price_data][unit_amount]"])
            quantity = int(form.get("line_items[0][quantity]", "1"))
            currency = form["line_items[0][price_data][currency]"]
            if not form["line_items[0][price_data][product_data][name]"]:
                raise KeyError("line_items[0][price_data][product_data][name]")
            success_url = form["success_url"]
        except (KeyError, ValueError) as exc:
            raise _error(400, f"Missing required param: {exc}", code="parameter_missing") from exc
        session_id = f"cs_test_{uuid.uuid4().hex}"
        session = copy.deepcopy(vendor_fixture("stripe", "checkout.session"))
        session.update(
            id=session_id,
            url=f"https://checkout.stripe.com/c/pay/{session_id}",
            amount_subtotal=amount * quantity,
            amount_total=amount * quantity,
            currency=currency,
            success_url=success_url,
            cancel_url=form.get("cancel_url"),
            client_reference_id=form.get("client_reference_id"),
            customer_email=form.get("customer_email"),
            metadata=_bracketed(form, "metadata"),
            payment_intent=None,
            status="open",
            payment_status="unpaid",
            created=CREATED,
            expires_at=CREATED + 86_400,
        )
        stored = dict(session, _intent_metadata=_bracketed(form, "payment_intent_data[metadata]"))
        self.sessions[session_id] = stored
        return Reply(200, session)

    def _get_intent(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        intent = self.intents.get(match["id"])
        if intent is None:
            raise _error(404, f"No such payment_intent: '{match['id']}'", code="resource_missing")
        expand = {v for k, values in request.query.items() if k.startswith("expand") for v in values}
        body = copy.deepcopy(intent)
        if {"latest_charge", "latest_charge.balance_transaction"} & expand:
            charge = copy.deepcopy(self.charges[intent["latest_charge"]])
            if "latest_charge.balance_transaction" in expand:
                charge["balance_transaction"] = copy.deepcopy(
                    self.balance_transactions[charge["balance_transaction"]]
                )
            body["latest_charge"] = charge
        return Reply(200, body)

    def _get_charge(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        charge = self.charges.get(match["id"])
        if charge is None:
            raise _error(404, f"No such charge: '{match['id']}'", code="resource_missing")
        return Reply(200, charge)

    def _create_refund(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        form = request.form()
        intent = self.intents.get(form.get("payment_intent", ""))
        if intent is None:
            raise _error(404, "No such payment_intent", code="resource_missing")
        charge = self.charges[intent["latest_charge"]]
        remaining = charge["amount"] - charge["amount_refunded"]
        amount = int(form["amount"]) if "amount" in form else remaining
        if remaining == 0:
            raise _error(
                400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
            )
        if amount > remaining or amount <= 0:
            raise _error(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
                code="amount_too_large",
            )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund = copy.deepcopy(vendor_fixture("stripe", "refund"))
        refund.update(
            id=_id("re"),
            amount=amount,
            charge=charge["id"],
            payment_intent=intent["id"],
            currency=charge["currency"],
            status="succeeded",
            created=CREATED,
        )
        self.refunds[refund["id"]] = refund
        return Reply(200, refund)

    def _create_transfer(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        form = request.form()
        destination = form.get("destination", "")
        if not destination.startswith("acct_"):
            raise _error(400, f"No such destination: '{destination}'", code="resource_missing")
        transfer = copy.deepcopy(vendor_fixture("stripe", "transfer"))
        transfer_id = _id("tr")
        transfer.update(
            id=transfer_id,
            amount=int(form["amount"]),
            currency=form["currency"],
            destination=destination,
            description=form.get("description"),
            metadata=_bracketed(form, "metadata"),
            transfer_group=form.get("transfer_group"),
            amount_reversed=0,
            reversed=False,
            created=CREATED,
            reversals={
                "data": [],
                "has_more": False,
                "object": "list",
                "url": f"/v1/transfers/{transfer_id}/reversals",
            },
        )
        self.transfers[transfer_id] = transfer
        return Reply(200, transfer)

    def _create_reversal(self, request: RecordedRequest, match: re.Match[str]) -> Reply:
        transfer = self.transfers.get(match["id"])
        if transfer is None:
            raise _error(404, f"No such transfer: '{match['id']}'", code="resource_missing")
        form = request.form()
        remaining = transfer["amount"] - transfer["amount_reversed"]
        amount = int(form["amount"]) if "amount" in form else remaining
        if amount <= 0 or amount > remaining:
            raise _error(
                400,
                "Transfer reversal amount is greater than the unreversed amount.",
                code="amount_too_large",
            )
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        reversal = copy.deepcopy(vendor_fixture("stripe", "transfer_reversal"))
        reversal.update(
            id=_id("trr"),
            amount=amount,
            currency=transfer["currency"],
            transfer=transfer["id"],
            created=CREATED,
        )
        transfer["reversals"]["data"].append(reversal)
        return Reply(200, reversal)


def _bracketed(form: dict[str, str], prefix: str) -> dict[str, str]:
    """``metadata[key]=value`` pairs of a Stripe form as a dict."""
    pattern = re.compile(re.escape(prefix) + r"\[([^\]]+)\]$")
    return {m.group(1): value for key, value in form.items() if (m := pattern.match(key))}

"""The sandbox processor: Canon's offline default, a small but real payment processor simulation.

It goes through the same `PaymentGateway` port, the same webhook endpoint and the same
verification shape as Stripe and the others, so the embedded deployment exercises every path
the production ones do, with no account, key or network:

- `create_checkout` returns a page on *our* server, ``{public_base_url}/sandbox/checkout/{id}``;
  the HTTP layer serves it (`checkout(id)` gives what to show) and its buttons call
  `complete(id, succeed=...)`, which books the payment and returns (and, with a deliverer,
  POSTs) a signed ``payment.succeeded`` / ``payment.failed`` webhook.
- Webhooks are signed like Stripe's: header ``Canon-Sandbox-Signature: t=<unix>,v1=<hex
  HMAC-SHA256 of "{t}.{raw body}">``, verified in constant time within a tolerance of our clock.
- Fees follow a documented model (`PercentagePlusFixedFee`, default 2.9% + 0.30, half-up,
  zero-decimal aware); like card processors, a refund does not give the fee back.
- Refunds, disputes (`open_dispute`, `resolve_dispute`, and `reinstate_dispute` for a lost
  dispute the seller wins back later, like Stripe's ``charge.dispute.funds_reinstated`` or
  Paddle's ``chargeback_reverse``), payouts and payout reversals are booked
  in a `SandboxLedger` (memory, optionally a JSON file) and announced by webhooks queued in its
  outbox (`deliver_pending`), as a processor calls back asynchronously.
- Idempotency keys behave like Stripe's: the same key with the same request returns the first
  result; the same key with a different request is refused.
- A payout to a destination starting with ``acct_sbx_fail`` fails (``payout.failed``), so the
  failure path can be exercised offline.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from adapters.payments import sandbox_events
from adapters.payments._shared import load_json_object, payload_reading
from adapters.payments.sandbox_ledger import SandboxLedger
from application.payments.amounts import PercentagePlusFixedFee
from application.payments.errors import (
    CaptureNotSupported,
    PaymentNotFound,
    PaymentProcessorRejected,
)
from application.payments.ports import (
    PAYOUT_REFERENCE_KEY,
    PURCHASE_REFERENCE_KEY,
    Checkout,
    CheckoutRequest,
    PaymentProcessor,
    PaymentSnapshot,
    PayoutRequest,
    PayoutResult,
    PayoutReversalResult,
    PayoutStatus,
    RefundResult,
    WebhookDeliverer,
    WebhookDelivery,
    WebhookEvent,
    validate_idempotency_key,
    validate_refund_amount,
)
from application.payments.signing import (
    DEFAULT_WEBHOOK_TOLERANCE,
    require_header,
    require_secret,
    sign_timestamped,
    verify_timestamped,
)
from application.ports.clock import Clock
from domain.ids import new_id

log = logging.getLogger("canon.payments.sandbox")

SIGNATURE_HEADER = "Canon-Sandbox-Signature"
FAILING_DESTINATION_PREFIX = "acct_sbx_fail"


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxCheckout:
    """What the sandbox checkout page shows and where its buttons lead."""

    checkout_id: str
    purchase_id: str
    description: str
    amount_minor: int
    currency: str
    status: str
    """``open``, ``paid``, ``failed``."""
    success_url: str
    cancel_url: str
    customer_email: str | None
    expires_at: datetime
    external_payment_id: str | None


def _sid(prefix: str) -> str:
    return f"{prefix}_sbx_{new_id().replace('-', '')}"


class SandboxPaymentGateway:
    def __init__(
        self,
        *,
        public_base_url: str,
        webhook_secret: str,
        clock: Clock,
        ledger: SandboxLedger | None = None,
        fee_model: PercentagePlusFixedFee | None = None,
        deliverer: WebhookDeliverer | None = None,
        tolerance: timedelta = DEFAULT_WEBHOOK_TOLERANCE,
        checkout_ttl: timedelta = timedelta(hours=24),
    ) -> None:
        self._base_url = public_base_url.rstrip("/")
        self._secret = webhook_secret
        self._clock = clock
        self._ledger = ledger or SandboxLedger()
        self._fees = fee_model or PercentagePlusFixedFee()
        self._deliverer = deliverer
        self._tolerance = tolerance
        self._checkout_ttl = checkout_ttl
        self._lock = asyncio.Lock()
        self._background: set[asyncio.Task[int]] = set()

    @property
    def processor(self) -> PaymentProcessor:
        return PaymentProcessor.SANDBOX

    @property
    def supports_payouts(self) -> bool:
        return True

    @property
    def ledger(self) -> SandboxLedger:
        return self._ledger

    # -- checkout ----------------------------------------------------------------------------

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        now = self._clock.now()
        async with self._lock:
            if request.idempotency_key:
                earlier = self._replay("checkout", request.idempotency_key, _fingerprint(request))
                if earlier is not None:
                    return self._checkout_result(self._require("checkouts", earlier))
            checkout_id = _sid("cs")
            record = {
                "id": checkout_id,
                "purchase_id": request.purchase_id,
                "description": request.description,
                "amount": request.amount_minor,
                "currency": request.currency,
                "success_url": request.success_url,
                "cancel_url": request.cancel_url,
                "customer_email": request.customer_email,
                "status": "open",
                "created": int(now.timestamp()),
                "expires_at": int((now + self._checkout_ttl).timestamp()),
                "payment": None,
            }
            self._ledger.put("checkouts", checkout_id, record)
            if request.idempotency_key:
                self._remember("checkout", request.idempotency_key, _fingerprint(request), checkout_id)
            await self._save()
        return self._checkout_result(record)

    def _checkout_result(self, record: Mapping[str, Any]) -> Checkout:
        return Checkout(
            processor=PaymentProcessor.SANDBOX,
            external_checkout_id=record["id"],
            url=f"{self._base_url}/sandbox/checkout/{record['id']}",
            expires_at=sandbox_events.from_unix(record["expires_at"]),
        )

    def checkout(self, checkout_id: str) -> SandboxCheckout:
        record = self._require("checkouts", checkout_id)
        return SandboxCheckout(
            checkout_id=record["id"],
            purchase_id=record["purchase_id"],
            description=record["description"],
            amount_minor=record["amount"],
            currency=record["currency"],
            status=record["status"],
            success_url=record["success_url"],
            cancel_url=record["cancel_url"],
            customer_email=record["customer_email"],
            expires_at=sandbox_events.from_unix(record["expires_at"]),
            external_payment_id=record["payment"],
        )

    async def complete(self, checkout_id: str, *, succeed: bool) -> WebhookDelivery:
        """The buyer pressed "pay" (``succeed=True``) or "fail" on the sandbox checkout page.

        Books the outcome and returns the signed webhook a processor would send; with a
        deliverer configured it is also POSTed to our webhook endpoint before returning.
        A checkout completes once; an expired one can only fail.
        """
        now = self._clock.now()
        # signed webhooks are the only way these reach Canon: refuse before booking anything
        require_secret(self._secret, "sandbox")
        async with self._lock:
            record = self._require("checkouts", checkout_id)
            if record["status"] != "open":
                raise PaymentProcessorRejected(f"Checkout {checkout_id} is already {record['status']}.")
            expired = int(now.timestamp()) >= record["expires_at"]
            paid = succeed and not expired
            payment_id = _sid("pay")
            amount, currency = record["amount"], record["currency"]
            fee = self._fees.fee(amount, currency) if paid else 0
            payment = {
                "id": payment_id,
                "object": "payment",
                "checkout": checkout_id,
                "amount": amount,
                "currency": currency,
                "fee": fee,
                "net": amount - fee if paid else 0,
                "amount_refunded": 0,
                "status": "succeeded" if paid else "failed",
                "failure_reason": None if paid else ("expired" if expired else "card_declined"),
                "created": int(now.timestamp()),
                "metadata": {PURCHASE_REFERENCE_KEY: record["purchase_id"]},
            }
            record["status"] = "paid" if paid else "failed"
            record["payment"] = payment_id
            self._ledger.put("payments", payment_id, payment)
            self._ledger.put("checkouts", checkout_id, record)
            event = sandbox_events.event("payment.succeeded" if paid else "payment.failed", payment, now)
            await self._save()
        delivery = self.sign(event)
        if self._deliverer is not None:
            await self._deliverer.deliver(delivery)
        return delivery

    async def capture_checkout(self, external_checkout_id: str, *, idempotency_key: str) -> PaymentSnapshot:
        raise CaptureNotSupported("The sandbox processor captures payments when the buyer pays.")

    # -- webhooks ----------------------------------------------------------------------------

    def sign(self, event: Mapping[str, Any]) -> WebhookDelivery:
        """Signs an event the way the sandbox sends it, at the current time."""
        body = json.dumps(event, separators=(",", ":"), sort_keys=True).encode("utf-8")
        secret = require_secret(self._secret, "sandbox")
        header = sign_timestamped(secret, body, int(self._clock.now().timestamp()))
        return WebhookDelivery(
            headers={SIGNATURE_HEADER: header, "Content-Type": "application/json"}, body=body
        )

    async def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, *, now: datetime
    ) -> WebhookEvent:
        secret = require_secret(self._secret, "sandbox")
        header = require_header(headers, SIGNATURE_HEADER)
        verify_timestamped(header, raw_body, secret, now=now, tolerance=self._tolerance)
        with payload_reading("sandbox"):
            return sandbox_events.normalize(load_json_object(raw_body))

    async def deliver_pending(self) -> int:
        """Sends the webhooks the outbox holds (refunds, disputes, payouts); returns how many
        went out. A failed delivery stays queued for the next call, as processors retry."""
        if self._deliverer is None:
            return 0
        sent = 0
        for event in self._ledger.outbox():
            try:
                await self._deliverer.deliver(self.sign(event))
            except Exception:  # the processor keeps it and retries later, like the real ones
                log.warning(
                    "sandbox webhook %s not delivered; kept for retry", event.get("id"), exc_info=True
                )
                continue
            self._ledger.remove_from_outbox(event["id"])
            sent += 1
        await self._save()
        return sent

    def pending_events(self) -> list[dict[str, Any]]:
        return self._ledger.outbox()

    async def drain(self) -> None:
        """Waits for webhook deliveries scheduled in the background (tests, shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    def _announce(self, event: dict[str, Any]) -> None:
        self._ledger.enqueue(event)
        if self._deliverer is not None:
            task = asyncio.get_running_loop().create_task(self.deliver_pending())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    # -- payments and refunds ----------------------------------------------------------------

    async def fetch_payment(self, external_payment_id: str) -> PaymentSnapshot:
        return sandbox_events.snapshot(self._require("payments", external_payment_id))

    async def refund(
        self, external_payment_id: str, amount_minor: int | None, *, idempotency_key: str
    ) -> RefundResult:
        validate_refund_amount(amount_minor)
        validate_idempotency_key(idempotency_key)
        now = self._clock.now()
        fingerprint = _fingerprint(("refund", external_payment_id, amount_minor))
        async with self._lock:
            earlier = self._replay("refund", idempotency_key, fingerprint)
            if earlier is not None:
                return sandbox_events.refund_result(self._require("refunds", earlier))
            payment = self._require("payments", external_payment_id)
            if payment["status"] not in ("succeeded", "partially_refunded"):
                raise PaymentProcessorRejected(f"Payment {external_payment_id} is {payment['status']}.")
            remaining = payment["amount"] - payment["amount_refunded"]
            amount = remaining if amount_minor is None else amount_minor
            if amount > remaining or amount <= 0:
                raise PaymentProcessorRejected(
                    f"Cannot refund {amount}: only {remaining} {payment['currency']} is left on the payment."
                )
            payment["amount_refunded"] += amount
            payment["status"] = (
                "refunded" if payment["amount_refunded"] == payment["amount"] else "partially_refunded"
            )
            refund = {
                "id": _sid("re"),
                "object": "refund",
                "payment": external_payment_id,
                "amount": amount,
                "currency": payment["currency"],
                "status": "succeeded",
                "payment_amount": payment["amount"],
                "payment_amount_refunded": payment["amount_refunded"],
                "created": int(now.timestamp()),
                "metadata": dict(payment["metadata"]),
            }
            self._ledger.put("payments", external_payment_id, payment)
            self._ledger.put("refunds", refund["id"], refund)
            self._remember("refund", idempotency_key, fingerprint, refund["id"])
            self._announce(sandbox_events.event("refund.succeeded", refund, now))
            await self._save()
        return sandbox_events.refund_result(refund)

    async def open_dispute(self, external_payment_id: str, *, reason: str = "fraudulent") -> WebhookDelivery:
        """Simulates the buyer's bank opening a chargeback on the whole payment."""
        now = self._clock.now()
        # signed webhooks are the only way these reach Canon: refuse before booking anything
        require_secret(self._secret, "sandbox")
        async with self._lock:
            payment = self._require("payments", external_payment_id)
            if payment["status"] == "failed":
                raise PaymentProcessorRejected(f"Payment {external_payment_id} was never paid.")
            dispute = {
                "id": _sid("dp"),
                "object": "dispute",
                "payment": external_payment_id,
                "amount": payment["amount"] - payment["amount_refunded"],
                "currency": payment["currency"],
                "reason": reason,
                "status": "needs_response",
                "created": int(now.timestamp()),
                "metadata": dict(payment["metadata"]),
            }
            self._ledger.put("disputes", dispute["id"], dispute)
            event = sandbox_events.event("dispute.opened", dispute, now)
            await self._save()
        return await self._send_now(event)

    async def resolve_dispute(self, external_dispute_id: str, *, won: bool) -> WebhookDelivery:
        now = self._clock.now()
        # signed webhooks are the only way these reach Canon: refuse before booking anything
        require_secret(self._secret, "sandbox")
        async with self._lock:
            dispute = self._require("disputes", external_dispute_id)
            if dispute["status"] != "needs_response":
                raise PaymentProcessorRejected(
                    f"Dispute {external_dispute_id} is already {dispute['status']}."
                )
            dispute["status"] = "won" if won else "lost"
            self._ledger.put("disputes", external_dispute_id, dispute)
            event = sandbox_events.event("dispute.won" if won else "dispute.lost", dispute, now)
            await self._save()
        return await self._send_now(event)

    async def reinstate_dispute(self, external_dispute_id: str) -> WebhookDelivery:
        """A lost dispute won back later (an appeal, the bank reversing its decision): the money
        comes back to the seller; announced as ``dispute.funds_reinstated``."""
        now = self._clock.now()
        require_secret(self._secret, "sandbox")
        async with self._lock:
            dispute = self._require("disputes", external_dispute_id)
            if dispute["status"] != "lost":
                raise PaymentProcessorRejected(
                    f"Dispute {external_dispute_id} is {dispute['status']}; only a lost one can be won back."
                )
            dispute["status"] = "won"
            dispute["funds_reinstated"] = True
            self._ledger.put("disputes", external_dispute_id, dispute)
            event = sandbox_events.event("dispute.funds_reinstated", dispute, now)
            await self._save()
        return await self._send_now(event)

    async def _send_now(self, event: dict[str, Any]) -> WebhookDelivery:
        delivery = self.sign(event)
        if self._deliverer is not None:
            await self._deliverer.deliver(delivery)
        return delivery

    # -- payouts -----------------------------------------------------------------------------

    async def payout(self, request: PayoutRequest) -> PayoutResult:
        now = self._clock.now()
        fingerprint = _fingerprint(request)
        async with self._lock:
            earlier = self._replay("payout", request.idempotency_key, fingerprint)
            if earlier is not None:
                # the first answer said PENDING (settlement is announced by webhook): say it again
                first = sandbox_events.payout_result(self._require("payouts", earlier))
                return replace(first, status=PayoutStatus.PENDING)
            fails = request.destination_account.startswith(FAILING_DESTINATION_PREFIX)
            payout: dict[str, Any] = {
                "id": _sid("po"),
                "object": "payout",
                "amount": request.amount_minor,
                "currency": request.currency,
                "destination": request.destination_account,
                "description": request.description,
                "status": "pending",
                "amount_reversed": 0,
                "created": int(now.timestamp()),
                "metadata": {PAYOUT_REFERENCE_KEY: request.payout_id},
            }
            self._ledger.put("payouts", payout["id"], payout)
            self._remember("payout", request.idempotency_key, fingerprint, payout["id"])
            result = sandbox_events.payout_result(payout)
            settled = dict(payout, status="failed" if fails else "paid")
            settled["failure_reason"] = "account_closed" if fails else None
            self._ledger.put("payouts", payout["id"], settled)
            self._announce(sandbox_events.event("payout.failed" if fails else "payout.paid", settled, now))
            await self._save()
        return result

    async def reverse_payout(
        self, external_payout_id: str, amount_minor: int | None, *, idempotency_key: str
    ) -> PayoutReversalResult:
        validate_refund_amount(amount_minor)
        validate_idempotency_key(idempotency_key)
        now = self._clock.now()
        fingerprint = _fingerprint(("reversal", external_payout_id, amount_minor))
        async with self._lock:
            earlier = self._replay("reversal", idempotency_key, fingerprint)
            if earlier is not None:
                return sandbox_events.reversal_result(self._require("reversals", earlier))
            payout = self._require("payouts", external_payout_id)
            if payout["status"] != "paid":
                raise PaymentProcessorRejected(f"Payout {external_payout_id} is {payout['status']}.")
            remaining = payout["amount"] - payout["amount_reversed"]
            amount = remaining if amount_minor is None else amount_minor
            if amount <= 0 or amount > remaining:
                raise PaymentProcessorRejected(f"Cannot reverse {amount}: {remaining} is left on the payout.")
            payout["amount_reversed"] += amount
            reversal = {
                "id": _sid("trr"),
                "object": "payout_reversal",
                "payout": external_payout_id,
                "amount": amount,
                "currency": payout["currency"],
                "created": int(now.timestamp()),
            }
            self._ledger.put("payouts", external_payout_id, payout)
            self._ledger.put("reversals", reversal["id"], reversal)
            self._remember("reversal", idempotency_key, fingerprint, reversal["id"])
            self._announce(sandbox_events.event("payout.reversed", payout, now))
            await self._save()
        return sandbox_events.reversal_result(reversal)

    # -- bookkeeping -------------------------------------------------------------------------

    def _require(self, section: str, key: str) -> dict[str, Any]:
        found = self._ledger.get(section, key)
        if found is None:
            raise PaymentNotFound(f"The sandbox has no {section[:-1]} {key!r}.")
        return found

    def _replay(self, operation: str, key: str, fingerprint: str) -> str | None:
        seen = self._ledger.get("idempotency", f"{operation}:{key}")
        if seen is None:
            return None
        if seen["fingerprint"] != fingerprint:
            raise PaymentProcessorRejected(
                f"Idempotency key {key!r} was already used with different parameters.",
                code="idempotency-key-reused",
            )
        return str(seen["result"])

    def _remember(self, operation: str, key: str, fingerprint: str, result: str) -> None:
        self._ledger.put("idempotency", f"{operation}:{key}", {"fingerprint": fingerprint, "result": result})

    async def _save(self) -> None:
        if self._ledger.path is not None:
            await asyncio.to_thread(self._ledger.save)


def _fingerprint(value: object) -> str:
    return hashlib.sha256(repr(value).encode("utf-8")).hexdigest()

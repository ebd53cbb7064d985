"""The payment processor port: one `PaymentGateway` per processor (Stripe, Paddle, Lemon Squeezy,
PayPal, and the offline sandbox), all speaking the same processor-neutral types.

Amounts are integers in minor units with an upper-case ISO 4217 code (`amount_minor`, `currency`);
conversions to each processor's wire format live in `application.payments.amounts`.

A webhook is verified on the raw body before it is parsed (`verify_webhook`), then normalized into
a `WebhookEvent` whose `type` is one of ours (`WebhookEventType`), carrying our purchase reference
when the processor echoes it back (metadata, custom data, custom id, client reference id). The
processor-specific event name and the whole payload ride along for audit.

Every money-moving call (`refund`, `payout`, `reverse_payout`, `capture_checkout`) takes an
idempotency key: retrying it with the same key never moves money twice, on processors that
honour keys (Stripe, PayPal, sandbox) and, where the processor has none, through the adapter's
own guard (see each adapter's docstring).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from application.errors import InvalidInput
from application.payments.amounts import normalize_currency

PURCHASE_REFERENCE_KEY = "canon_purchase_id"
"""The metadata / custom-data key under which our purchase id travels to the processor and back."""

PAYOUT_REFERENCE_KEY = "canon_payout_id"
"""The metadata key under which our payout id travels with a transfer."""


class PaymentProcessor(StrEnum):
    STRIPE = "STRIPE"
    PADDLE = "PADDLE"
    LEMON_SQUEEZY = "LEMON_SQUEEZY"
    PAYPAL = "PAYPAL"
    SANDBOX = "SANDBOX"


class WebhookEventType(StrEnum):
    PAYMENT_SUCCEEDED = "PAYMENT_SUCCEEDED"
    """The buyer paid; the money is captured. `amount_minor` is the gross paid."""
    PAYMENT_FAILED = "PAYMENT_FAILED"
    """The checkout ended without payment (declined, expired, abandoned)."""
    CHECKOUT_APPROVED = "CHECKOUT_APPROVED"
    """The buyer approved but the processor waits for us to capture (PayPal): call
    `capture_checkout(external_checkout_id)`; a PAYMENT_SUCCEEDED follows."""
    REFUNDED = "REFUNDED"
    """Money went back to the buyer; `refund` says how much and whether it is now full."""
    CHARGEBACK_OPENED = "CHARGEBACK_OPENED"
    CHARGEBACK_WON = "CHARGEBACK_WON"
    CHARGEBACK_LOST = "CHARGEBACK_LOST"
    PAYOUT_PAID = "PAYOUT_PAID"
    PAYOUT_FAILED = "PAYOUT_FAILED"
    """The payout did not reach the creator, or was reversed: the money is back with us."""
    IGNORED = "IGNORED"
    """A genuine, verified event Canon does not act on (acknowledge it with 2xx)."""


class PaymentStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"


class RefundStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class PayoutStatus(StrEnum):
    PENDING = "PENDING"
    PAID = "PAID"
    FAILED = "FAILED"


def _check_amount(amount_minor: int, *, field_name: str = "amount_minor", allow_zero: bool = False) -> None:
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise InvalidInput("Amounts are integers in minor units.", errors={field_name: "not an integer"})
    if amount_minor < 0 or (amount_minor == 0 and not allow_zero):
        raise InvalidInput("The amount must be positive.", errors={field_name: "must be > 0"})


def _require_text(value: str, field_name: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field_name} is required.", errors={field_name: "required"})


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutRequest:
    purchase_id: str
    """Our purchase id: sent as metadata / custom data and echoed back in webhook events."""
    amount_minor: int
    currency: str
    description: str
    success_url: str
    cancel_url: str
    customer_email: str | None = None
    idempotency_key: str | None = None

    def __post_init__(self) -> None:
        _require_text(self.purchase_id, "purchase_id")
        _check_amount(self.amount_minor)
        object.__setattr__(self, "currency", normalize_currency(self.currency))
        _require_text(self.description, "description")
        for name in ("success_url", "cancel_url"):
            url = getattr(self, name)
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                raise InvalidInput(f"{name} must be an absolute http(s) URL.", errors={name: "not a URL"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkout:
    processor: PaymentProcessor
    external_checkout_id: str
    url: str
    """Where to send the buyer."""
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RefundDetails:
    external_refund_id: str
    amount_minor: int | None
    """This refund's amount; None when the processor reports only the running total (Lemon
    Squeezy): then this refund is the running total minus what was already recorded."""
    full: bool
    """True when the payment is now refunded entirely (this refund included)."""
    refunded_total_minor: int | None = None
    """The processor's running total refunded on the payment, when it reports one."""

    def __post_init__(self) -> None:
        if self.amount_minor is None and self.refunded_total_minor is None:
            raise InvalidInput("A refund needs its amount or the running total refunded.")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargebackDetails:
    external_dispute_id: str
    amount_minor: int
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PayoutDetails:
    external_payout_id: str
    payout_id: str | None
    """Our payout id, when the processor echoes it back."""
    failure_reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookEvent:
    processor: PaymentProcessor
    external_event_id: str
    """Unique per delivery of one event across retries: the key to process it once."""
    type: WebhookEventType
    processor_event_type: str
    occurred_at: datetime
    purchase_reference: str | None = None
    external_payment_id: str | None = None
    external_checkout_id: str | None = None
    amount_minor: int | None = None
    fee_minor: int | None = None
    """The processor's fee on this payment, when the event carries it; otherwise call
    `fetch_payment`."""
    tax_minor: int | None = None
    """Sales tax inside `amount_minor` that a merchant of record (Paddle, Lemon Squeezy) remits."""
    currency: str | None = None
    refund: RefundDetails | None = None
    chargeback: ChargebackDetails | None = None
    payout: PayoutDetails | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentSnapshot:
    processor: PaymentProcessor
    external_payment_id: str
    status: PaymentStatus
    amount_minor: int
    currency: str
    fee_minor: int | None
    """None when the processor does not report its fee (Lemon Squeezy) or has not settled it."""
    net_minor: int | None
    """What the processor credits us: amount - fee, and also minus the sales tax a merchant of
    record remits (`tax_minor`)."""
    refunded_minor: int
    purchase_reference: str | None = None
    tax_minor: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RefundResult:
    processor: PaymentProcessor
    external_refund_id: str
    external_payment_id: str
    amount_minor: int
    currency: str
    status: RefundStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class PayoutRequest:
    payout_id: str
    """Our payout id: travels as metadata and makes the processor call idempotent."""
    destination_account: str
    """The creator's account at the processor (Stripe ``acct_...``, a PayPal email or payer id)."""
    amount_minor: int
    currency: str
    idempotency_key: str
    description: str | None = None

    def __post_init__(self) -> None:
        _require_text(self.payout_id, "payout_id")
        _require_text(self.destination_account, "destination_account")
        _require_text(self.idempotency_key, "idempotency_key")
        _check_amount(self.amount_minor)
        object.__setattr__(self, "currency", normalize_currency(self.currency))


@dataclass(frozen=True, slots=True, kw_only=True)
class PayoutResult:
    processor: PaymentProcessor
    payout_id: str
    external_payout_id: str
    amount_minor: int
    currency: str
    status: PayoutStatus
    """PAID when the processor settles at once (Stripe transfers, sandbox); PENDING when a
    PAYOUT_PAID / PAYOUT_FAILED event follows (PayPal)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PayoutReversalResult:
    processor: PaymentProcessor
    external_payout_id: str
    external_reversal_id: str
    amount_minor: int
    currency: str


class PaymentGateway(Protocol):
    """One payment processor. Adapters never decide business outcomes: they translate."""

    @property
    def processor(self) -> PaymentProcessor: ...

    @property
    def supports_payouts(self) -> bool:
        """False for merchants of record that never pay third parties (Paddle, Lemon Squeezy)."""
        ...

    async def create_checkout(self, request: CheckoutRequest) -> Checkout: ...

    async def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, *, now: datetime
    ) -> WebhookEvent:
        """Verifies the signature on the raw body (constant time, timestamp within tolerance of
        ``now``), then parses and normalizes the event.

        Raises `WebhookEndpointDisabled` (no secret configured), `WebhookSignatureMissing`,
        `WebhookSignatureInvalid`, `WebhookTimestampOutOfTolerance`, `WebhookPayloadInvalid`.
        """
        ...

    async def capture_checkout(self, external_checkout_id: str, *, idempotency_key: str) -> PaymentSnapshot:
        """Captures an approved checkout (after a CHECKOUT_APPROVED event). Processors that
        capture by themselves raise `CaptureNotSupported`."""
        ...

    async def fetch_payment(self, external_payment_id: str) -> PaymentSnapshot: ...

    async def refund(
        self, external_payment_id: str, amount_minor: int | None, *, idempotency_key: str
    ) -> RefundResult:
        """Refunds ``amount_minor`` (None: everything not yet refunded)."""
        ...

    async def payout(self, request: PayoutRequest) -> PayoutResult:
        """Pays a creator. Raises `PayoutsNotSupported` when `supports_payouts` is False."""
        ...

    async def reverse_payout(
        self, external_payout_id: str, amount_minor: int | None, *, idempotency_key: str
    ) -> PayoutReversalResult:
        """Takes a payout back (a refund or chargeback after the creator was paid)."""
        ...


def validate_refund_amount(amount_minor: int | None) -> None:
    if amount_minor is not None:
        _check_amount(amount_minor)


def validate_idempotency_key(key: str) -> None:
    _require_text(key, "idempotency_key")
    if len(key) > 255:
        raise InvalidInput(
            "An idempotency key is at most 255 characters.", errors={"idempotency_key": "too long"}
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookDelivery:
    """One signed webhook request as a processor would send it: POST these headers and this
    exact body to the webhook endpoint."""

    headers: Mapping[str, str]
    body: bytes


class WebhookDeliverer(Protocol):
    """Sends a delivery to our own webhook endpoint (the sandbox processor's way of calling back,
    through the same path and verification as the real processors)."""

    async def deliver(self, delivery: WebhookDelivery) -> None: ...

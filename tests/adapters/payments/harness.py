"""What the payment gateway contract needs from each processor's test set-up: the gateway wired
to a local double, a way to make the buyer pay, the processor's own signing scheme, and the
processor-native webhook bodies (built from the vendors' published examples) for each event."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime

from application.payments.ports import (
    Checkout,
    CheckoutRequest,
    PaymentGateway,
    PaymentProcessor,
    WebhookEventType,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
"""The instant deliveries are signed at and verified against (no test reads the wall clock)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookCase:
    """One event the processor could send about a payment the buyer made, with what Canon must
    read out of it."""

    type: WebhookEventType
    purchase_id: str
    external_payment_id: str
    external_checkout_id: str
    amount_minor: int
    currency: str
    refund_amount_minor: int | None = None
    refund_full: bool = False
    external_refund_id: str = "re_case_1"
    external_dispute_id: str = "dp_case_1"
    payout_id: str = "payout-case-1"
    external_payout_id: str = "po_case_1"


class GatewayHarness(ABC):
    processor: PaymentProcessor
    signature_header: str
    gateway: PaymentGateway
    signs_timestamp: bool = True
    """False for Lemon Squeezy, whose scheme signs the body only."""
    honours_idempotency_keys: bool = True
    """False for Lemon Squeezy, whose refund API takes no key."""
    event_types: frozenset[WebhookEventType]
    """The events this processor sends that Canon reads."""
    reference_echoed: frozenset[WebhookEventType]
    """The events that carry our purchase id back (the others link by the external payment id)."""

    @abstractmethod
    def request_log(self) -> list[object]:
        """Everything the double (or the sandbox ledger) has seen: empty at the start of a test."""

    @abstractmethod
    def checkout_reference(self, checkout: Checkout) -> str | None:
        """Our purchase id as the processor stored it for this checkout."""

    @abstractmethod
    async def pay(self, checkout: Checkout, request: CheckoutRequest) -> str:
        """The buyer pays the checkout in full; returns the external payment id."""

    async def settle(self) -> None:
        """Lets the processor finish what it does asynchronously (Paddle approving refunds)."""
        return

    @abstractmethod
    def gateway_with_secret(self, secret: str) -> PaymentGateway:
        """The same processor double, with another webhook secret (webhook id for PayPal)."""

    @abstractmethod
    def sign(self, body: bytes, *, secret: str | None = None, at: datetime = NOW) -> dict[str, str]:
        """The headers the processor would send with ``body``, signed with its real scheme."""

    @property
    @abstractmethod
    def secret(self) -> str:
        """The webhook secret the default gateway is configured with."""

    @abstractmethod
    def vendor_payloads(self) -> dict[str, bytes]:
        """The processor's own example payloads, as webhook bodies."""

    @abstractmethod
    async def webhook_body(self, case: WebhookCase) -> bytes:
        """The processor-native body announcing ``case`` (the double's state is updated so any
        lookup the gateway makes while verifying agrees with it)."""

    @abstractmethod
    def breakdown(self, request: CheckoutRequest) -> tuple[int | None, int | None]:
        """The fee and the sales tax the processor takes on a payment of ``request`` (None: the
        processor does not report it)."""

    def expected_dispute_id(self, case: WebhookCase) -> str:
        """The dispute id a chargeback event of this processor names."""
        return case.external_dispute_id

    def event_fee(self, case: WebhookCase) -> int | None:
        """The fee a PAYMENT_SUCCEEDED event of this processor carries (None: not in the event)."""
        return None

    @abstractmethod
    def idempotency_keys(self, operation: str) -> list[str]:
        """The keys the processor received for ``refund``, ``payout`` or ``reversal`` calls."""

    async def aclose(self) -> None:
        return None

"""Ports of the money area: purchases and what happens to them, the webhook inbox, the revenue
ledger (revenue_per_conversation) and payouts.

Every amount is an integer in minor units of the record's ``currency``. Ledger rows are only
ever added: a refund or a lost dispute adds REVERSAL rows, a dispute won back adds
REINSTATEMENT rows, a payout only links rows to itself. Writes are sent at once inside the
request's unit of work; the use case commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from application.payments.ports import PaymentGateway

# Purchase statuses (stored as text; the persistence enum has the same values).
PENDING = "PENDING"
COMPLETED = "COMPLETED"
PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
REFUNDED = "REFUNDED"
DISPUTED = "DISPUTED"
FAILED = "FAILED"
PAID_STATUSES = frozenset({COMPLETED, PARTIALLY_REFUNDED, REFUNDED, DISPUTED})


@dataclass(slots=True, kw_only=True)
class PurchaseRecord:
    id: str
    purchaser_user_id: str
    chatbot_id: str
    processor: str
    external_payment_id: str
    external_checkout_id: str | None
    currency: str
    amount: int
    fee: int
    net: int
    refunded: int
    status: str
    refunded_at: datetime | None = None


@dataclass(slots=True, kw_only=True)
class ChargebackRecord:
    id: str
    purchase_id: str
    processor: str
    external_dispute_id: str
    amount: int
    currency: str
    status: str  # OPEN, WON, LOST
    opened_at: datetime
    closed_at: datetime | None = None
    """When the processor decided the current outcome (its event time)."""
    reason: str | None = None
    lost_at: datetime | None = None
    """When the processor took the money (its event time); WON with it: won back."""


class PurchaseRepository(Protocol):
    async def add(self, purchase: PurchaseRecord) -> None: ...

    async def get(self, purchase_id: str, *, lock: bool = False) -> PurchaseRecord | None:
        """With ``lock``, no other transaction changes the purchase until this one ends."""
        ...

    async def find_by_payment(self, processor: str, external_payment_id: str) -> PurchaseRecord | None:
        """The purchase paid by that processor payment (locked like ``get(lock=True)``)."""
        ...

    async def save(self, purchase: PurchaseRecord) -> None: ...

    async def add_refund(
        self, *, purchase: PurchaseRecord, external_refund_id: str, amount: int, at: datetime
    ) -> str | None:
        """Records a succeeded refund; None when that (processor, refund id) is already known."""
        ...

    async def refund_ids(self, purchase_id: str) -> dict[str, int]:
        """External refund id -> amount of the refunds recorded for the purchase."""
        ...

    async def get_chargeback(self, processor: str, external_dispute_id: str) -> ChargebackRecord | None: ...

    async def add_chargeback(self, chargeback: ChargebackRecord) -> None: ...

    async def save_chargeback(self, chargeback: ChargebackRecord) -> None: ...

    async def chargeback_totals(self, purchase_id: str) -> tuple[int, int]:
        """(number of OPEN disputes, total amount of LOST disputes) of the purchase; a dispute
        won back (WON after it was lost) is not LOST any more."""
        ...


class ConversationOpener(Protocol):
    async def open_for_purchase(self, *, purchase_id: str, user_id: str, chatbot_id: str) -> str:
        """Opens (or finds) the conversation a completed purchase paid for; returns its id."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxEvent:
    id: str
    processor: str
    external_event_id: str
    event_type: str
    payload: Mapping[str, Any]
    status: str  # RECEIVED, PROCESSED, IGNORED, FAILED
    attempts: int = 0


class WebhookInbox(Protocol):
    async def add(
        self,
        *,
        processor: str,
        external_event_id: str,
        event_type: str,
        payload: Mapping[str, Any],
        raw_body: str,
        at: datetime,
    ) -> tuple[str, bool]:
        """Stores a verified event once per (processor, external event id); returns its inbox id
        and whether this call stored it (False: a redelivery)."""
        ...

    async def get(self, inbox_id: str, *, lock: bool = False) -> InboxEvent | None: ...

    async def mark(self, inbox_id: str, *, status: str, at: datetime, error: str | None = None) -> None:
        """Sets the outcome and counts an attempt."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerRow:
    """One revenue_per_conversation row. ``amount`` is the creator's; ``platform_share`` is the
    part of the platform's cut the row accounts for (see ``domain.revenue.spread``)."""

    id: str
    conversation_id: str
    purchase_id: str | None
    source_id: str
    creator_id: str
    purchaser_user_id: str
    kind: str  # ATTRIBUTION, ENTERPRISE, REVERSAL, REINSTATEMENT
    amount: int
    currency: str
    token_count: int
    token_fraction: Decimal
    share: Decimal
    platform_share: int = 0
    reverses_id: str | None = None
    reversal_key: str = ""
    payout_status: str = "PENDING"
    payout_id: str | None = None
    created_at: datetime | None = None
    enterprise_allocation_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributionInput:
    """Everything attribution needs about one ended conversation, read in one place."""

    conversation_id: str
    purchaser_user_id: str
    purchase: PurchaseRecord
    funded_conversation_ids: tuple[str, ...]
    """Every conversation the purchase paid for (its net is divided equally across them)."""
    source_tokens: Mapping[str, int]
    version_source_ids: frozenset[str]
    shares: Mapping[str, Mapping[str, Decimal]]
    """source id -> creator id -> share in force now (for every source that may be paid)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Balance:
    creator_id: str
    currency: str
    amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementLine:
    row: LedgerRow
    conversation_id: str
    purchase_id: str | None
    purchase_processor: str | None
    purchase_external_id: str | None
    purchase_amount: int | None
    source_title: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SummaryRow:
    creator_id: str
    year: int
    month: int
    currency: str
    total_revenue: int
    creator_share: int
    platform_share: int
    conversation_count: int


class RevenueLedger(Protocol):
    async def conversations_due(self, *, ended_before: datetime, limit: int) -> list[str]:
        """Ended (COMPLETED/EXPIRED), purchased, not yet attributed conversations that ended at
        or before ``ended_before``, oldest first."""
        ...

    async def attribution_input(self, conversation_id: str) -> AttributionInput | None: ...

    async def attribution_inputs(self, conversation_ids: Sequence[str]) -> dict[str, AttributionInput]:
        """``attribution_input`` for many conversations at once, their purchases locked."""
        ...

    async def lost_chargebacks(self, purchase_ids: Sequence[str]) -> dict[str, int]:
        """Purchase id -> total of its LOST disputes (absent: none)."""
        ...

    async def mark_many_attributed(self, conversation_ids: Sequence[str], *, at: datetime) -> int:
        """Guarded like ``mark_attributed``; returns how many this call moved."""
        ...

    async def add_rows(self, rows: Sequence[LedgerRow]) -> None:
        """Inserts rows; a row that already exists (same conversation, source, creator, kind and
        reversal key) is a ``Conflict`` with code ``revenue-already-recorded``."""
        ...

    async def mark_attributed(self, conversation_id: str, *, at: datetime) -> bool:
        """Guarded: only an ended, unattributed conversation; True if this call won."""
        ...

    async def rows_of_purchase(self, purchase_id: str) -> list[LedgerRow]: ...

    async def funded_conversations(self, purchase_id: str) -> list[str]:
        """Every conversation the purchase paid for (attributed or not)."""
        ...

    async def attributed_without_rows(self, purchase_id: str) -> list[str]:
        """The purchase's conversations that were attributed but have no rows (everything had
        gone back to the buyer then, or nobody's work answered), by id."""
        ...

    async def unpaid_balances(self) -> list[Balance]:
        """Per creator and currency: rows not linked to a payout (reversals netted)."""
        ...

    async def claim_for_payout(self, *, creator_id: str, currency: str, payout_id: str) -> int:
        """Links every unpaid row of the creator in the currency to the payout; returns their sum."""
        ...

    async def settle_payout(
        self, payout_id: str, *, processor: str, transfer_id: str, at: datetime
    ) -> None: ...

    async def release_payout(self, payout_id: str) -> None:
        """A failed payout: its rows return to the unpaid balance."""
        ...

    async def statement(
        self,
        creator_id: str,
        *,
        start: datetime,
        end: datetime,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> list[StatementLine]:
        """The creator's rows booked in [start, end), by (booked at, row id), after ``after``."""
        ...

    async def statement_totals(self, creator_id: str, *, start: datetime, end: datetime) -> dict[str, int]:
        """Currency -> sum of the creator's rows booked in [start, end)."""
        ...

    async def summarize(self, creator_id: str | None = None) -> list[SummaryRow]:
        """Recomputes creator_revenue_summary from the rows (all creators when None): per
        creator, month booked and currency, ``creator_share`` = the rows' amounts,
        ``platform_share`` = their platform shares, ``total_revenue`` = both,
        ``conversation_count`` = conversations with an ATTRIBUTION or ENTERPRISE row."""
        ...


@dataclass(slots=True, kw_only=True)
class PayoutRecord:
    id: str
    creator_id: str
    currency: str
    amount: int
    processor: str
    status: str  # PENDING, PROCESSING, COMPLETED, FAILED
    idempotency_key: str
    destination: str
    payout_account_id: str | None = None
    external_transfer_id: str | None = None
    failure_reason: str | None = None
    submitted_at: datetime | None = None
    completed_at: datetime | None = None
    failed_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PayoutAccount:
    id: str
    creator_id: str
    processor: str
    external_account_id: str
    payouts_enabled: bool


class PayoutRepository(Protocol):
    async def add(self, payout: PayoutRecord) -> None: ...

    async def get(self, payout_id: str, *, lock: bool = False) -> PayoutRecord | None: ...

    async def save(self, payout: PayoutRecord) -> None: ...

    async def unfinished(self) -> list[str]:
        """Payouts PENDING or PROCESSING (a crash may have left them between call and commit)."""
        ...

    async def account(self, creator_id: str, processor: str) -> PayoutAccount | None: ...

    async def set_account(self, account: PayoutAccount) -> None: ...


class PaymentGateways(Protocol):
    """The configured processors: one for checkouts, one for payouts, any by name for webhooks."""

    def checkout(self) -> PaymentGateway: ...

    def payouts(self) -> PaymentGateway: ...

    def get(self, processor: str) -> PaymentGateway | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class MoneySettings:
    platform_share_bps: int
    refund_window_days: int
    payout_minimum: int
    public_base_url: str = "http://127.0.0.1:8000"
    attribution_batch: int = field(default=500)

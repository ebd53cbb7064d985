"""Purchases, refunds, disputes, revenue attribution and payouts.

Amounts are BIGINT minor units with a currency; shares and token fractions are exact decimals.
Unlike the seed, ledger rows (purchase, refund, chargeback, revenue_per_conversation, payout)
are never removed by a cascade: deleting a user, chatbot or conversation that money rows refer
to fails instead, because a payout statement must never lose the rows it was computed from.
Every row that mirrors something at a payment processor is unique per (processor, external id),
so a replayed webhook or a retried call cannot create a second one.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from adapters.persistence.enums import (
    ChargebackStatus,
    PaymentProcessor,
    PayoutStatus,
    PurchaseStatus,
    RefundStatus,
    RevenueKind,
)
from adapters.persistence.models.base import Base, Timestamps, currency, enum_column, fk, id_column, money
from adapters.persistence.models.catalogue import SHARE
from adapters.persistence.types import ExactDecimal, JSONType, UTCDateTime

TOKEN_FRACTION = ExactDecimal(11, 10)
"""A source's fraction of a conversation's tokens, 0..1 with ten decimals."""


class Purchase(Timestamps, Base):
    """A paid conversation (or pack). ``refunded_cents`` is the running total refunded, never
    more than ``amount_cents``; status moves to PARTIALLY_REFUNDED / REFUNDED / DISPUTED."""

    __tablename__ = "purchase"
    __table_args__ = (
        UniqueConstraint("payment_processor", "external_payment_id"),
        UniqueConstraint("payment_processor", "external_checkout_id"),
        Index(None, "purchaser_user_id"),
        Index(None, "chatbot_id"),
        Index(None, "status"),
        CheckConstraint("amount_cents >= 0", name="amount_non_negative"),
        CheckConstraint("processing_fee_cents >= 0", name="fee_non_negative"),
        CheckConstraint(
            "refunded_cents >= 0 AND refunded_cents <= amount_cents", name="refunded_within_amount"
        ),
    )

    id: Mapped[str] = id_column()
    purchaser_user_id: Mapped[str] = fk("user.id")
    chatbot_id: Mapped[str] = fk("chatbot.id")
    payment_processor: Mapped[PaymentProcessor] = enum_column(PaymentProcessor, "payment_processor")
    external_payment_id: Mapped[str] = mapped_column(String(255))
    # Added: the checkout session that led to the payment (known before the payment id is).
    external_checkout_id: Mapped[str | None] = mapped_column(String(255))
    processing_fee_cents: Mapped[int] = money()
    payment_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    currency: Mapped[str] = currency()
    amount_cents: Mapped[int] = money()
    net_amount_cents: Mapped[int] = money()
    refunded_cents: Mapped[int] = mapped_column(BigInteger(), default=0)
    status: Mapped[PurchaseStatus] = enum_column(PurchaseStatus, "status", default=PurchaseStatus.COMPLETED)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Refund(Timestamps, Base):
    __tablename__ = "refund"
    __table_args__ = (
        UniqueConstraint("processor", "external_refund_id"),
        Index(None, "purchase_id"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
    )

    id: Mapped[str] = id_column()
    purchase_id: Mapped[str] = fk("purchase.id")
    processor: Mapped[PaymentProcessor] = enum_column(PaymentProcessor, "processor")
    external_refund_id: Mapped[str] = mapped_column(String(255))
    amount_cents: Mapped[int] = money()
    currency: Mapped[str] = currency()
    status: Mapped[RefundStatus] = enum_column(RefundStatus, "status", default=RefundStatus.PENDING)
    reason: Mapped[str | None] = mapped_column(Text)
    requested_by_user_id: Mapped[str | None] = fk("user.id", ondelete="SET NULL", nullable=True)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Chargeback(Timestamps, Base):
    """A dispute opened by the buyer's bank; LOST means the money went back to the buyer.

    ``lost_at`` is when the processor says the money was taken (set once); a dispute WON with
    a ``lost_at`` was lost and then won back (its money reinstated). ``closed_at`` is when the
    processor decided the current outcome. Both are the processor's event times, so events
    applied in any order end in the same state (see ``ProcessWebhook``).
    """

    __tablename__ = "chargeback"
    __table_args__ = (
        UniqueConstraint("processor", "external_dispute_id"),
        Index(None, "purchase_id"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
    )

    id: Mapped[str] = id_column()
    purchase_id: Mapped[str] = fk("purchase.id")
    processor: Mapped[PaymentProcessor] = enum_column(PaymentProcessor, "processor")
    external_dispute_id: Mapped[str] = mapped_column(String(255))
    amount_cents: Mapped[int] = money()
    currency: Mapped[str] = currency()
    status: Mapped[ChargebackStatus] = enum_column(ChargebackStatus, "status", default=ChargebackStatus.OPEN)
    reason: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Added (0008): when the money was taken; a WON dispute with it was won back.
    lost_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


REVERSAL_SHAPE = (
    "(kind = 'REVERSAL' AND reverses_id IS NOT NULL AND reversal_key <> '' AND amount_cents <= 0)"
    " OR (kind = 'REINSTATEMENT' AND reverses_id IS NOT NULL AND reversal_key <> '' AND amount_cents >= 0)"
    " OR (kind IN ('ATTRIBUTION', 'ENTERPRISE') AND reverses_id IS NULL AND reversal_key = ''"
    " AND amount_cents >= 0)"
)
FUNDING_MATCHES_KIND = (
    "(kind = 'ENTERPRISE' AND enterprise_allocation_id IS NOT NULL AND purchase_id IS NULL)"
    " OR (kind = 'ATTRIBUTION' AND purchase_id IS NOT NULL AND enterprise_allocation_id IS NULL)"
    " OR kind IN ('REVERSAL', 'REINSTATEMENT')"
)


class RevenuePerConversation(Timestamps, Base):
    """What one creator earned from one source in one conversation: the payout ledger.

    Exactly-once design. A row is identified by what it is about, not by when it was made:
    ``uq_revenue_per_conversation_exactly_once`` is unique over
    (conversation_id, source_id, creator_id, kind, reversal_key), with every column NOT NULL:

    - ATTRIBUTION (purchase money) and ENTERPRISE (a subscription's monthly allocation) rows
      have ``reversal_key = ''``, so re-running attribution for a conversation can only insert
      the same rows again, which the constraint rejects (the job treats that as "already done").
    - A REVERSAL row negates an earlier row (``reverses_id``) because of one event, named by
      ``reversal_key`` (e.g. ``"refund:<refund id>"`` or ``"chargeback:<id>"``). A partial
      refund and a later chargeback produce two reversals with different keys; replaying the
      same refund webhook cannot reverse twice.
    - A REINSTATEMENT row gives money back (a dispute won after it was lost):
      ``reversal_key = "chargeback-won:<id>"`` rows each negate one ``chargeback:<id>``
      REVERSAL row exactly (``reverses_id`` is that row); ``"chargeback-won:<id>:top-up"``
      rows restore what was deducted before attribution (``reverses_id`` is the ATTRIBUTION
      row they add to). Never a negative amount.

    ``platform_share_cents`` (added in 0008) is the part of the platform's cut the row accounts
    for: on ATTRIBUTION and ENTERPRISE rows the cut spread over the conversation's (or the
    month's) rows by the weights that split the creators' pool, on later rows the change of
    that cut spread the same way, so the platform's share of any set of rows is their sum. It
    may be negative (a sale below its processing fee is the platform's loss).

    NULLs would make a unique constraint useless (NULLs are distinct), which is why
    ``reversal_key`` is '' rather than NULL. CHECKs tie the nullable columns to the kind: money
    from a purchase names the purchase, enterprise money names its allocation, only reversals
    and reinstatements have ``reverses_id``; a reversal never adds and a reinstatement never
    takes. The unique constraint's leading column serves lookups by conversation (there is no
    separate index on it since 0008).
    """

    __tablename__ = "revenue_per_conversation"
    __table_args__ = (
        UniqueConstraint(
            "conversation_id",
            "source_id",
            "creator_id",
            "kind",
            "reversal_key",
            name="uq_revenue_per_conversation_exactly_once",
        ),
        Index(None, "purchase_id"),
        Index(None, "source_id"),
        Index(None, "creator_id"),
        # 0009: the unpaid rows by creator and currency (balances, claiming a payout's rows);
        # payout and reversal ids are indexed only where set, so a new row maintains neither.
        Index(
            "ix_revenue_per_conversation_unpaid",
            "creator_id",
            "currency",
            sqlite_where=sql_text("payout_id IS NULL"),
            postgresql_where=sql_text("payout_id IS NULL"),
        ),
        Index(
            "ix_revenue_per_conversation_payout_id",
            "payout_id",
            sqlite_where=sql_text("payout_id IS NOT NULL"),
            postgresql_where=sql_text("payout_id IS NOT NULL"),
        ),
        Index(
            "ix_revenue_per_conversation_reverses_id",
            "reverses_id",
            sqlite_where=sql_text("reverses_id IS NOT NULL"),
            postgresql_where=sql_text("reverses_id IS NOT NULL"),
        ),
        CheckConstraint(REVERSAL_SHAPE, name="reversal_shape"),
        CheckConstraint(FUNDING_MATCHES_KIND, name="funding_matches_kind"),
        CheckConstraint("token_count >= 0", name="token_count_non_negative"),
    )

    id: Mapped[str] = id_column()
    conversation_id: Mapped[str] = fk("conversation.id")
    purchase_id: Mapped[str | None] = fk("purchase.id", nullable=True)
    enterprise_allocation_id: Mapped[str | None] = fk("enterprise_allocation.id", nullable=True)
    source_id: Mapped[str] = fk("source.id")
    creator_id: Mapped[str] = fk("creator.id")
    purchaser_user_id: Mapped[str] = fk("user.id")
    kind: Mapped[RevenueKind] = enum_column(RevenueKind, "kind", default=RevenueKind.ATTRIBUTION)
    reverses_id: Mapped[str | None] = fk("revenue_per_conversation.id", nullable=True)
    reversal_key: Mapped[str] = mapped_column(String(255), default="")
    amount_cents: Mapped[int] = money()
    # Added (0008): the platform's share this row accounts for (see above).
    platform_share_cents: Mapped[int] = money()
    currency: Mapped[str] = currency()
    token_count: Mapped[int] = mapped_column(BigInteger())
    token_percentage: Mapped[Decimal] = mapped_column(TOKEN_FRACTION)
    share: Mapped[Decimal] = mapped_column(SHARE)
    payout_status: Mapped[PayoutStatus] = enum_column(
        PayoutStatus, "payout_status", default=PayoutStatus.PENDING
    )
    payout_id: Mapped[str | None] = fk("payout.id", nullable=True)
    payout_processor: Mapped[PaymentProcessor | None] = enum_column(
        PaymentProcessor, "payout_processor", nullable=True
    )
    external_transfer_id: Mapped[str | None] = mapped_column(String(255))
    paid_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CreatorRevenueSummary(Timestamps, Base):
    """Dashboard metric per creator, month and currency (not used for payouts)."""

    __tablename__ = "creator_revenue_summary"
    __table_args__ = (
        UniqueConstraint("creator_id", "year", "month", "currency"),
        Index(None, "creator_id"),
        CheckConstraint("month >= 1 AND month <= 12", name="month_range"),
    )

    id: Mapped[str] = id_column()
    creator_id: Mapped[str] = fk("creator.id", ondelete="CASCADE")
    month: Mapped[int] = mapped_column()
    year: Mapped[int] = mapped_column()
    currency: Mapped[str] = currency()
    total_revenue_cents: Mapped[int] = money()
    creator_share_cents: Mapped[int] = money()
    platform_share_cents: Mapped[int] = money()
    conversation_count: Mapped[int] = mapped_column()


class CreatorPayoutAccount(Timestamps, Base):
    """Where a creator is paid: their connected account at a processor."""

    __tablename__ = "creator_payout_account"
    __table_args__ = (
        UniqueConstraint("creator_id", "processor"),
        UniqueConstraint("processor", "external_account_id"),
    )

    id: Mapped[str] = id_column()
    creator_id: Mapped[str] = fk("creator.id", ondelete="CASCADE")
    processor: Mapped[PaymentProcessor] = enum_column(PaymentProcessor, "processor")
    external_account_id: Mapped[str] = mapped_column(String(255))
    payouts_enabled: Mapped[bool] = mapped_column(Boolean(), default=False)


class Payout(Timestamps, Base):
    """One transfer to a creator. ``idempotency_key`` is sent to the processor and is unique
    here, so a retried payout job can neither pay twice nor create a second row."""

    __tablename__ = "payout"
    __table_args__ = (
        UniqueConstraint("processor", "external_transfer_id"),
        Index(None, "creator_id"),
        Index(None, "status"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
    )

    id: Mapped[str] = id_column()
    creator_id: Mapped[str] = fk("creator.id")
    payout_account_id: Mapped[str | None] = fk(
        "creator_payout_account.id", ondelete="SET NULL", nullable=True
    )
    currency: Mapped[str] = currency()
    amount_cents: Mapped[int] = money()
    status: Mapped[PayoutStatus] = enum_column(PayoutStatus, "status", default=PayoutStatus.PENDING)
    processor: Mapped[PaymentProcessor] = enum_column(PaymentProcessor, "processor")
    external_transfer_id: Mapped[str | None] = mapped_column(String(255))
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

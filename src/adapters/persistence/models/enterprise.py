"""Enterprise subscriptions: a company pays a fixed amount for its users' access, and each
month that amount is allocated to sources by the tokens its users' conversations used."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from adapters.persistence.enums import AllocationStatus, EnterpriseRole, SubscriptionStatus
from adapters.persistence.models.base import (
    Base,
    CreatedAt,
    Timestamps,
    currency,
    enum_column,
    fk,
    id_column,
    money,
)
from adapters.persistence.types import UTCDateTime


class EnterpriseSubscription(Timestamps, Base):
    __tablename__ = "enterprise_subscription"
    __table_args__ = (
        Index(None, "status"),
        Index(None, "stripe_subscription_id"),
        CheckConstraint("seats >= 0", name="seats_non_negative"),
        CheckConstraint("amount_cents >= 0", name="amount_non_negative"),
    )

    id: Mapped[str] = id_column()
    company_name: Mapped[str] = mapped_column(Text)
    seats: Mapped[int] = mapped_column(Integer())
    amount_cents: Mapped[int] = money()
    currency: Mapped[str] = currency()
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[SubscriptionStatus] = enum_column(SubscriptionStatus, "status")
    stripe_subscription_id: Mapped[str] = mapped_column(String(255))


class EnterpriseUser(CreatedAt, Base):
    __tablename__ = "enterprise_user"
    __table_args__ = (
        UniqueConstraint("subscription_id", "user_id"),
        Index(None, "subscription_id"),
        Index(None, "user_id"),
    )

    id: Mapped[str] = id_column()
    subscription_id: Mapped[str] = fk("enterprise_subscription.id", ondelete="CASCADE")
    user_id: Mapped[str] = fk("user.id", ondelete="CASCADE")
    role: Mapped[EnterpriseRole] = enum_column(EnterpriseRole, "role")


class EnterpriseAllocation(Timestamps, Base):
    """One month of one subscription being allocated to sources. Unique per (subscription,
    year, month), so the monthly job allocates each month exactly once; the ENTERPRISE rows of
    ``revenue_per_conversation`` point here."""

    __tablename__ = "enterprise_allocation"
    __table_args__ = (
        UniqueConstraint("subscription_id", "year", "month"),
        CheckConstraint("month >= 1 AND month <= 12", name="month_range"),
        CheckConstraint("amount_cents >= 0", name="amount_non_negative"),
    )

    id: Mapped[str] = id_column()
    subscription_id: Mapped[str] = fk("enterprise_subscription.id")
    year: Mapped[int] = mapped_column(Integer())
    month: Mapped[int] = mapped_column(Integer())
    amount_cents: Mapped[int] = money()
    currency: Mapped[str] = currency()
    total_tokens: Mapped[int] = mapped_column(BigInteger(), default=0)
    status: Mapped[AllocationStatus] = enum_column(
        AllocationStatus, "status", default=AllocationStatus.PENDING
    )
    allocated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

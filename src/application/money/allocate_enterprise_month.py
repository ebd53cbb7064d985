"""AllocateEnterpriseMonth: a subscription's monthly fee, shared by the work its members used."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Protocol

from application.errors import Conflict
from application.money import ledger_math
from application.money.get_statement import month_range
from application.money.ports import LedgerRow, MoneySettings, RevenueLedger
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork
from domain.allocation import allocate
from domain.ids import new_id
from domain.money import Money
from domain.revenue import RevenuePolicy


@dataclass(frozen=True, slots=True, kw_only=True)
class EnterpriseUsage:
    """One member conversation's tokens per source in the month."""

    conversation_id: str
    user_id: str
    source_tokens: dict[str, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class EnterpriseMonth:
    subscription_id: str
    amount: int
    currency: str
    usage: list[EnterpriseUsage]
    shares: dict[str, dict[str, Decimal]]


class EnterpriseBook(Protocol):
    async def active_subscriptions(self, start: datetime, end: datetime) -> list[str]:
        """Subscriptions ACTIVE at some moment of [start, end) and not yet allocated that month."""
        ...

    async def month(self, subscription_id: str, start: datetime, end: datetime) -> EnterpriseMonth: ...

    async def add_allocation(
        self, *, allocation_id: str, subscription_id: str, year: int, month: int, amount: int,
        currency: str, total_tokens: int, at: datetime,
    ) -> None:  # fmt: skip
        """Records the month's allocation; a second one for the same month is a ``Conflict``."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocateEnterpriseMonthCommand:
    year: int
    month: int


@dataclass(frozen=True, slots=True, kw_only=True)
class EnterpriseAllocations:
    allocated: list[str] = field(default_factory=list)
    without_usage: list[str] = field(default_factory=list)
    already_done: list[str] = field(default_factory=list)


class AllocateEnterpriseMonth:
    """Allocates each active subscription's fee for one calendar month (UTC), exactly once.

    - The platform takes ``floor(fee * platform_share_bps / 10000)`` (no processing fee is known
      for subscriptions: the fee is what the company paid for the month).
    - The rest is allocated across (member conversation, source) pairs by the tokens each
      source contributed to the members' conversations that started in the month, then across
      each source's co-creators by the shares in force now: ENTERPRISE rows, one per
      conversation, source and creator, pointing at the month's allocation. The platform's cut
      is spread over the same rows by the same weights (``platform_share``), so the rows add up
      to the whole fee.
    - A month with no usage records the allocation with no rows: nobody's work answered, so the
      platform keeps the fee (the same rule as a conversation with no sources at all).
    - Exactly once: the allocation is unique per subscription and month; each subscription is
      its own transaction.
    """

    def __init__(
        self,
        book: EnterpriseBook,
        ledger: RevenueLedger,
        clock: Clock,
        uow: UnitOfWork,
        settings: MoneySettings,
    ) -> None:
        self._book = book
        self._ledger = ledger
        self._clock = clock
        self._uow = uow
        self._policy = RevenuePolicy(platform_share_bps=settings.platform_share_bps)

    async def __call__(self, command: AllocateEnterpriseMonthCommand) -> EnterpriseAllocations:
        start, end = month_range(f"{command.year:04d}-{command.month:02d}")
        done = EnterpriseAllocations()
        for subscription_id in await self._book.active_subscriptions(start, end):
            month = await self._book.month(subscription_id, start, end)
            now = self._clock.now()
            weights = {
                (u.conversation_id, source_id): tokens
                for u in month.usage
                for source_id, tokens in u.source_tokens.items()
                if tokens > 0 and source_id in month.shares
            }
            allocation_id = new_id()
            try:
                await self._book.add_allocation(
                    allocation_id=allocation_id, subscription_id=subscription_id, year=command.year,
                    month=command.month, amount=month.amount, currency=month.currency,
                    total_tokens=sum(weights.values()), at=now,
                )  # fmt: skip
            except Conflict:
                await self._uow.rollback()
                done.already_done.append(subscription_id)
                continue
            if not weights:
                await self._uow.commit()
                done.without_usage.append(subscription_id)
                continue
            fee = Money.of(month.amount, month.currency)
            platform = self._policy.platform_cut(fee).minor
            platform_parts = allocate(platform, weights)
            users = {u.conversation_id: u.user_id for u in month.usage}
            total = sum(weights.values())
            rows: list[LedgerRow] = []
            for (conversation_id, source_id), amount in allocate(month.amount - platform, weights).items():
                shares = ledger_math.share_sets({source_id: month.shares[source_id]})[source_id]
                kept = allocate(platform_parts[(conversation_id, source_id)], shares.weights())
                for creator_id, part in allocate(amount, shares.weights()).items():
                    rows.append(
                        LedgerRow(
                            id=new_id(),
                            conversation_id=conversation_id,
                            purchase_id=None,
                            source_id=source_id,
                            creator_id=creator_id,
                            purchaser_user_id=users[conversation_id],
                            kind="ENTERPRISE",
                            amount=part,
                            platform_share=kept[creator_id],
                            currency=month.currency,
                            token_count=weights[(conversation_id, source_id)],
                            token_fraction=ledger_math.fraction_column(
                                Fraction(weights[(conversation_id, source_id)], total)
                            ),
                            share=shares.share_of(creator_id).value,
                            created_at=now,
                            enterprise_allocation_id=allocation_id,
                        )
                    )
            await self._ledger.add_rows(rows)
            await self._uow.commit()
            done.allocated.append(subscription_id)
        return done

"""Enterprise subscriptions for the monthly allocation (``EnterpriseBook``) over SQLAlchemy."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence import enums
from adapters.persistence.models import (
    Conversation,
    ConversationSourceUsage,
    EnterpriseAllocation,
    EnterpriseSubscription,
    EnterpriseUser,
)
from adapters.persistence.repositories._support import atomic
from adapters.persistence.repositories.money_ledger import SqlRevenueLedger
from application.money.allocate_enterprise_month import EnterpriseMonth, EnterpriseUsage


class SqlEnterpriseBook:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def active_subscriptions(self, start: datetime, end: datetime) -> list[str]:
        year, month = start.year, start.month
        done = select(EnterpriseAllocation.subscription_id).where(
            EnterpriseAllocation.year == year, EnterpriseAllocation.month == month
        )
        rows = await self._s.scalars(
            select(EnterpriseSubscription.id)
            .where(
                EnterpriseSubscription.status == enums.SubscriptionStatus.ACTIVE,
                EnterpriseSubscription.starts_at < end,
                EnterpriseSubscription.ends_at > start,
                EnterpriseSubscription.id.not_in(done),
            )
            .order_by(EnterpriseSubscription.id)
        )
        return list(rows)

    async def month(self, subscription_id: str, start: datetime, end: datetime) -> EnterpriseMonth:
        sub = await self._s.get(EnterpriseSubscription, subscription_id)
        if sub is None:
            raise LookupError(subscription_id)
        members = select(EnterpriseUser.user_id).where(EnterpriseUser.subscription_id == subscription_id)
        rows = await self._s.execute(
            select(
                Conversation.id,
                Conversation.user_id,
                ConversationSourceUsage.source_id,
                ConversationSourceUsage.total_tokens,
            )
            .join(ConversationSourceUsage, ConversationSourceUsage.conversation_id == Conversation.id)
            .where(
                Conversation.user_id.in_(members),
                Conversation.purchase_id.is_(None),  # purchased conversations are paid by their purchase
                Conversation.created_at >= start,
                Conversation.created_at < end,
            )
        )
        tokens: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
        sources: set[str] = set()
        for conversation_id, user_id, source_id, total in rows:
            tokens[(conversation_id, user_id or "")][source_id] = int(total)
            sources.add(source_id)
        shares = await SqlRevenueLedger(self._s)._shares(sources)
        return EnterpriseMonth(
            subscription_id=subscription_id,
            amount=sub.amount_cents,
            currency=sub.currency,
            usage=[
                EnterpriseUsage(conversation_id=cid, user_id=uid, source_tokens=used)
                for (cid, uid), used in sorted(tokens.items())
            ],
            shares=shares,
        )

    async def add_allocation(
        self, *, allocation_id: str, subscription_id: str, year: int, month: int, amount: int,
        currency: str, total_tokens: int, at: datetime,
    ) -> None:  # fmt: skip
        async with atomic(self._s):
            self._s.add(
                EnterpriseAllocation(
                    id=allocation_id,
                    subscription_id=subscription_id,
                    year=year,
                    month=month,
                    amount_cents=amount,
                    currency=currency,
                    total_tokens=total_tokens,
                    status=enums.AllocationStatus.ALLOCATED,
                    allocated_at=at,
                )
            )

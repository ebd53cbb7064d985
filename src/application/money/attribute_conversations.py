"""AttributeConversations: the periodic job that turns ended conversations into creator revenue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from application.errors import Conflict
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.money import ledger_math
from application.money.ports import REFUNDED, LedgerRow, MoneySettings, PurchaseRepository, RevenueLedger
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork
from domain.ids import new_id
from domain.revenue import RevenuePolicy


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributeConversationsCommand:
    principal: Principal | None = None
    """None: the scheduler itself (no caller to check)."""
    limit: int = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributionRun:
    attributed: list[str] = field(default_factory=list)
    refunded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Lost to a concurrent run (which attributed them)."""


class AttributeConversations:
    """Attributes every ended conversation whose refund window has passed, exactly once.

    - Only COMPLETED or EXPIRED conversations paid by a purchase, once ``ended_at + refund
      window <= now``; oldest first, at most ``limit`` per run.
    - Fully refunded (or charged back) purchases attribute nothing: the conversation is marked
      ATTRIBUTED with no rows, so it is not looked at again.
    - Otherwise ``domain.revenue.attribute`` over this conversation's part of the purchase
      (gross and fee divided equally across the conversations it funded, money already taken
      back deducted), sources by tokens used, co-creators by the shares in force now.
    - Each conversation is its own transaction: the guarded status change and the unique
      ledger rows make a concurrent run lose cleanly (it rolls back and skips).
    """

    def __init__(
        self,
        ledger: RevenueLedger,
        purchases: PurchaseRepository,
        authorizer: Authorizer,
        clock: Clock,
        uow: UnitOfWork,
        settings: MoneySettings,
    ) -> None:
        self._ledger = ledger
        self._purchases = purchases
        self._authorizer = authorizer
        self._clock = clock
        self._uow = uow
        self._policy = RevenuePolicy(
            platform_share_bps=settings.platform_share_bps,
            refund_window=timedelta(days=settings.refund_window_days),
        )

    async def __call__(self, command: AttributeConversationsCommand) -> AttributionRun:
        if command.principal is not None:
            await self._authorizer.require(command.principal, Action.ATTRIBUTION_RUN, Resource.platform())
        now = self._clock.now()
        due = await self._ledger.conversations_due(
            ended_before=now - self._policy.refund_window, limit=max(1, command.limit)
        )
        run = AttributionRun()
        for conversation_id in due:
            try:
                outcome = await self._attribute_one(conversation_id)
            except Conflict:
                await self._uow.rollback()
                outcome = "skipped"
            getattr(run, outcome).append(conversation_id)
        return run

    async def _attribute_one(self, conversation_id: str) -> str:
        now = self._clock.now()
        data = await self._ledger.attribution_input(conversation_id)
        if data is None:
            await self._uow.rollback()
            return "skipped"
        purchase = await self._purchases.get(data.purchase.id, lock=True)
        if purchase is None:
            await self._uow.rollback()
            return "skipped"
        if not await self._ledger.mark_attributed(conversation_id, at=now):
            await self._uow.rollback()
            return "skipped"
        _, lost = await self._purchases.chargeback_totals(purchase.id)
        taken = ledger_math.taken_back(purchase, lost)
        if purchase.status == REFUNDED or taken >= purchase.amount:
            await self._uow.commit()
            return "refunded"
        attribution = ledger_math.attribute_conversation(data, taken, self._policy)
        rows = [
            LedgerRow(
                id=new_id(),
                conversation_id=conversation_id,
                purchase_id=purchase.id,
                source_id=line.source_id,
                creator_id=line.creator_id,
                purchaser_user_id=data.purchaser_user_id,
                kind="ATTRIBUTION",
                amount=line.amount.minor,
                currency=purchase.currency,
                token_count=line.token_count,
                token_fraction=ledger_math.fraction_column(line.token_fraction),
                share=line.share,
                created_at=now,
            )
            for line in attribution.lines
        ]
        if rows:
            await self._ledger.add_rows(rows)
        await self._uow.commit()
        return "attributed"

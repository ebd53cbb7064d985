"""AttributeConversations: the periodic job that turns ended conversations into creator revenue."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from application.errors import Conflict
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.money import ledger_math
from application.money.ports import (
    REFUNDED,
    AttributionInput,
    LedgerRow,
    MoneySettings,
    PurchaseRepository,
    RevenueLedger,
)
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork
from domain.ids import new_id
from domain.revenue import RevenuePolicy

BATCH = 200
"""Conversations attributed per transaction; a batch that meets a concurrent run falls back to
one conversation per transaction, so the loser of a race only ever skips."""


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
    - Batches of ``BATCH`` conversations share one transaction (their purchases locked, so a
      refund waits or is seen); the guarded status change and the unique ledger rows make a
      concurrent run lose cleanly: the batch rolls back and is retried one conversation per
      transaction, skipping what the other run attributed.
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
        for start in range(0, len(due), BATCH):
            batch = due[start : start + BATCH]
            try:
                done = await self._attribute_batch(batch)
            except Conflict:
                await self._uow.rollback()
                done = None
            if done is not None:
                for outcome, conversation_id in done:
                    getattr(run, outcome).append(conversation_id)
                continue
            for conversation_id in batch:  # a concurrent run took some: one at a time
                try:
                    outcome = await self._attribute_one(conversation_id)
                except Conflict:
                    await self._uow.rollback()
                    outcome = "skipped"
                getattr(run, outcome).append(conversation_id)
        return run

    async def _attribute_batch(self, batch: list[str]) -> list[tuple[str, str]] | None:
        """One transaction for the batch; None when any conversation was already taken."""
        now = self._clock.now()
        inputs = await self._ledger.attribution_inputs(batch)
        if await self._ledger.mark_many_attributed(list(inputs), at=now) != len(inputs):
            await self._uow.rollback()
            return None
        lost = await self._ledger.lost_chargebacks([data.purchase.id for data in inputs.values()])
        outcomes: list[tuple[str, str]] = [("skipped", c) for c in batch if c not in inputs]
        rows: list[LedgerRow] = []
        for conversation_id, data in inputs.items():
            purchase = data.purchase
            taken = ledger_math.taken_back(purchase, lost.get(purchase.id, 0))
            if purchase.status == REFUNDED or taken >= purchase.amount:
                outcomes.append(("refunded", conversation_id))
                continue
            rows += self._rows(data, taken, now)
            outcomes.append(("attributed", conversation_id))
        if rows:
            await self._ledger.add_rows(rows)
        await self._uow.commit()
        return outcomes

    def _rows(self, data: AttributionInput, taken: int, now: datetime) -> list[LedgerRow]:
        attribution = ledger_math.attribute_conversation(data, taken, self._policy)
        return [
            LedgerRow(
                id=new_id(),
                conversation_id=data.conversation_id,
                purchase_id=data.purchase.id,
                source_id=line.source_id,
                creator_id=line.creator_id,
                purchaser_user_id=data.purchaser_user_id,
                kind="ATTRIBUTION",
                amount=line.amount.minor,
                platform_share=line.platform_share.minor,
                currency=data.purchase.currency,
                token_count=line.token_count,
                token_fraction=ledger_math.fraction_column(line.token_fraction),
                share=line.share,
                created_at=now,
            )
            for line in attribution.lines
        ]

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
        rows = self._rows(replace(data, purchase=purchase), taken, now)
        if rows:
            await self._ledger.add_rows(rows)
        await self._uow.commit()
        return "attributed"

"""Purchases (with refunds and disputes), the webhook inbox and payouts over SQLAlchemy.

Rows are read with ``populate_existing`` and, where a use case decides from them, locked
(``FOR NO KEY UPDATE`` on PostgreSQL; SQLite writers are serialized by BEGIN IMMEDIATE), so two
webhook jobs about one purchase apply one after the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence import enums
from adapters.persistence.models import (
    Chargeback,
    CreatorPayoutAccount,
    Payout,
    Purchase,
    Refund,
    WebhookEvent,
)
from adapters.persistence.repositories._support import atomic, fresh
from application.errors import Conflict
from application.money.ports import ChargebackRecord, InboxEvent, PayoutAccount, PayoutRecord, PurchaseRecord
from domain.ids import new_id


def _purchase(row: Any) -> PurchaseRecord:
    """From a ``Purchase`` object or a Core row of its table (same names)."""
    return PurchaseRecord(
        id=row.id,
        purchaser_user_id=row.purchaser_user_id,
        chatbot_id=row.chatbot_id,
        processor=row.payment_processor.value,
        external_payment_id=row.external_payment_id,
        external_checkout_id=row.external_checkout_id,
        currency=row.currency,
        amount=row.amount_cents,
        fee=row.processing_fee_cents,
        net=row.net_amount_cents,
        refunded=row.refunded_cents,
        status=row.status.value,
        refunded_at=row.refunded_at,
    )


def _chargeback(row: Chargeback) -> ChargebackRecord:
    return ChargebackRecord(
        id=row.id,
        purchase_id=row.purchase_id,
        processor=row.processor.value,
        external_dispute_id=row.external_dispute_id,
        amount=row.amount_cents,
        currency=row.currency,
        status=row.status.value,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        reason=row.reason,
        lost_at=row.lost_at,
    )


class SqlPurchaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, purchase: PurchaseRecord) -> None:
        async with atomic(self._s):
            self._s.add(
                Purchase(
                    id=purchase.id,
                    purchaser_user_id=purchase.purchaser_user_id,
                    chatbot_id=purchase.chatbot_id,
                    payment_processor=enums.PaymentProcessor(purchase.processor),
                    external_payment_id=purchase.external_payment_id,
                    external_checkout_id=purchase.external_checkout_id,
                    processing_fee_cents=purchase.fee,
                    currency=purchase.currency,
                    amount_cents=purchase.amount,
                    net_amount_cents=purchase.net,
                    refunded_cents=purchase.refunded,
                    status=enums.PurchaseStatus(purchase.status),
                )
            )

    async def get(self, purchase_id: str, *, lock: bool = False) -> PurchaseRecord | None:
        stmt = fresh(select(Purchase).where(Purchase.id == purchase_id))
        if lock:
            stmt = stmt.with_for_update(key_share=True)
        row = await self._s.scalar(stmt)
        return _purchase(row) if row is not None else None

    async def find_by_payment(self, processor: str, external_payment_id: str) -> PurchaseRecord | None:
        stmt = fresh(
            select(Purchase).where(
                Purchase.payment_processor == enums.PaymentProcessor(processor),
                Purchase.external_payment_id == external_payment_id,
            )
        ).with_for_update(key_share=True)
        row = await self._s.scalar(stmt)
        return _purchase(row) if row is not None else None

    async def save(self, purchase: PurchaseRecord) -> None:
        row = await self._s.get(Purchase, purchase.id)
        if row is None:
            raise Conflict(f"purchase {purchase.id} vanished", code="purchase-not-found")
        row.external_payment_id = purchase.external_payment_id
        row.external_checkout_id = purchase.external_checkout_id
        row.amount_cents = purchase.amount
        row.currency = purchase.currency
        row.processing_fee_cents = purchase.fee
        row.net_amount_cents = purchase.net
        row.refunded_cents = purchase.refunded
        row.refunded_at = purchase.refunded_at
        row.status = enums.PurchaseStatus(purchase.status)
        async with atomic(self._s):
            await self._s.flush()

    async def add_refund(
        self, *, purchase: PurchaseRecord, external_refund_id: str, amount: int, at: datetime
    ) -> str | None:
        processor = enums.PaymentProcessor(purchase.processor)
        existing = await self._s.scalar(
            select(Refund.id).where(
                Refund.processor == processor, Refund.external_refund_id == external_refund_id
            )
        )
        if existing is not None:
            return None
        refund_id = new_id()
        try:
            async with atomic(self._s):
                self._s.add(
                    Refund(
                        id=refund_id,
                        purchase_id=purchase.id,
                        processor=processor,
                        external_refund_id=external_refund_id,
                        amount_cents=amount,
                        currency=purchase.currency,
                        status=enums.RefundStatus.SUCCEEDED,
                        succeeded_at=at,
                    )
                )
        except Conflict:
            return None
        return refund_id

    async def refund_ids(self, purchase_id: str) -> dict[str, int]:
        rows = await self._s.execute(
            select(Refund.external_refund_id, Refund.amount_cents).where(
                Refund.purchase_id == purchase_id, Refund.status == enums.RefundStatus.SUCCEEDED
            )
        )
        return {str(external): int(amount) for external, amount in rows}

    async def get_chargeback(self, processor: str, external_dispute_id: str) -> ChargebackRecord | None:
        row = await self._s.scalar(
            fresh(
                select(Chargeback).where(
                    Chargeback.processor == enums.PaymentProcessor(processor),
                    Chargeback.external_dispute_id == external_dispute_id,
                )
            )
        )
        return _chargeback(row) if row is not None else None

    async def add_chargeback(self, chargeback: ChargebackRecord) -> None:
        async with atomic(self._s):
            self._s.add(
                Chargeback(
                    id=chargeback.id,
                    purchase_id=chargeback.purchase_id,
                    processor=enums.PaymentProcessor(chargeback.processor),
                    external_dispute_id=chargeback.external_dispute_id,
                    amount_cents=chargeback.amount,
                    currency=chargeback.currency,
                    status=enums.ChargebackStatus(chargeback.status),
                    reason=chargeback.reason,
                    opened_at=chargeback.opened_at,
                    closed_at=chargeback.closed_at,
                    lost_at=chargeback.lost_at,
                )
            )

    async def save_chargeback(self, chargeback: ChargebackRecord) -> None:
        row = await self._s.get(Chargeback, chargeback.id)
        if row is None:
            raise Conflict(f"chargeback {chargeback.id} vanished", code="chargeback-not-found")
        row.status = enums.ChargebackStatus(chargeback.status)
        row.closed_at = chargeback.closed_at
        row.lost_at = chargeback.lost_at
        async with atomic(self._s):
            await self._s.flush()

    async def chargeback_totals(self, purchase_id: str) -> tuple[int, int]:
        rows = await self._s.execute(
            select(Chargeback.status, func.count(), func.coalesce(func.sum(Chargeback.amount_cents), 0))
            .where(Chargeback.purchase_id == purchase_id)
            .group_by(Chargeback.status)
        )
        by_status = {status: (count, int(total)) for status, count, total in rows}
        return (
            by_status.get(enums.ChargebackStatus.OPEN, (0, 0))[0],
            by_status.get(enums.ChargebackStatus.LOST, (0, 0))[1],
        )


class SqlWebhookInbox:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

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
        proc = enums.PaymentProcessor(processor)
        lookup = select(WebhookEvent.id).where(
            WebhookEvent.processor == proc, WebhookEvent.external_event_id == external_event_id
        )
        existing = await self._s.scalar(lookup)
        if existing is not None:
            return existing, False
        inbox_id = new_id()
        try:
            async with atomic(self._s):
                self._s.add(
                    WebhookEvent(
                        id=inbox_id,
                        processor=proc,
                        external_event_id=external_event_id,
                        event_type=event_type,
                        payload=dict(payload),
                        raw_body=raw_body,
                        status=enums.WebhookEventStatus.RECEIVED,
                        attempts=0,
                        received_at=at,
                    )
                )
        except Conflict:
            # a concurrent delivery of the same event stored it first
            existing = await self._s.scalar(lookup)
            if existing is None:
                raise
            return existing, False
        return inbox_id, True

    async def get(self, inbox_id: str, *, lock: bool = False) -> InboxEvent | None:
        stmt = fresh(select(WebhookEvent).where(WebhookEvent.id == inbox_id))
        if lock:
            stmt = stmt.with_for_update(key_share=True)
        row = await self._s.scalar(stmt)
        if row is None:
            return None
        return InboxEvent(
            id=row.id,
            processor=row.processor.value,
            external_event_id=row.external_event_id,
            event_type=row.event_type,
            payload=row.payload,
            status=row.status.value,
            attempts=row.attempts,
        )

    async def mark(self, inbox_id: str, *, status: str, at: datetime, error: str | None = None) -> None:
        row = await self._s.get(WebhookEvent, inbox_id)
        if row is None:
            return
        row.status = enums.WebhookEventStatus(status)
        row.attempts = (row.attempts or 0) + 1
        row.last_error = error
        if status in ("PROCESSED", "IGNORED"):
            row.processed_at = at
        await self._s.flush()


def _payout(row: Payout, destination: str) -> PayoutRecord:
    return PayoutRecord(
        id=row.id,
        creator_id=row.creator_id,
        currency=row.currency,
        amount=row.amount_cents,
        processor=row.processor.value,
        status=row.status.value,
        idempotency_key=row.idempotency_key,
        destination=destination,
        payout_account_id=row.payout_account_id,
        external_transfer_id=row.external_transfer_id,
        failure_reason=row.failure_reason,
        submitted_at=row.submitted_at,
        completed_at=row.completed_at,
        failed_at=row.failed_at,
    )


class SqlPayoutRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, payout: PayoutRecord) -> None:
        async with atomic(self._s):
            self._s.add(
                Payout(
                    id=payout.id,
                    creator_id=payout.creator_id,
                    payout_account_id=payout.payout_account_id,
                    currency=payout.currency,
                    amount_cents=payout.amount,
                    status=enums.PayoutStatus(payout.status),
                    processor=enums.PaymentProcessor(payout.processor),
                    idempotency_key=payout.idempotency_key,
                )
            )

    async def get(self, payout_id: str, *, lock: bool = False) -> PayoutRecord | None:
        stmt = fresh(select(Payout).where(Payout.id == payout_id))
        if lock:
            stmt = stmt.with_for_update(key_share=True)
        row = await self._s.scalar(stmt)
        if row is None:
            return None
        destination = ""
        if row.payout_account_id is not None:
            account = await self._s.get(CreatorPayoutAccount, row.payout_account_id)
            destination = account.external_account_id if account is not None else ""
        return _payout(row, destination)

    async def save(self, payout: PayoutRecord) -> None:
        row = await self._s.get(Payout, payout.id)
        if row is None:
            raise Conflict(f"payout {payout.id} vanished", code="payout-not-found")
        row.status = enums.PayoutStatus(payout.status)
        row.external_transfer_id = payout.external_transfer_id
        row.failure_reason = payout.failure_reason
        row.submitted_at = payout.submitted_at
        row.completed_at = payout.completed_at
        row.failed_at = payout.failed_at
        async with atomic(self._s):
            await self._s.flush()

    async def unfinished(self) -> list[str]:
        rows = await self._s.scalars(
            select(Payout.id)
            .where(Payout.status.in_([enums.PayoutStatus.PENDING, enums.PayoutStatus.PROCESSING]))
            .order_by(Payout.id)
        )
        return list(rows)

    async def account(self, creator_id: str, processor: str) -> PayoutAccount | None:
        row = await self._s.scalar(
            fresh(
                select(CreatorPayoutAccount).where(
                    CreatorPayoutAccount.creator_id == creator_id,
                    CreatorPayoutAccount.processor == enums.PaymentProcessor(processor),
                )
            )
        )
        if row is None:
            return None
        return PayoutAccount(
            id=row.id,
            creator_id=row.creator_id,
            processor=row.processor.value,
            external_account_id=row.external_account_id,
            payouts_enabled=row.payouts_enabled,
        )

    async def set_account(self, account: PayoutAccount) -> None:
        row = await self._s.scalar(
            select(CreatorPayoutAccount).where(
                CreatorPayoutAccount.creator_id == account.creator_id,
                CreatorPayoutAccount.processor == enums.PaymentProcessor(account.processor),
            )
        )
        async with atomic(self._s):
            if row is None:
                self._s.add(
                    CreatorPayoutAccount(
                        id=account.id,
                        creator_id=account.creator_id,
                        processor=enums.PaymentProcessor(account.processor),
                        external_account_id=account.external_account_id,
                        payouts_enabled=account.payouts_enabled,
                    )
                )
            else:
                row.external_account_id = account.external_account_id
                row.payouts_enabled = account.payouts_enabled

"""ProcessWebhook: applies one stored webhook event (the ``process-webhook`` job)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from application.errors import ApplicationError
from application.money import ledger_math
from application.money import purchase_effects as effects
from application.money.disputes import LOST, OPEN, WON, DisputeState, LedgerAction, next_state
from application.money.events import from_payload
from application.money.payout_effects import payout_event
from application.money.ports import (
    COMPLETED,
    FAILED,
    PAID_STATUSES,
    PARTIALLY_REFUNDED,
    PENDING,
    ChargebackRecord,
    ConversationOpener,
    MoneySettings,
    PaymentGateways,
    PayoutRepository,
    PurchaseRecord,
    PurchaseRepository,
    RevenueLedger,
    WebhookInbox,
)
from application.payments.ports import (
    PaymentGateway,
    PaymentSnapshot,
    PaymentStatus,
    WebhookEvent,
    WebhookEventType,
)
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork
from domain.ids import new_id
from domain.revenue import RevenuePolicy

log = logging.getLogger("canon.money.webhooks")
_T = WebhookEventType
# a buyer can still use what they paid for after a partial refund; not after a full one
_USABLE = frozenset({COMPLETED, PARTIALLY_REFUNDED})


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessWebhookCommand:
    inbox_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookOutcome:
    status: str
    """PROCESSED, IGNORED, or ALREADY_DONE (a retried job)."""
    purchase_id: str | None = None
    conversation_id: str | None = None


class ProcessWebhook:
    """Applies a verified event from the inbox to purchases, refunds, disputes and payouts.

    - Each inbox row is applied once (its status is checked under a lock); the job may retry.
    - Any order of the same events converges: statuses are derived from the records, refunds
      and disputes are unique per processor id, a dispute moves by the processor's times (a
      win reported before the loss it gives back ends as lost-then-won back, see
      ``disputes``), and an event about a payment we have not seen completed fetches that
      payment from the processor first.
    - A completed purchase opens its conversation (idempotently) in the same transaction.
    - Unknown purchases and payouts are IGNORED (with the reason), never guessed.
    """

    def __init__(
        self,
        inbox: WebhookInbox,
        purchases: PurchaseRepository,
        ledger: RevenueLedger,
        payouts: PayoutRepository,
        gateways: PaymentGateways,
        opener: ConversationOpener,
        clock: Clock,
        uow: UnitOfWork,
        settings: MoneySettings,
    ) -> None:
        self._inbox = inbox
        self._purchases = purchases
        self._ledger = ledger
        self._payouts = payouts
        self._gateways = gateways
        self._opener = opener
        self._clock = clock
        self._uow = uow
        self._policy = RevenuePolicy(
            platform_share_bps=settings.platform_share_bps,
            refund_window=timedelta(days=settings.refund_window_days),
        )

    async def __call__(self, command: ProcessWebhookCommand) -> WebhookOutcome:
        stored = await self._inbox.get(command.inbox_id, lock=True)
        if stored is None or stored.status in ("PROCESSED", "IGNORED"):
            return WebhookOutcome(status="ALREADY_DONE")
        event = from_payload(stored.payload)
        gateway = self._gateways.get(event.processor.value)
        now = self._clock.now()
        if event.type in (_T.PAYOUT_PAID, _T.PAYOUT_FAILED):
            done = await payout_event(event, payouts=self._payouts, ledger=self._ledger, at=now)
            return await self._finish(command.inbox_id, "PROCESSED" if done else "IGNORED", None)
        if event.type is _T.IGNORED or gateway is None:
            return await self._finish(command.inbox_id, "IGNORED", None)
        purchase = await self._find_purchase(event, gateway)
        if purchase is None:
            await self._inbox.mark(command.inbox_id, status="IGNORED", at=now, error="unknown purchase")
            await self._uow.commit()
            return WebhookOutcome(status="IGNORED")
        if event.type is _T.PAYMENT_FAILED:
            if purchase.status == PENDING:
                purchase.status = FAILED
                if event.external_payment_id:
                    purchase.external_payment_id = event.external_payment_id
                await self._purchases.save(purchase)
            return await self._finish(command.inbox_id, "PROCESSED", purchase)
        await self._ensure_paid(purchase, event, gateway)
        if event.type is _T.REFUNDED and event.refund is not None:
            await effects.record_refund(
                purchase,
                external_refund_id=event.refund.external_refund_id,
                amount=event.refund.amount_minor,
                refunded_total=event.refund.refunded_total_minor,
                purchases=self._purchases,
                ledger=self._ledger,
                policy=self._policy,
                at=now,
            )
        elif event.chargeback is not None and event.type in (
            _T.CHARGEBACK_OPENED,
            _T.CHARGEBACK_WON,
            _T.CHARGEBACK_LOST,
        ):
            await self._dispute(purchase, event)
        await effects.settle_status(purchase, self._purchases)
        await self._purchases.save(purchase)
        return await self._finish(command.inbox_id, "PROCESSED", purchase)

    async def _finish(self, inbox_id: str, status: str, purchase: PurchaseRecord | None) -> WebhookOutcome:
        now = self._clock.now()
        error: str | None = None
        conversation_id: str | None = None
        await self._inbox.mark(inbox_id, status=status, at=now)
        if purchase is not None and purchase.status in _USABLE:
            try:
                conversation_id = await self._opener.open_for_purchase(
                    purchase_id=purchase.id,
                    user_id=purchase.purchaser_user_id,
                    chatbot_id=purchase.chatbot_id,
                )
            except ApplicationError as exc:
                # paid but the chatbot cannot take it (unpublished since): staff refund it
                error = f"conversation not opened: {exc.code}"
                log.warning("purchase %s paid but %s", purchase.id, error)
                await self._inbox.mark(inbox_id, status=status, at=now, error=error)
        await self._uow.commit()
        return WebhookOutcome(
            status=status, purchase_id=purchase.id if purchase else None, conversation_id=conversation_id
        )

    async def _find_purchase(self, event: WebhookEvent, gateway: PaymentGateway) -> PurchaseRecord | None:
        if event.purchase_reference:
            found = await self._purchases.get(event.purchase_reference, lock=True)
            if found is not None:
                return found
        if event.external_payment_id:
            found = await self._purchases.find_by_payment(event.processor.value, event.external_payment_id)
            if found is not None:
                return found
            snapshot = await gateway.fetch_payment(event.external_payment_id)
            if snapshot.purchase_reference:
                return await self._purchases.get(snapshot.purchase_reference, lock=True)
        return None

    async def _ensure_paid(
        self, purchase: PurchaseRecord, event: WebhookEvent, gateway: PaymentGateway
    ) -> None:
        """Completes a purchase whose payment we have not yet seen succeed, from the event when
        it is the success itself, else from the processor (events may arrive out of order)."""
        if purchase.status in PAID_STATUSES:
            return
        if (
            event.type is _T.PAYMENT_SUCCEEDED
            and event.external_payment_id
            and event.amount_minor is not None
            and event.fee_minor is not None
            and event.currency
        ):
            snapshot = PaymentSnapshot(
                processor=event.processor,
                external_payment_id=event.external_payment_id,
                status=PaymentStatus.SUCCEEDED,
                amount_minor=event.amount_minor,
                currency=event.currency,
                fee_minor=event.fee_minor,
                net_minor=None,
                refunded_minor=0,
                tax_minor=event.tax_minor,
            )
        elif event.type is _T.CHECKOUT_APPROVED and event.external_checkout_id:
            snapshot = await gateway.capture_checkout(
                event.external_checkout_id, idempotency_key=f"capture:{purchase.id}"
            )
        elif event.external_payment_id:
            snapshot = await gateway.fetch_payment(event.external_payment_id)
        else:
            return
        if snapshot.status in (PaymentStatus.PENDING, PaymentStatus.FAILED):
            return
        effects.complete_from(purchase, snapshot)

    async def _dispute(self, purchase: PurchaseRecord, event: WebhookEvent) -> None:
        """Moves the dispute by the processor's times (see ``disputes``), then the ledger."""
        details = event.chargeback
        if details is None:
            return
        outcome = {_T.CHARGEBACK_OPENED: OPEN, _T.CHARGEBACK_WON: WON, _T.CHARGEBACK_LOST: LOST}[event.type]
        found = await self._purchases.get_chargeback(event.processor.value, details.external_dispute_id)
        current = (
            None
            if found is None
            else DisputeState(status=found.status, lost_at=found.lost_at, closed_at=found.closed_at)
        )
        step = next_state(current, outcome, event.occurred_at)
        if step is None:
            return  # a duplicate, or superseded by what the processor reported later
        state, action = step
        if found is None:
            found = ChargebackRecord(
                id=new_id(),
                purchase_id=purchase.id,
                processor=event.processor.value,
                external_dispute_id=details.external_dispute_id,
                amount=details.amount_minor,
                currency=purchase.currency,
                status=state.status,
                opened_at=event.occurred_at,
                closed_at=state.closed_at,
                reason=details.reason,
                lost_at=state.lost_at,
            )
            await self._purchases.add_chargeback(found)
        else:
            found.status, found.closed_at, found.lost_at = state.status, state.closed_at, state.lost_at
            await self._purchases.save_chargeback(found)
        taken = await effects.settle_status(purchase, self._purchases)
        lost_key, won_id = f"chargeback:{found.id}", found.id
        ledger, policy, now = self._ledger, self._policy, self._clock.now()
        if action is LedgerAction.REVERSE_AND_REINSTATE:
            _, lost = await self._purchases.chargeback_totals(purchase.id)
            lost_too = ledger_math.taken_back(purchase, lost + found.amount)
            await effects.settle_attributed(
                purchase, lost_too, lost_key, ledger=ledger, policy=policy, at=now
            )
        if action is LedgerAction.REVERSE:
            await effects.settle_attributed(purchase, taken, lost_key, ledger=ledger, policy=policy, at=now)
        elif action is not LedgerAction.NOTHING:
            await effects.reinstate_chargeback(purchase, won_id, taken, ledger=ledger, policy=policy, at=now)

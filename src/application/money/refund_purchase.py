"""RefundPurchase: staff give a buyer money back through the processor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from application.errors import Conflict, InvalidInput, NotFound
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.money import purchase_effects as effects
from application.money.ports import (
    PAID_STATUSES,
    MoneySettings,
    PaymentGateways,
    PurchaseRepository,
    RevenueLedger,
)
from application.ports.audit import AuditLog
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork
from domain.revenue import RevenuePolicy


@dataclass(frozen=True, slots=True, kw_only=True)
class RefundPurchaseCommand:
    principal: Principal
    purchase_id: str
    amount: int | None = None
    """Minor units; None refunds everything not yet refunded."""
    request_key: str
    """The caller's idempotency key: the same key never refunds twice."""
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RefundedPurchase:
    purchase_id: str
    external_refund_id: str
    amount: int
    refunded_total: int
    status: str


class RefundPurchase:
    """Refunds a paid purchase (``purchase.refund``: operators).

    - The processor is called with ``refund:<purchase id>:<request key>``, so a retried request
      refunds once; the refund is recorded exactly as its webhook would record it (and the
      webhook, arriving later, finds it recorded).
    - After attribution, the creators' rows are reversed (see ``purchase_effects``).
    - Audited with the amounts before and after.
    """

    def __init__(
        self,
        purchases: PurchaseRepository,
        ledger: RevenueLedger,
        gateways: PaymentGateways,
        authorizer: Authorizer,
        audit: AuditLog,
        clock: Clock,
        uow: UnitOfWork,
        settings: MoneySettings,
    ) -> None:
        self._purchases = purchases
        self._ledger = ledger
        self._gateways = gateways
        self._authorizer = authorizer
        self._audit = audit
        self._clock = clock
        self._uow = uow
        self._policy = RevenuePolicy(
            platform_share_bps=settings.platform_share_bps,
            refund_window=timedelta(days=settings.refund_window_days),
        )

    async def __call__(self, command: RefundPurchaseCommand) -> RefundedPurchase:
        await self._authorizer.require(
            command.principal, Action.PURCHASE_REFUND, Resource.purchase(command.purchase_id)
        )
        if command.amount is not None and (type(command.amount) is not int or command.amount <= 0):
            raise InvalidInput("a refund amount is a positive integer", errors={"amount": "must be > 0"})
        purchase = await self._purchases.get(command.purchase_id, lock=True)
        if purchase is None:
            raise NotFound("purchase not found", code="purchase-not-found")
        if purchase.status not in PAID_STATUSES:
            raise Conflict(f"a {purchase.status} purchase cannot be refunded", code="purchase-not-paid")
        gateway = self._gateways.get(purchase.processor)
        if gateway is None:
            raise Conflict(f"{purchase.processor} is not configured", code="payment-processor-not-configured")
        before = {"refunded": purchase.refunded, "status": purchase.status}
        result = await gateway.refund(
            purchase.external_payment_id,
            command.amount,
            idempotency_key=f"refund:{purchase.id}:{command.request_key}"[:255],
        )
        await effects.record_refund(
            purchase,
            external_refund_id=result.external_refund_id,
            amount=result.amount_minor,
            refunded_total=None,
            purchases=self._purchases,
            ledger=self._ledger,
            policy=self._policy,
            at=self._clock.now(),
        )
        await self._audit.record(
            command.principal,
            "purchase.refund",
            subject_type="purchase",
            subject_id=purchase.id,
            before=before,
            after={"refunded": purchase.refunded, "status": purchase.status, "reason": command.reason},
        )
        await self._uow.commit()
        return RefundedPurchase(
            purchase_id=purchase.id,
            external_refund_id=result.external_refund_id,
            amount=result.amount_minor,
            refunded_total=purchase.refunded,
            status=purchase.status,
        )

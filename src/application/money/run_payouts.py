"""RunPayouts: pays every creator's attributed, unpaid balance through the payout processor."""

from __future__ import annotations

from dataclasses import dataclass, field

from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.money import payout_effects
from application.money.ports import (
    MoneySettings,
    PaymentGateways,
    PayoutRecord,
    PayoutRepository,
    RevenueLedger,
)
from application.payments.errors import PaymentProcessorRejected, PaymentProcessorUnavailable
from application.payments.ports import PayoutRequest, PayoutStatus
from application.ports.audit import AuditLog
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork
from domain.ids import new_id

SCHEDULER = Principal.anonymous("system:payouts")
"""Who the audit trail names when the scheduler (not a person) runs payouts."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunPayoutsCommand:
    principal: Principal | None = None
    """None: the scheduler itself."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PayoutRun:
    completed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    """Submitted, awaiting the processor (a webhook or the next run finishes them)."""


class RunPayouts:
    """Pays creators, never twice, never more than they have.

    - First finishes payouts a crash left PENDING/PROCESSING, by calling the processor again
      with the same idempotency key (``payout:<payout id>``): it answers with the first
      transfer instead of making a second.
    - Then, per creator and currency, the unpaid balance (reversals netted) is claimed into a
      new payout when it reaches the minimum and the creator has an enabled account at the
      payout processor. The claim and the PROCESSING state commit BEFORE the processor call.
    - PENDING -> PROCESSING -> COMPLETED, or FAILED (rejected): the amount returns to the
      balance. An unreachable processor leaves it PROCESSING for the next run.
    - Every payout is audited.
    """

    def __init__(
        self,
        ledger: RevenueLedger,
        payouts: PayoutRepository,
        gateways: PaymentGateways,
        authorizer: Authorizer,
        audit: AuditLog,
        clock: Clock,
        uow: UnitOfWork,
        settings: MoneySettings,
    ) -> None:
        self._ledger = ledger
        self._payouts = payouts
        self._gateways = gateways
        self._authorizer = authorizer
        self._audit = audit
        self._clock = clock
        self._uow = uow
        self._minimum = settings.payout_minimum

    async def __call__(self, command: RunPayoutsCommand) -> PayoutRun:
        actor = command.principal or SCHEDULER
        if command.principal is not None:
            await self._authorizer.require(command.principal, Action.PAYOUT_RUN, Resource.platform())
        run = PayoutRun()
        for payout_id in await self._payouts.unfinished():
            await self._submit(payout_id, run)
        gateway = self._gateways.payouts()
        for balance in await self._ledger.unpaid_balances():
            if balance.amount < max(self._minimum, 1):
                continue
            account = await self._payouts.account(balance.creator_id, gateway.processor.value)
            if account is None or not account.payouts_enabled:
                continue
            payout_id = new_id()
            await self._payouts.add(
                PayoutRecord(
                    id=payout_id,
                    creator_id=balance.creator_id,
                    currency=balance.currency,
                    amount=balance.amount,
                    processor=gateway.processor.value,
                    status="PENDING",
                    idempotency_key=f"payout:{payout_id}",
                    destination=account.external_account_id,
                    payout_account_id=account.id,
                )
            )
            claimed = await self._ledger.claim_for_payout(
                creator_id=balance.creator_id, currency=balance.currency, payout_id=payout_id
            )
            if claimed != balance.amount:  # rows moved under us: leave it to the next run
                await self._uow.rollback()
                continue
            payout = await self._payouts.get(payout_id)
            if payout is None:
                await self._uow.rollback()
                continue
            payout.status, payout.submitted_at = "PROCESSING", self._clock.now()
            await self._payouts.save(payout)
            await self._audit.record(
                actor,
                "payout.create",
                subject_type="payout",
                subject_id=payout_id,
                after={"creator_id": payout.creator_id, "amount": claimed, "currency": payout.currency},
            )
            await self._uow.commit()
            await self._submit(payout_id, run)
        return run

    async def _submit(self, payout_id: str, run: PayoutRun) -> None:
        payout = await self._payouts.get(payout_id, lock=True)
        if payout is None or payout.status not in ("PENDING", "PROCESSING"):
            await self._uow.rollback()
            return
        gateway = self._gateways.get(payout.processor)
        if gateway is None:
            await self._uow.rollback()
            run.pending.append(payout_id)
            return
        now = self._clock.now()
        try:
            result = await gateway.payout(
                PayoutRequest(
                    payout_id=payout.id,
                    destination_account=payout.destination,
                    amount_minor=payout.amount,
                    currency=payout.currency,
                    idempotency_key=payout.idempotency_key,
                    description=f"Canon payout {payout.id}",
                )
            )
        except PaymentProcessorRejected as exc:
            await payout_effects.fail(
                payout, reason=str(exc), payouts=self._payouts, ledger=self._ledger, at=now
            )
            await self._audit.record(
                SCHEDULER,
                "payout.fail",
                subject_type="payout",
                subject_id=payout.id,
                after={"reason": str(exc)},
            )
            await self._uow.commit()
            run.failed.append(payout_id)
            return
        except PaymentProcessorUnavailable:
            await self._uow.rollback()
            run.pending.append(payout_id)
            return
        if result.status is PayoutStatus.PAID:
            await payout_effects.complete(
                payout,
                transfer_id=result.external_payout_id,
                payouts=self._payouts,
                ledger=self._ledger,
                at=now,
            )
            run.completed.append(payout_id)
        elif result.status is PayoutStatus.FAILED:
            await payout_effects.fail(
                payout, reason="declined", payouts=self._payouts, ledger=self._ledger, at=now
            )
            run.failed.append(payout_id)
        else:
            payout.status, payout.external_transfer_id = "PROCESSING", result.external_payout_id
            await self._payouts.save(payout)
            run.pending.append(payout_id)
        await self._uow.commit()

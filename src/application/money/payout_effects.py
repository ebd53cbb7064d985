"""Moving a payout to its outcome, shared by the payout run and the payout webhooks.

- COMPLETED links its rows as paid; FAILED returns them to the creator's unpaid balance.
- A payout ends once, except that a COMPLETED payout the processor later reports as failed
  (returned by the bank) becomes FAILED and its rows return to the balance.
"""

from __future__ import annotations

from datetime import datetime

from application.money.ports import PayoutRecord, PayoutRepository, RevenueLedger
from application.payments.ports import WebhookEvent, WebhookEventType


async def complete(
    payout: PayoutRecord, *, transfer_id: str, payouts: PayoutRepository, ledger: RevenueLedger, at: datetime
) -> bool:
    if payout.status in ("COMPLETED", "FAILED"):
        return False
    payout.status, payout.completed_at, payout.external_transfer_id = "COMPLETED", at, transfer_id
    await payouts.save(payout)
    await ledger.settle_payout(payout.id, processor=payout.processor, transfer_id=transfer_id, at=at)
    return True


async def fail(
    payout: PayoutRecord, *, reason: str, payouts: PayoutRepository, ledger: RevenueLedger, at: datetime
) -> bool:
    if payout.status == "FAILED":
        return False
    payout.status, payout.failed_at, payout.failure_reason = "FAILED", at, reason[:2000]
    await payouts.save(payout)
    await ledger.release_payout(payout.id)
    return True


async def payout_event(
    event: WebhookEvent, *, payouts: PayoutRepository, ledger: RevenueLedger, at: datetime
) -> bool:
    details = event.payout
    if details is None or not details.payout_id:
        return False
    payout = await payouts.get(details.payout_id, lock=True)
    if payout is None:
        return False
    if event.type is WebhookEventType.PAYOUT_PAID:
        await complete(payout, transfer_id=details.external_payout_id, payouts=payouts, ledger=ledger, at=at)
    else:
        await fail(
            payout, reason=details.failure_reason or "payout failed", payouts=payouts, ledger=ledger, at=at
        )
    return True

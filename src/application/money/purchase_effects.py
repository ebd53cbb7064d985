"""What happens to a purchase when money comes in or goes back, shared by the webhook job and
the staff refund so both record the same thing the same way.

- A purchase's status is derived from its records, never set blindly, so events applied in any
  order end in the same status: everything taken back -> REFUNDED; an open dispute ->
  DISPUTED; something taken back -> PARTIALLY_REFUNDED; else COMPLETED.
- Taking money back after attribution brings each attributed conversation to exactly what
  attributing its reduced gross would give, the creators and the platform (see
  ``ledger_math``); each event's rows carry its own key (``refund:<id>``, ``chargeback:<id>``),
  so replaying it posts nothing more.
- A dispute won after it was lost gives its reversal back row for row
  (``chargeback-won:<id>``), then tops the conversation up to its target if the loss had
  been deducted before attribution (or other events moved the target meanwhile).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from application.money import ledger_math
from application.money.ports import (
    COMPLETED,
    DISPUTED,
    PARTIALLY_REFUNDED,
    REFUNDED,
    LedgerRow,
    PurchaseRecord,
    PurchaseRepository,
    RevenueLedger,
)
from application.payments.ports import PaymentSnapshot
from domain.revenue import RevenuePolicy


async def settle_status(purchase: PurchaseRecord, purchases: PurchaseRepository) -> int:
    """Recomputes the status from the records; returns the total taken back."""
    open_disputes, lost = await purchases.chargeback_totals(purchase.id)
    taken = ledger_math.taken_back(purchase, lost)
    if taken >= purchase.amount and purchase.amount > 0:
        purchase.status = REFUNDED
    elif open_disputes:
        purchase.status = DISPUTED
    elif taken > 0:
        purchase.status = PARTIALLY_REFUNDED
    else:
        purchase.status = COMPLETED
    return taken


def complete_from(purchase: PurchaseRecord, snapshot: PaymentSnapshot) -> None:
    """A payment the processor confirms: amount, fee and net as it reports them."""
    fee = snapshot.fee_minor or 0
    tax = snapshot.tax_minor or 0
    purchase.external_payment_id = snapshot.external_payment_id
    purchase.amount = snapshot.amount_minor
    purchase.currency = snapshot.currency
    purchase.fee = fee
    purchase.net = snapshot.net_minor if snapshot.net_minor is not None else snapshot.amount_minor - fee - tax
    purchase.status = COMPLETED


async def record_refund(
    purchase: PurchaseRecord,
    *,
    external_refund_id: str,
    amount: int | None,
    refunded_total: int | None,
    purchases: PurchaseRepository,
    ledger: RevenueLedger,
    policy: RevenuePolicy,
    at: datetime,
) -> bool:
    """Records one refund once; False when it was already recorded."""
    known = await purchases.refund_ids(purchase.id)
    if external_refund_id in known:
        return False
    if amount is None:
        amount = (refunded_total or 0) - sum(known.values())
    amount = min(amount, purchase.amount - purchase.refunded)
    if amount <= 0:
        return False
    refund_id = await purchases.add_refund(
        purchase=purchase, external_refund_id=external_refund_id, amount=amount, at=at
    )
    if refund_id is None:
        return False
    purchase.refunded += amount
    purchase.refunded_at = at
    taken = await settle_status(purchase, purchases)
    await purchases.save(purchase)
    await settle_attributed(purchase, taken, f"refund:{refund_id}", ledger=ledger, policy=policy, at=at)
    return True


async def _by_conversation(purchase: PurchaseRecord, ledger: RevenueLedger) -> dict[str, list[LedgerRow]]:
    by_conversation: dict[str, list[LedgerRow]] = {}
    for row in await ledger.rows_of_purchase(purchase.id):
        by_conversation.setdefault(row.conversation_id, []).append(row)
    return dict(sorted(by_conversation.items()))


async def settle_attributed(
    purchase: PurchaseRecord,
    taken: int,
    key: str,
    *,
    ledger: RevenueLedger,
    policy: RevenuePolicy,
    at: datetime,
) -> int:
    """Posts rows under ``key`` bringing every attributed conversation of the purchase to what
    its remaining gross (``taken`` went back) pays the creators and the platform; returns the
    creators' change (negative when money was reversed)."""
    funded = await ledger.funded_conversations(purchase.id)
    new_rows: list[LedgerRow] = []
    for conversation_id, rows in (await _by_conversation(purchase, ledger)).items():
        if ledger_math.is_posted(rows, key):
            continue
        creators, platform = ledger_math.conversation_targets(
            purchase, taken, conversation_id, funded, policy
        )
        new_rows += ledger_math.adjustment_rows(rows, creators=creators, platform=platform, key=key, at=at)
    if new_rows:
        await ledger.add_rows(new_rows)
    return sum(r.amount for r in new_rows)


async def reinstate_chargeback(
    purchase: PurchaseRecord,
    chargeback_id: str,
    taken: int,
    *,
    ledger: RevenueLedger,
    policy: RevenuePolicy,
    at: datetime,
) -> int:
    """A dispute won after it was lost: in each attributed conversation, REINSTATEMENT rows
    (``chargeback-won:<id>``) negate the dispute's REVERSAL rows exactly, then the conversation
    is brought to its target for ``taken`` (now without the dispute) under the same key: a
    top-up when the loss was deducted before attribution, rarely a correction when refunds
    arrived in between. A conversation attributed while everything had gone back (so without
    rows) is attributed now, on what the purchase holds again. Returns the creators' change."""
    key = f"chargeback-won:{chargeback_id}"
    funded = await ledger.funded_conversations(purchase.id)
    new_rows: list[LedgerRow] = []
    for conversation_id, rows in (await _by_conversation(purchase, ledger)).items():
        if ledger_math.is_posted(rows, key):
            continue
        given_back = ledger_math.reinstatement_rows(
            rows, reversal_key=f"chargeback:{chargeback_id}", key=key, at=at
        )
        creators, platform = ledger_math.conversation_targets(
            purchase, taken, conversation_id, funded, policy
        )
        new_rows += given_back
        new_rows += ledger_math.adjustment_rows(
            [*rows, *given_back], creators=creators, platform=platform, key=key, at=at
        )
    if taken < purchase.amount:
        for conversation_id in await ledger.attributed_without_rows(purchase.id):
            data = await ledger.attribution_input(conversation_id)
            if data is not None:
                new_rows += ledger_math.attribution_rows(replace(data, purchase=purchase), taken, policy, at)
    if new_rows:
        await ledger.add_rows(new_rows)
    return sum(r.amount for r in new_rows)

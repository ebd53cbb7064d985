"""What happens to a purchase when money comes in or goes back, shared by the webhook job and
the staff refund so both record the same thing the same way.

- A purchase's status is derived from its records, never set blindly, so events applied in any
  order end in the same status: everything taken back -> REFUNDED; an open dispute ->
  DISPUTED; something taken back -> PARTIALLY_REFUNDED; else COMPLETED.
- Taking money back after attribution reverses, per conversation, exactly what attributing
  the reduced gross would no longer give the creators (see ``ledger_math``); each event's rows
  carry its own key (``refund:<id>``, ``chargeback:<id>``), so replaying it reverses nothing.
"""

from __future__ import annotations

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
from domain.ids import new_id
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
    await reverse_attributed(purchase, taken, f"refund:{refund_id}", ledger=ledger, policy=policy, at=at)
    return True


async def reverse_attributed(
    purchase: PurchaseRecord,
    taken: int,
    key: str,
    *,
    ledger: RevenueLedger,
    policy: RevenuePolicy,
    at: datetime,
) -> int:
    """Posts REVERSAL rows bringing every attributed conversation of the purchase down to what
    its reduced gross pays the creators; returns the total reversed (positive)."""
    rows = await ledger.rows_of_purchase(purchase.id)
    by_conversation: dict[str, list[LedgerRow]] = {}
    for row in rows:
        by_conversation.setdefault(row.conversation_id, []).append(row)
    funded = await ledger.funded_conversations(purchase.id)
    total = 0
    new_rows: list[LedgerRow] = []
    for conversation_id, conv_rows in sorted(by_conversation.items()):
        if any(r.reversal_key == key for r in conv_rows):
            continue
        gross, fee = ledger_math.conversation_part(purchase, taken, conversation_id, funded)
        target = ledger_math.creators_pool(gross, fee, policy)
        current = sum(r.amount for r in conv_rows)
        parts = ledger_math.reversal_amounts(conv_rows, current - target)
        originals = {r.id: r for r in conv_rows}
        for row_id, amount in parts.items():
            if amount == 0:
                continue
            o = originals[row_id]
            total -= amount
            new_rows.append(
                LedgerRow(
                    id=new_id(),
                    conversation_id=o.conversation_id,
                    purchase_id=o.purchase_id,
                    source_id=o.source_id,
                    creator_id=o.creator_id,
                    purchaser_user_id=o.purchaser_user_id,
                    kind="REVERSAL",
                    amount=amount,
                    currency=o.currency,
                    token_count=o.token_count,
                    token_fraction=o.token_fraction,
                    share=o.share,
                    reverses_id=o.id,
                    reversal_key=key,
                    created_at=at,
                )
            )
    if new_rows:
        await ledger.add_rows(new_rows)
    return total

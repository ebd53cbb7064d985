"""The ledger arithmetic shared by attribution and reversals (pure; see docs/revenue-rules.md).

- A purchase funding several conversations divides its gross, and separately its fee, equally
  across them (largest remainder, smallest conversation id first), so the parts add up exactly.
- Money taken back (refunds, lost chargebacks) before attribution reduces the gross that is
  attributed; the processor keeps its fee, so the fee is not reduced.
- After attribution, the creators' lines of a conversation are brought down to what attributing
  the reduced gross would give them in total: the difference is reversed across the remaining
  lines in proportion to them (``domain.revenue.reverse``), so reversals sum exactly to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from application.money.ports import AttributionInput, LedgerRow, PurchaseRecord
from domain.allocation import allocate_equally
from domain.money import Money
from domain.revenue import Attribution, AttributionLine, RevenuePolicy, ShareSet, attribute, reverse
from domain.shares import RevenueShare

_FRACTION_PLACES = Decimal("0.0000000001")


def taken_back(purchase: PurchaseRecord, lost_chargebacks: int) -> int:
    """What the buyer got back, never more than was paid."""
    return min(purchase.amount, purchase.refunded + lost_chargebacks)


def conversation_part(
    purchase: PurchaseRecord, taken: int, conversation_id: str, funded: Sequence[str]
) -> tuple[Money, Money]:
    """(gross, fee) of one funded conversation."""
    ids = sorted(set(funded) | {conversation_id})
    gross = allocate_equally(purchase.amount - taken, ids)[conversation_id]
    fee = allocate_equally(purchase.fee, ids)[conversation_id]
    return Money.of(gross, purchase.currency), Money.of(fee, purchase.currency)


def creators_pool(gross: Money, fee: Money, policy: RevenuePolicy) -> int:
    """What the creators get in total from ``gross`` (zero when the fee eats it all)."""
    net = gross - fee
    if net.is_negative():
        return 0
    return (net - policy.platform_cut(net)).minor


def share_sets(shares: Mapping[str, Mapping[str, Decimal]]) -> dict[str, ShareSet]:
    out: dict[str, ShareSet] = {}
    for source_id, by_creator in shares.items():
        if by_creator:
            out[source_id] = ShareSet(tuple((c, RevenueShare(v)) for c, v in by_creator.items()))
    return out


def attribute_conversation(data: AttributionInput, taken: int, policy: RevenuePolicy) -> Attribution:
    gross, fee = conversation_part(data.purchase, taken, data.conversation_id, data.funded_conversation_ids)
    return attribute(
        gross=gross,
        fee=fee,
        source_tokens=dict(data.source_tokens),
        version_sources=data.version_source_ids,
        share_sets=share_sets(data.shares),
        policy=policy,
    )


def fraction_column(fraction: Fraction) -> Decimal:
    exact = Decimal(fraction.numerator) / Decimal(fraction.denominator)
    return exact.quantize(_FRACTION_PLACES, rounding=ROUND_HALF_EVEN)


def reversal_amounts(rows: Sequence[LedgerRow], amount: int) -> dict[str, int]:
    """Row id of each ATTRIBUTION row -> its (non-positive) part of reversing ``amount`` from
    what is left of the rows after earlier reversals."""
    originals = [r for r in rows if r.kind != "REVERSAL"]
    if not originals or amount <= 0:
        return {}
    currency = originals[0].currency
    left: dict[str, int] = {r.id: r.amount for r in originals}
    for r in rows:
        if r.kind == "REVERSAL" and r.reverses_id in left:
            left[r.reverses_id] += r.amount
    lines = [
        AttributionLine(
            source_id=r.source_id,
            creator_id=r.creator_id,
            amount=Money.of(max(left[r.id], 0), currency),
            token_count=r.token_count,
            token_fraction=Fraction(r.token_fraction),
            share=r.share,
        )
        for r in originals
    ]
    available = sum(line.amount.minor for line in lines)
    reversed_lines = reverse(lines, Money.of(min(amount, available), currency))
    return {r.id: line.amount.minor for r, line in zip(originals, reversed_lines, strict=True)}

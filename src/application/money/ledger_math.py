"""The ledger arithmetic shared by attribution, reversals and reinstatements (pure; see
docs/revenue-rules.md).

- A purchase funding several conversations divides its gross, and separately its fee, equally
  across them (largest remainder, smallest conversation id first), so the parts add up exactly.
- Money taken back (refunds, lost chargebacks) before attribution reduces the gross that is
  attributed; the processor keeps its fee, so the fee is not reduced.
- After attribution, a conversation's rows are brought to what attributing its remaining gross
  would give: the creators' total (``creators_pool``) and the platform's (``platform_part``).
  Creators who lose money get REVERSAL rows spread over their remaining lines in proportion to
  them (``domain.revenue.reverse``); creators who gain get REINSTATEMENT top-up rows spread by
  the attribution weights (``domain.revenue.spread``); the platform's change rides on the same
  rows, spread by the attribution weights. Either way the rows add up exactly to the change.
- A dispute won after it was lost gives its REVERSAL rows back exactly, row for row
  (``domain.revenue.reinstate``), before the conversation is brought to its target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from application.money.ports import AttributionInput, LedgerRow, PurchaseRecord
from domain.allocation import allocate_equally
from domain.ids import new_id
from domain.money import Money
from domain.revenue import (
    Attribution,
    AttributionLine,
    RevenuePolicy,
    ShareSet,
    attribute,
    reinstate,
    reverse,
    spread,
)
from domain.shares import RevenueShare

REVERSAL = "REVERSAL"
REINSTATEMENT = "REINSTATEMENT"
LATER_KINDS = frozenset({REVERSAL, REINSTATEMENT})
"""Rows about an earlier row (``reverses_id``); the others (ATTRIBUTION) are the lines."""
TOP_UP = ":top-up"
"""Suffix of the key of REINSTATEMENT rows that add to lines rather than negate a reversal."""

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


def platform_part(gross: Money, fee: Money, policy: RevenuePolicy) -> int:
    """What the platform keeps from ``gross`` once the fee and the creators are paid (negative
    when the fee is more than the gross: the platform's loss)."""
    return (gross - fee).minor - creators_pool(gross, fee, policy)


def conversation_targets(
    purchase: PurchaseRecord, taken: int, conversation_id: str, funded: Sequence[str], policy: RevenuePolicy
) -> tuple[int, int]:
    """(creators, platform): what an attributed conversation's rows must add up to once
    ``taken`` of its purchase went back to the buyer."""
    gross, fee = conversation_part(purchase, taken, conversation_id, funded)
    return creators_pool(gross, fee, policy), platform_part(gross, fee, policy)


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


def attribution_rows(
    data: AttributionInput, taken: int, policy: RevenuePolicy, at: datetime
) -> list[LedgerRow]:
    """The ATTRIBUTION rows of one conversation (what the attribution job writes), for a
    conversation attributed late: one that had nothing to pay when the job saw it, until a
    dispute was won back."""
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
            token_fraction=fraction_column(line.token_fraction),
            share=line.share,
            created_at=at,
        )
        for line in attribute_conversation(data, taken, policy).lines
    ]


def fraction_column(fraction: Fraction) -> Decimal:
    exact = Decimal(fraction.numerator) / Decimal(fraction.denominator)
    return exact.quantize(_FRACTION_PLACES, rounding=ROUND_HALF_EVEN)


def is_posted(rows: Sequence[LedgerRow], key: str) -> bool:
    """Whether an event's rows (its key, or its top-up key) are among ``rows``."""
    return any(r.reversal_key in (key, key + TOP_UP) for r in rows)


def _line_of(rows: Sequence[LedgerRow]) -> dict[str, str]:
    """Row id -> the id of the line (ATTRIBUTION row) it is about."""
    by_id = {r.id: r for r in rows}
    out: dict[str, str] = {}
    for r in rows:
        target = r
        while target.kind in LATER_KINDS and target.reverses_id in by_id:
            target = by_id[target.reverses_id]
        out[r.id] = target.id
    return out


def _as_line(row: LedgerRow, amount: int, platform: int) -> AttributionLine:
    return AttributionLine(
        source_id=row.source_id,
        creator_id=row.creator_id,
        amount=Money.of(amount, row.currency),
        token_count=row.token_count,
        token_fraction=Fraction(row.token_fraction),
        share=row.share,
        platform_share=Money.of(platform, row.currency),
    )


def lines_now(rows: Sequence[LedgerRow]) -> list[tuple[LedgerRow, AttributionLine]]:
    """Each line's ATTRIBUTION row with what the line holds now, net of every later row."""
    originals = [r for r in rows if r.kind not in LATER_KINDS]
    line_of = _line_of(rows)
    held = {r.id: [0, 0] for r in originals}
    for r in rows:
        if line_of[r.id] in held:
            held[line_of[r.id]][0] += r.amount
            held[line_of[r.id]][1] += r.platform_share
    return [(r, _as_line(r, held[r.id][0], held[r.id][1])) for r in originals]


def _later_row(
    original: LedgerRow, kind: str, amount: int, platform: int, *, reverses_id: str, key: str, at: datetime
) -> LedgerRow:
    return replace(
        original,
        id=new_id(),
        kind=kind,
        amount=amount,
        platform_share=platform,
        reverses_id=reverses_id,
        reversal_key=key,
        payout_status="PENDING",
        payout_id=None,
        created_at=at,
    )


def adjustment_rows(
    rows: Sequence[LedgerRow], *, creators: int, platform: int, key: str, at: datetime
) -> list[LedgerRow]:
    """The rows bringing one conversation's rows to ``creators`` (their amounts) and
    ``platform`` (their platform shares). Creators losing: REVERSAL rows under ``key``, in
    proportion to what each line holds (never below zero). Creators gaining: REINSTATEMENT rows
    under ``key + ":top-up"`` to the ATTRIBUTION rows, spread by the attribution weights. The
    platform's change goes on the same rows, spread by the attribution weights. Rows that
    would carry nothing are left out; no change, no rows."""
    current = lines_now(rows)
    if not current:
        return []
    lines = [line for _, line in current]
    currency = lines[0].amount.currency
    change = creators - sum(line.amount.minor for line in lines)
    platform_change = platform - sum(line.platform_share.minor for line in lines)
    if change < 0:
        held = [replace(line, amount=Money(max(line.amount.minor, 0), currency)) for line in lines]
        available = sum(line.amount.minor for line in held)
        parts = [p.amount.minor for p in reverse(held, Money(min(-change, available), currency))]
    else:
        parts = [p.minor for p in spread(lines, Money(change, currency))]
    platform_parts = [p.minor for p in spread(lines, Money(platform_change, currency))]
    gaining = change > 0 or (change == 0 and platform_change > 0)
    kind, row_key = (REINSTATEMENT, key + TOP_UP) if gaining else (REVERSAL, key)
    return [
        _later_row(row, kind, amount, share, reverses_id=row.id, key=row_key, at=at)
        for (row, _), amount, share in zip(current, parts, platform_parts, strict=True)
        if amount or share
    ]


def reinstatement_rows(
    rows: Sequence[LedgerRow], *, reversal_key: str, key: str, at: datetime
) -> list[LedgerRow]:
    """REINSTATEMENT rows under ``key`` giving back the REVERSAL rows posted under
    ``reversal_key`` exactly: each negates one of them (``reverses_id``), amount and platform
    share, so together they add up to exactly what was reversed."""
    reversals = [r for r in rows if r.kind == REVERSAL and r.reversal_key == reversal_key]
    given_back = reinstate([_as_line(r, r.amount, r.platform_share) for r in reversals])
    return [
        _later_row(
            r, REINSTATEMENT, line.amount.minor, line.platform_share.minor, reverses_id=r.id, key=key, at=at
        )
        for r, line in zip(reversals, given_back, strict=True)
    ]

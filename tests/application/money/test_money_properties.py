"""Property tests of the ledger arithmetic (pure): splits add up, reversals cancel exactly,
totals converge whatever the order money is taken back in."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from application.money import ledger_math as lm
from application.money.ports import AttributionInput, LedgerRow, PurchaseRecord
from domain.revenue import RevenuePolicy

SHARES = {
    "s1": {"ana": Decimal("0.5"), "bo": Decimal("0.3"), "cy": Decimal("0.2")},
    "s2": {"dee": Decimal(1)},
    "s3": {"ana": Decimal("0.3333"), "eve": Decimal("0.6667")},
}


def _purchase(amount: int, fee: int) -> PurchaseRecord:
    return PurchaseRecord(
        id="p",
        purchaser_user_id="u",
        chatbot_id="b",
        processor="SANDBOX",
        external_payment_id="pay",
        external_checkout_id=None,
        currency="USD",
        amount=amount,
        fee=fee,
        net=amount - fee,
        refunded=0,
        status="COMPLETED",
    )


def _rows(
    purchase: PurchaseRecord,
    conversation: str,
    funded: tuple[str, ...],
    tokens: dict[str, int],
    taken: int,
    bps: int,
) -> list[LedgerRow]:
    data = AttributionInput(
        conversation_id=conversation,
        purchaser_user_id="u",
        purchase=purchase,
        funded_conversation_ids=funded,
        source_tokens=tokens,
        version_source_ids=frozenset(SHARES),
        shares=SHARES,
    )
    attribution = lm.attribute_conversation(data, taken, RevenuePolicy(platform_share_bps=bps))
    return [
        LedgerRow(
            id=f"{conversation}-{n}",
            conversation_id=conversation,
            purchase_id="p",
            source_id=line.source_id,
            creator_id=line.creator_id,
            purchaser_user_id="u",
            kind="ATTRIBUTION",
            amount=line.amount.minor,
            platform_share=line.platform_share.minor,
            currency="USD",
            token_count=line.token_count,
            token_fraction=Decimal(0),
            share=line.share,
        )
        for n, line in enumerate(attribution.lines)
    ]


AT = datetime(2026, 1, 1, tzinfo=UTC)
amounts = st.integers(min_value=1, max_value=10_000_000)
bps = st.integers(min_value=0, max_value=10_000)
token_maps = st.dictionaries(
    st.sampled_from(sorted(SHARES)), st.integers(min_value=0, max_value=50_000), max_size=3
)


@given(
    amounts, st.integers(min_value=0, max_value=400), st.integers(min_value=1, max_value=12), bps, token_maps
)
def test_a_purchase_splits_exactly_across_its_conversations(
    amount: int, fee: int, k: int, share: int, tokens: dict[str, int]
) -> None:
    purchase = _purchase(amount, min(fee, amount))
    funded = tuple(f"c{n:02d}" for n in range(k))
    grosses, fees, creators, platform = 0, 0, 0, 0
    policy = RevenuePolicy(platform_share_bps=share)
    for conversation in funded:
        gross, fee_part = lm.conversation_part(purchase, 0, conversation, funded)
        grosses += gross.minor
        fees += fee_part.minor
        rows = _rows(purchase, conversation, funded, tokens, 0, share)
        assert all(r.amount >= 0 for r in rows)
        assert sum(r.amount for r in rows) == lm.creators_pool(gross, fee_part, policy)
        # gross = fee + platform + creators, with the platform's part carried by the rows
        assert gross.minor == fee_part.minor + sum(r.platform_share + r.amount for r in rows)
        creators += sum(r.amount for r in rows)
        platform += sum(r.platform_share for r in rows)
    assert (grosses, fees) == (purchase.amount, purchase.fee)
    assert creators <= max(purchase.amount - purchase.fee, 0)
    assert purchase.amount == purchase.fee + platform + creators


def _take_back(rows: list[LedgerRow], purchase: PurchaseRecord, taken: int, key: str, bps: int) -> None:
    creators, platform = lm.conversation_targets(purchase, taken, "c", ("c",), RevenuePolicy(bps))
    rows += lm.adjustment_rows(rows, creators=creators, platform=platform, key=key, at=AT)


def _lines_never_below_zero(rows: list[LedgerRow]) -> None:
    for _, line in lm.lines_now(rows):
        assert not line.amount.is_negative()


@given(
    amounts,
    st.integers(min_value=0, max_value=400),
    bps,
    token_maps,
    st.lists(st.integers(min_value=1, max_value=10_000_000), min_size=1, max_size=6),
)
def test_successive_takebacks_reach_the_target_and_never_go_below_zero(
    amount: int, fee: int, share: int, tokens: dict[str, int], refunds: list[int]
) -> None:
    purchase = _purchase(amount, min(fee, amount))
    policy = RevenuePolicy(platform_share_bps=share)
    rows = _rows(purchase, "c", ("c",), tokens, 0, share)
    if not rows:
        return  # no sources at all: the platform kept everything, nothing to reverse
    taken = 0
    for n, refund in enumerate([*refunds, amount]):  # finally everything is taken back
        taken = min(amount, taken + refund)
        before = len(rows)
        _take_back(rows, purchase, taken, f"refund:{n}", share)
        new = rows[before:]
        assert all(r.kind == "REVERSAL" and r.amount <= 0 and r.reversal_key == f"refund:{n}" for r in new)
        gross, fee_part = lm.conversation_part(purchase, taken, "c", ("c",))
        creators = sum(r.amount for r in rows)
        platform = sum(r.platform_share for r in rows)
        assert creators == lm.creators_pool(gross, fee_part, policy)
        assert platform == lm.platform_part(gross, fee_part, policy)
        assert gross.minor == fee_part.minor + platform + creators
        _lines_never_below_zero(rows)
    # everything back: the creators hold nothing and the platform has paid the fee
    assert sum(r.amount for r in rows) == 0
    assert sum(r.platform_share for r in rows) == -purchase.fee


@given(
    amounts,
    bps,
    token_maps,
    st.lists(st.integers(min_value=1, max_value=1_000_000), min_size=2, max_size=5),
    st.randoms(),
)
def test_the_order_of_takebacks_does_not_change_the_totals(
    amount: int, share: int, tokens: dict[str, int], refunds: list[int], rnd: object
) -> None:
    purchase = _purchase(amount, 0)

    def final_totals(order: list[int]) -> tuple[int, int]:
        rows = _rows(purchase, "c", ("c",), tokens, 0, share)
        taken = 0
        for n, refund in enumerate(order):
            taken = min(amount, taken + refund)
            _take_back(rows, purchase, taken, f"r{n}", share)
        return sum(r.amount for r in rows), sum(r.platform_share for r in rows)

    shuffled = list(refunds)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert final_totals(refunds) == final_totals(shuffled)


@given(amounts, st.integers(min_value=0, max_value=400), bps, token_maps, st.data())
def test_a_chargeback_won_back_gives_its_reversal_back_exactly(
    amount: int, fee: int, share: int, tokens: dict[str, int], data: st.DataObject
) -> None:
    purchase = _purchase(amount, min(fee, amount))
    rows = _rows(purchase, "c", ("c",), tokens, 0, share)
    refunded = data.draw(st.integers(min_value=0, max_value=amount))
    _take_back(rows, purchase, refunded, "refund:1", share)
    before = {(r.source_id, r.creator_id): r for r in rows if r.kind == "ATTRIBUTION"}
    held = {k: (line.amount.minor, line.platform_share.minor) for k, line in _held(rows).items()}
    _take_back(rows, purchase, amount, "chargeback:x", share)  # lost: the rest goes back
    reversal = [r for r in rows if r.reversal_key == "chargeback:x"]
    given_back = lm.reinstatement_rows(rows, reversal_key="chargeback:x", key="chargeback-won:x", at=AT)
    assert [(g.reverses_id, g.amount, g.platform_share) for g in given_back] == [
        (r.id, -r.amount, -r.platform_share) for r in reversal
    ]
    assert all(g.kind == "REINSTATEMENT" and g.amount >= 0 for g in given_back)
    rows += given_back
    # nothing else moved in between, so no top-up or correction is needed: back where it was
    creators, platform = lm.conversation_targets(purchase, refunded, "c", ("c",), RevenuePolicy(share))
    assert lm.adjustment_rows(rows, creators=creators, platform=platform, key="chargeback-won:x", at=AT) == []
    assert {k: (line.amount.minor, line.platform_share.minor) for k, line in _held(rows).items()} == held
    assert set(before) == set(_held(rows))


def _held(rows: list[LedgerRow]) -> dict[tuple[str, str], Any]:
    return {(r.source_id, r.creator_id): line for r, line in lm.lines_now(rows)}

"""Property tests of the ledger arithmetic (pure): splits add up, reversals cancel exactly,
totals converge whatever the order money is taken back in."""

from __future__ import annotations

from decimal import Decimal

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
            currency="USD",
            token_count=line.token_count,
            token_fraction=Decimal(0),
            share=line.share,
        )
        for n, line in enumerate(attribution.lines)
    ]


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
    grosses, fees, creators = 0, 0, 0
    policy = RevenuePolicy(platform_share_bps=share)
    for conversation in funded:
        gross, fee_part = lm.conversation_part(purchase, 0, conversation, funded)
        grosses += gross.minor
        fees += fee_part.minor
        rows = _rows(purchase, conversation, funded, tokens, 0, share)
        assert all(r.amount >= 0 for r in rows)
        assert sum(r.amount for r in rows) == lm.creators_pool(gross, fee_part, policy)
        creators += sum(r.amount for r in rows)
    assert (grosses, fees) == (purchase.amount, purchase.fee)
    assert creators <= max(purchase.amount - purchase.fee, 0)


@given(
    amounts,
    st.integers(min_value=0, max_value=400),
    bps,
    token_maps,
    st.lists(st.integers(min_value=1, max_value=10_000_000), min_size=1, max_size=6),
)
def test_successive_takebacks_reverse_to_the_target_and_never_below_zero(
    amount: int, fee: int, share: int, tokens: dict[str, int], refunds: list[int]
) -> None:
    purchase = _purchase(amount, min(fee, amount))
    policy = RevenuePolicy(platform_share_bps=share)
    rows = _rows(purchase, "c", ("c",), tokens, 0, share)
    taken = 0
    for n, refund in enumerate([*refunds, amount]):  # finally everything is taken back
        taken = min(amount, taken + refund)
        gross, fee_part = lm.conversation_part(purchase, taken, "c", ("c",))
        target = lm.creators_pool(gross, fee_part, policy)
        current = sum(r.amount for r in rows)
        parts = lm.reversal_amounts(rows, current - target)
        assert sum(parts.values()) == -max(current - target, 0)
        originals = {r.id: r for r in rows if r.kind == "ATTRIBUTION"}
        for row_id, part in parts.items():
            rows.append(
                LedgerRow(
                    id=f"rev{n}-{row_id}",
                    conversation_id="c",
                    purchase_id="p",
                    source_id=originals[row_id].source_id,
                    creator_id=originals[row_id].creator_id,
                    purchaser_user_id="u",
                    kind="REVERSAL",
                    amount=part,
                    currency="USD",
                    token_count=0,
                    token_fraction=Decimal(0),
                    share=originals[row_id].share,
                    reverses_id=row_id,
                    reversal_key=f"refund:{n}",
                )
            )
        assert sum(r.amount for r in rows) == min(target, sum(o.amount for o in originals.values()))
        for original in originals.values():
            assert original.amount + sum(r.amount for r in rows if r.reverses_id == original.id) >= 0
    assert sum(r.amount for r in rows) == 0


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
    policy = RevenuePolicy(platform_share_bps=share)

    def final_total(order: list[int]) -> int:
        rows = _rows(purchase, "c", ("c",), tokens, 0, share)
        taken = 0
        for n, refund in enumerate(order):
            taken = min(amount, taken + refund)
            gross, fee_part = lm.conversation_part(purchase, taken, "c", ("c",))
            current = sum(r.amount for r in rows)
            for row_id, part in lm.reversal_amounts(
                rows, current - lm.creators_pool(gross, fee_part, policy)
            ).items():
                rows.append(
                    LedgerRow(
                        id=f"rev{n}-{row_id}",
                        conversation_id="c",
                        purchase_id="p",
                        source_id="x",
                        creator_id="x",
                        purchaser_user_id="u",
                        kind="REVERSAL",
                        amount=part,
                        currency="USD",
                        token_count=0,
                        token_fraction=Decimal(0),
                        share=Decimal(1),
                        reverses_id=row_id,
                        reversal_key=f"r{n}",
                    )
                )
        return sum(r.amount for r in rows)

    shuffled = list(refunds)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert final_total(refunds) == final_total(shuffled)

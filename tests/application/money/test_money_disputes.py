"""Disputes won back, as properties: the dispute state machine converges whatever order the
processor's reports arrive in, and the ledger effects (the real ``purchase_effects`` over an
in-memory ledger) keep every conversation exactly at what its purchase's remaining money pays,
with each reinstatement negating its reversal row for row."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from application.errors import Conflict
from application.money import ledger_math as lm
from application.money import purchase_effects as effects
from application.money.disputes import LOST, OPEN, WON, DisputeState, LedgerAction, next_state
from application.money.ports import AttributionInput, LedgerRow, PurchaseRecord
from domain.revenue import RevenuePolicy

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PURCHASE_PLACEHOLDER = PurchaseRecord(
    id="p", purchaser_user_id="u", chatbot_id="b", processor="SANDBOX", external_payment_id="pay",
    external_checkout_id=None, currency="USD", amount=0, fee=0, net=0, refunded=0, status="COMPLETED",
)  # fmt: skip
"""What the ledger reads back; the effects replace it by the locked purchase they hold."""
SHARES = {
    "s1": {"ana": Decimal("0.5"), "bo": Decimal("0.3"), "cy": Decimal("0.2")},
    "s2": {"dee": Decimal(1)},
}


# ---- the state machine ---------------------------------------------------------------------


def _apply(reports: Sequence[tuple[str, datetime]]) -> tuple[DisputeState | None, int, int]:
    """Final state, how many times money was taken, how many times it was given back."""
    state: DisputeState | None = None
    taken = given = 0
    for outcome, at in reports:
        step = next_state(state, outcome, at)
        if step is None:
            continue
        state, action = step
        taken += action in (LedgerAction.REVERSE, LedgerAction.REVERSE_AND_REINSTATE)
        given += action in (LedgerAction.REINSTATE, LedgerAction.REVERSE_AND_REINSTATE)
    return state, taken, given


@st.composite
def dispute_stories(draw: st.DrawFn) -> list[tuple[str, datetime]]:
    """What a processor reports about one dispute, in the order it happened: maybe an opening,
    maybe a warning closed in our favour, maybe a loss, maybe a win after that loss; each
    report possibly delivered twice (same time)."""
    minutes = iter(sorted(draw(st.lists(st.integers(0, 10_000), min_size=4, max_size=4))))
    story: list[tuple[str, datetime]] = []
    if draw(st.booleans()):
        story.append((OPEN, T0 + timedelta(minutes=next(minutes))))
    else:
        next(minutes)
    if draw(st.booleans()):
        story.append((WON, T0 + timedelta(minutes=next(minutes))))  # an inquiry closed
    else:
        next(minutes)
    lost = draw(st.booleans())
    if lost:
        story.append((LOST, T0 + timedelta(minutes=next(minutes))))
    if lost and draw(st.booleans()):
        story.append((WON, T0 + timedelta(minutes=next(minutes))))  # won back
    return story + draw(st.lists(st.sampled_from(story), max_size=2)) if story else story


@given(dispute_stories(), st.randoms())
def test_a_dispute_ends_the_same_whatever_order_its_reports_arrive_in(
    story: list[tuple[str, datetime]], rnd: object
) -> None:
    in_order = _apply(story)
    shuffled = list(story)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    state, taken, given_back = _apply(shuffled)
    expected, expected_taken, expected_given = in_order
    assert (state and state.status) == (expected and expected.status)
    assert taken - given_back == expected_taken - expected_given  # the same money, in the end
    assert taken <= 1
    assert given_back <= 1  # money is taken at most once and given back at most once
    won_back = any(o == WON and t >= max((t for o2, t in story if o2 == LOST), default=t) for o, t in story)
    lost = any(o == LOST for o, _ in story)
    assert (state is not None and state.status == LOST) == (lost and not won_back)


def test_every_order_of_a_loss_won_back_ends_won_with_the_money_back() -> None:
    story = [(OPEN, T0), (LOST, T0 + timedelta(days=1)), (WON, T0 + timedelta(days=30))]
    for order in itertools.permutations(story):
        state, taken, given_back = _apply(order)
        assert state is not None
        assert (state.status, state.lost_at, taken, given_back) == ("WON", T0 + timedelta(days=1), 1, 1)
    # a win reported before the loss it answers (an inquiry closed) does not undo a later loss
    inquiry = [(WON, T0), (LOST, T0 + timedelta(days=1))]
    for order in itertools.permutations(inquiry):
        state, taken, given_back = _apply(order)
        assert state is not None
        assert (state.status, taken, given_back) == ("LOST", 1, 0)


# ---- the ledger effects over an in-memory ledger -------------------------------------------


@dataclass
class MemoryLedger:
    """The ``RevenueLedger`` methods the purchase effects use, with its unique key."""

    funded: list[str]
    tokens: dict[str, dict[str, int]]
    rows: list[LedgerRow] = field(default_factory=list)
    attributed: set[str] = field(default_factory=set)

    async def attributed_without_rows(self, purchase_id: str) -> list[str]:
        with_rows = {r.conversation_id for r in self.rows}
        return sorted(self.attributed - with_rows)

    async def attribution_input(self, conversation_id: str) -> AttributionInput | None:
        return self.input(conversation_id, PURCHASE_PLACEHOLDER)

    def input(self, conversation_id: str, purchase: PurchaseRecord) -> AttributionInput:
        return AttributionInput(
            conversation_id=conversation_id,
            purchaser_user_id="u",
            purchase=purchase,
            funded_conversation_ids=tuple(self.funded),
            source_tokens=self.tokens[conversation_id],
            version_source_ids=frozenset(SHARES),
            shares=SHARES,
        )

    async def rows_of_purchase(self, purchase_id: str) -> list[LedgerRow]:
        return sorted((r for r in self.rows if r.purchase_id == purchase_id), key=lambda r: r.conversation_id)

    async def funded_conversations(self, purchase_id: str) -> list[str]:
        return sorted(self.funded)

    async def add_rows(self, rows: Sequence[LedgerRow]) -> None:
        keys = {(r.conversation_id, r.source_id, r.creator_id, r.kind, r.reversal_key) for r in self.rows}
        for r in rows:
            key = (r.conversation_id, r.source_id, r.creator_id, r.kind, r.reversal_key)
            if key in keys:
                raise Conflict("already recorded", code="revenue-already-recorded")
            keys.add(key)
        self.rows += rows


@dataclass
class Book:
    """A purchase, its refunds and disputes, and its ledger, changed as ``ProcessWebhook`` does."""

    purchase: PurchaseRecord
    ledger: MemoryLedger
    policy: RevenuePolicy
    disputes: dict[str, DisputeState] = field(default_factory=dict)
    amounts: dict[str, int] = field(default_factory=dict)

    @property
    def attributed(self) -> set[str]:
        return self.ledger.attributed

    def taken(self, extra: int = 0) -> int:
        lost = sum(self.amounts[d] for d, s in self.disputes.items() if s.status == LOST)
        return lm.taken_back(self.purchase, lost + extra)

    async def refund(self, n: int, amount: int) -> None:
        amount = min(amount, self.purchase.amount - self.purchase.refunded)
        if amount <= 0:
            return
        self.purchase.refunded += amount
        await effects.settle_attributed(
            self.purchase,
            self.taken(),
            f"refund:{n}",
            ledger=self.ledger,
            policy=self.policy,
            at=T0,  # type: ignore[arg-type]
        )

    async def report(self, dispute: str, outcome: str, at: datetime) -> None:
        step = next_state(self.disputes.get(dispute), outcome, at)
        if step is None:
            return
        self.disputes[dispute], action = step
        kw = {"ledger": self.ledger, "policy": self.policy, "at": T0}
        if action is LedgerAction.REVERSE_AND_REINSTATE:
            await effects.settle_attributed(
                self.purchase,
                self.taken(self.amounts[dispute]),
                f"chargeback:{dispute}",
                **kw,  # type: ignore[arg-type]
            )
        if action is LedgerAction.REVERSE:
            await effects.settle_attributed(self.purchase, self.taken(), f"chargeback:{dispute}", **kw)  # type: ignore[arg-type]
        elif action is not LedgerAction.NOTHING:
            await effects.reinstate_chargeback(self.purchase, dispute, self.taken(), **kw)  # type: ignore[arg-type]

    def attribute(self, conversation: str) -> None:
        if conversation in self.attributed:
            return
        self.attributed.add(conversation)
        taken = self.taken()
        if taken >= self.purchase.amount:
            return  # everything went back before attribution: no rows
        data = self.ledger.input(conversation, self.purchase)
        for n, line in enumerate(lm.attribute_conversation(data, taken, self.policy).lines):
            self.ledger.rows.append(
                LedgerRow(
                    id=f"{conversation}-a{n}",
                    conversation_id=conversation,
                    purchase_id=self.purchase.id,
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
            )

    def check(self) -> None:
        rows = self.ledger.rows
        by_id = {r.id: r for r in rows}
        for conversation in self.attributed:
            mine = [r for r in rows if r.conversation_id == conversation]
            if not mine:
                continue
            gross, fee = lm.conversation_part(self.purchase, self.taken(), conversation, self.ledger.funded)
            creators, platform = lm.conversation_targets(
                self.purchase, self.taken(), conversation, self.ledger.funded, self.policy
            )
            assert sum(r.amount for r in mine) == creators
            assert sum(r.platform_share for r in mine) == platform
            assert gross.minor == fee.minor + platform + creators
            assert all(not line.amount.is_negative() for _, line in lm.lines_now(mine))
        for r in rows:
            assert (r.kind == "REVERSAL") == (r.amount < 0) or r.amount == 0
            if r.kind == "REINSTATEMENT" and not r.reversal_key.endswith(lm.TOP_UP):
                negated = by_id[r.reverses_id or ""]
                assert negated.kind == "REVERSAL"
                assert negated.reversal_key == r.reversal_key.replace("chargeback-won:", "chargeback:")
                assert (r.amount, r.platform_share) == (-negated.amount, -negated.platform_share)
        for dispute, state in self.disputes.items():
            reversal = [r for r in rows if r.reversal_key == f"chargeback:{dispute}"]
            negations = [
                r for r in rows if r.reversal_key == f"chargeback-won:{dispute}" and r.kind == "REINSTATEMENT"
            ]
            if state.status == WON and state.lost_at is not None:
                # won back: every reversal row of the dispute is given back exactly once
                assert sorted(r.reverses_id or "" for r in negations) == sorted(r.id for r in reversal)
                assert sum(r.amount for r in reversal + negations) == 0
                assert sum(r.platform_share for r in reversal + negations) == 0
            else:
                assert negations == []


@st.composite
def lifecycles(draw: st.DrawFn) -> tuple[Book, list[tuple[str, ...]]]:
    amount = draw(st.integers(1, 50_000))
    purchase = PurchaseRecord(
        id="p", purchaser_user_id="u", chatbot_id="b", processor="SANDBOX", external_payment_id="pay",
        external_checkout_id=None, currency="USD", amount=amount, fee=min(amount, draw(st.integers(0, 400))),
        net=0, refunded=0, status="COMPLETED",
    )  # fmt: skip
    conversations = [f"c{n}" for n in range(draw(st.integers(1, 3)))]
    tokens = {
        c: draw(st.dictionaries(st.sampled_from(sorted(SHARES)), st.integers(0, 5_000), max_size=2))
        for c in conversations
    }
    book = Book(
        purchase=purchase,
        ledger=MemoryLedger(funded=conversations, tokens=tokens),
        policy=RevenuePolicy(draw(st.integers(0, 10_000))),
    )
    events: list[tuple[str, ...]] = [("attribute", c) for c in conversations]
    for n in range(draw(st.integers(0, 3))):
        events.append(("refund", str(n), str(draw(st.integers(1, amount)))))
    for n in range(draw(st.integers(1, 2))):
        dispute = f"d{n}"
        book.amounts[dispute] = draw(st.integers(1, amount))
        lost_at = T0 + timedelta(hours=draw(st.integers(0, 100)))
        events.append(("report", dispute, LOST, lost_at.isoformat()))
        if draw(st.booleans()):
            won_at = lost_at + timedelta(hours=draw(st.integers(0, 100)))
            events.append(("report", dispute, WON, won_at.isoformat()))
    order = draw(st.permutations(events))
    return book, list(order)


async def _play(book: Book, events: Sequence[tuple[str, ...]]) -> None:
    for event in events:
        if event[0] == "attribute":
            book.attribute(event[1])
        elif event[0] == "refund":
            await book.refund(int(event[1]), int(event[2]))
        else:
            await book.report(event[1], event[2], datetime.fromisoformat(event[3]))
        book.check()


@settings(max_examples=200, deadline=None)
@given(lifecycles(), st.randoms())
def test_losses_won_back_keep_every_conversation_exact_in_any_order(
    lifecycle: tuple[Book, list[tuple[str, ...]]], rnd: object
) -> None:
    book, events = lifecycle
    asyncio.run(_play(book, events))
    # the same reports in another order (attribution moved too) end with the same money
    again = replace(
        book,
        purchase=replace(book.purchase, refunded=0),
        ledger=MemoryLedger(funded=book.ledger.funded, tokens=book.ledger.tokens),
        disputes={},
    )
    reordered = list(events)
    rnd.shuffle(reordered)  # type: ignore[attr-defined]
    asyncio.run(_play(again, reordered))
    assert again.taken() == book.taken()
    assert {d: s.status for d, s in again.disputes.items()} == {d: s.status for d, s in book.disputes.items()}
    for mine in (book, again):
        mine.check()
    totals = [
        {
            c: (
                sum(r.amount for r in b.ledger.rows if r.conversation_id == c),
                sum(r.platform_share for r in b.ledger.rows if r.conversation_id == c),
            )
            for c in b.ledger.funded
        }
        for b in (book, again)
    ]
    for c in book.ledger.funded:
        # a conversation attributed after everything went back has no rows in one order, and in
        # another rows where the creators hold nothing and the platform has paid its fee part
        _, fee = lm.conversation_part(book.purchase, book.taken(), c, book.ledger.funded)
        assert totals[0][c] == totals[1][c] or {totals[0][c], totals[1][c]} == {(0, 0), (0, -fee.minor)}


def _ten_dollar_book() -> Book:
    """The docs' example: $10.00, 59¢ fee, 20% platform share; sources used 1200 : 700."""
    purchase = replace(PURCHASE_PLACEHOLDER, amount=1000, fee=59, net=941)
    ledger = MemoryLedger(funded=["c"], tokens={"c": {"s1": 1200, "s2": 700}})
    return Book(purchase=purchase, ledger=ledger, policy=RevenuePolicy(2000))


def test_a_loss_deducted_before_attribution_is_topped_up_when_won_back() -> None:
    book = _ten_dollar_book()
    book.amounts["d"] = 400

    async def story() -> None:
        await book.report("d", LOST, T0)
        book.attribute("c")  # attributed on 600: creators 433
        book.check()
        assert sum(r.amount for r in book.ledger.rows) == 433
        await book.report("d", WON, T0 + timedelta(days=20))
        book.check()

    asyncio.run(story())
    top_ups = [r for r in book.ledger.rows if r.kind == "REINSTATEMENT"]
    assert {r.reversal_key for r in top_ups} == {"chargeback-won:d:top-up"}
    assert all(r.amount >= 0 and book.ledger.rows[0].kind == "ATTRIBUTION" for r in top_ups)
    assert sum(r.amount for r in top_ups) == 753 - 433
    assert sum(r.platform_share for r in book.ledger.rows) == 188


def test_a_refund_between_the_loss_and_the_win_is_settled_with_the_win() -> None:
    book = _ten_dollar_book()
    book.amounts["d"] = 800

    async def story() -> None:
        book.attribute("c")  # 753
        await book.report("d", LOST, T0)  # 800 back: creators hold pool(200) = 113
        await book.refund(1, 200)  # everything is back: 0
        await book.report("d", WON, T0 + timedelta(days=20))
        book.check()

    asyncio.run(story())
    won = [r for r in book.ledger.rows if r.reversal_key.startswith("chargeback-won:d")]
    negations = [r for r in won if r.kind == "REINSTATEMENT"]
    corrections = [r for r in won if r.kind == "REVERSAL"]
    # the reversal (753 - 113 = 640) comes back whole, then the refund that arrived meanwhile
    # takes its full weight: the creators end at pool(800) = 593
    assert sum(r.amount for r in negations) == 640
    assert sum(r.amount for r in corrections) == 593 - 640
    assert sum(r.amount for r in book.ledger.rows) == 593


def test_a_conversation_attributed_while_everything_was_charged_back_is_attributed_when_won_back() -> None:
    book = _ten_dollar_book()
    book.amounts["d"] = 1000

    async def story() -> None:
        await book.report("d", LOST, T0)
        book.attribute("c")  # nothing left to pay: attributed without rows
        assert book.ledger.rows == []
        await book.report("d", WON, T0 + timedelta(days=20))
        book.check()

    asyncio.run(story())
    assert {r.kind for r in book.ledger.rows} == {"ATTRIBUTION"}
    assert sum(r.amount for r in book.ledger.rows) == 753
    assert sum(r.platform_share for r in book.ledger.rows) == 188

"""A stateful test of the whole ledger (hypothesis ``RuleBasedStateMachine``) on SQLite.

Purchases, duplicate and reordered webhooks, partial and late refunds, chargebacks (lost,
won, and won back after they were lost), attribution runs and payouts, through the real use
cases, repositories and sandbox processor. After every step: each attributed conversation
holds exactly what its purchase's remaining money pays the creators and the platform (so
gross = fee + platform + creators, with the platform's part carried by the rows), no line is
reversed below zero, every reinstatement negates its reversal exactly, nothing is attributed
twice, summaries equal the sums of their rows, payouts equal the rows they paid and never
exceed the balance. At the end, once every held webhook is delivered, our records (purchases
and disputes) equal the processor's.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from collections.abc import Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from money_rig import MoneyRig
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.persistence.engine import create_engine
from adapters.persistence.migrate import upgrade
from adapters.persistence.models import Chargeback, Conversation, Payout, Purchase, RevenuePerConversation
from application.money import ledger_math
from application.money.run_payouts import RunPayoutsCommand
from application.money.summarize_revenue import SummarizeRevenueCommand
from application.payments.ports import WebhookDelivery
from domain.revenue import RevenuePolicy

T = TypeVar("T")
_TEMPLATE: list[Path] = []


def _template() -> Path:
    if not _TEMPLATE:
        path = Path(tempfile.mkdtemp()) / "template.db"
        asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
        _TEMPLATE.append(path)
    return _TEMPLATE[0]


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp())
        db = self.dir / "ledger.db"
        shutil.copy(_template(), db)
        self.loop = asyncio.new_event_loop()
        self.engine = create_engine(f"sqlite+aiosqlite:///{db}")
        self.rig = MoneyRig(self.engine, async_sessionmaker(self.engine, expire_on_commit=False))
        self.world = self.run(self.rig.seed(price=1000))
        self.run(self.rig.set_payout_account(self.world.creator_a, destination="acct_sbx_a"))
        self.run(self.rig.set_payout_account(self.world.creator_b, destination="acct_sbx_b"))
        self.held: list[WebhookDelivery] = []
        self.sent: list[WebhookDelivery] = []
        self.paid: list[str] = []  # sandbox payment ids
        self.open_disputes: list[str] = []
        self.lost_disputes: list[tuple[str, str]] = []  # (dispute id, payment id)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        try:
            while self.held:
                self.run(self.rig.deliver_and_process(self._fresh(self.held.pop(0))))
            self.run(self._matches_the_processor())
        finally:
            self.run(self.engine.dispose())
            self.loop.close()
            shutil.rmtree(self.dir, ignore_errors=True)

    async def _matches_the_processor(self) -> None:
        async with self.rig.factory() as s:
            purchases = list(
                await s.scalars(select(Purchase).where(Purchase.status.not_in(["PENDING", "FAILED"])))
            )
        for purchase in purchases:
            payment = self.rig.sandbox.ledger.get("payments", purchase.external_payment_id)
            assert payment is not None
            assert purchase.amount_cents == payment["amount"]
            assert purchase.refunded_cents == payment["amount_refunded"]
            assert purchase.processing_fee_cents == payment["fee"]
        async with self.rig.factory() as s:
            ours = {c.external_dispute_id: c for c in await s.scalars(select(Chargeback))}
        theirs = {d["id"]: d for d in self.rig.sandbox.ledger.values("disputes")}
        assert set(ours) == set(theirs)
        for dispute_id, dispute in theirs.items():
            status = {"needs_response": "OPEN", "won": "WON", "lost": "LOST"}[dispute["status"]]
            assert ours[dispute_id].status.value == status
            assert (ours[dispute_id].lost_at is not None) == (
                dispute["status"] == "lost" or "funds_reinstated" in dispute
            )

    def _fresh(self, delivery: WebhookDelivery) -> WebhookDelivery:
        """The same event signed now: a processor signs each (re)delivery when it sends it."""
        return self.rig.sandbox.sign(json.loads(delivery.body))

    def _take_sandbox_events(self) -> None:
        for queued in self.rig.sandbox.pending_events():
            self.held.append(self.rig.sandbox.sign(queued))
            self.rig.sandbox.ledger.remove_from_outbox(queued["id"])

    # ---- rules ------------------------------------------------------------------------------

    @rule(succeed=st.booleans())
    def buy(self, succeed: bool) -> None:
        _, checkout_id = self.run(self.rig.start_checkout(self.world))
        delivery = self.run(self.rig.sandbox.complete(checkout_id, succeed=succeed))
        self.held.append(delivery)
        checkout = self.rig.sandbox.checkout(checkout_id)
        if succeed and checkout.external_payment_id:
            self.paid.append(checkout.external_payment_id)

    @rule(shared=st.integers(min_value=0, max_value=500), own=st.integers(min_value=0, max_value=500))
    def buy_use_and_end(self, shared: int, own: int) -> None:
        """A whole happy purchase at once, so that later rules find attributed money to take back."""
        purchase_id, conversation_id = self.run(self.rig.buy(self.world))
        tokens = {k: v for k, v in {self.world.source_shared: shared, self.world.source_b: own}.items() if v}
        self.run(self.rig.use_and_end(conversation_id, tokens))
        self.paid.append(self.run(self.rig.purchase(purchase_id)).external_payment_id)

    @precondition(lambda self: self.held)
    @rule(seed=st.randoms())
    def deliver_everything(self, seed: Any) -> None:
        seed.shuffle(self.held)
        while self.held:
            delivery = self.held.pop()
            self.run(self.rig.deliver_and_process(self._fresh(delivery)))
            self.sent.append(delivery)

    @precondition(lambda self: self.held)
    @rule(pick=st.integers(min_value=0))
    def deliver(self, pick: int) -> None:
        delivery = self.held.pop(pick % len(self.held))  # any order: reordering
        self.run(self.rig.deliver_and_process(self._fresh(delivery)))
        self.sent.append(delivery)

    @precondition(lambda self: self.sent)
    @rule(pick=st.integers(min_value=0))
    def redeliver(self, pick: int) -> None:
        outcome = self.run(self.rig.deliver_and_process(self._fresh(self.sent[pick % len(self.sent)])))
        assert outcome.status == "ALREADY_DONE"

    @precondition(lambda self: self.paid)
    @rule(pick=st.integers(min_value=0), amount=st.one_of(st.none(), st.integers(min_value=1, max_value=700)))
    def refund(self, pick: int, amount: int | None) -> None:
        payment_id = self.paid[pick % len(self.paid)]
        payment = self.rig.sandbox.ledger.get("payments", payment_id) or {}
        left = payment.get("amount", 0) - payment.get("amount_refunded", 0)
        if left <= 0 or payment_id in self.open_disputes:
            return
        self.run(
            self.rig.sandbox.refund(
                payment_id,
                None if amount is None else min(amount, left),
                idempotency_key=f"refund-{len(self.rig.sandbox.ledger.keys('refunds'))}",
            )
        )
        self._take_sandbox_events()

    @precondition(lambda self: self.paid)
    @rule(pick=st.integers(min_value=0))
    def dispute(self, pick: int) -> None:
        payment_id = self.paid[pick % len(self.paid)]
        payment = self.rig.sandbox.ledger.get("payments", payment_id) or {}
        if (
            payment_id in self.open_disputes
            or payment.get("amount", 0) - payment.get("amount_refunded", 0) <= 0
        ):
            return
        delivery = self.run(self.rig.sandbox.open_dispute(payment_id))
        self.held.append(delivery)
        self.open_disputes.append(payment_id)

    @precondition(lambda self: self.open_disputes)
    @rule(won=st.booleans())
    def resolve(self, won: bool) -> None:
        payment_id = self.open_disputes.pop(0)
        [dispute] = [
            d
            for d in self.rig.sandbox.ledger.values("disputes")
            if d["payment"] == payment_id and d["status"] == "needs_response"
        ]
        self.held.append(self.run(self.rig.sandbox.resolve_dispute(dispute["id"], won=won)))
        if not won:
            self.paid.remove(payment_id)  # the bank took it all back: nothing left to refund
            self.lost_disputes.append((dispute["id"], payment_id))

    @precondition(lambda self: self.paid)
    @rule(pick=st.integers(min_value=0), days=st.integers(min_value=0, max_value=40))
    def lose_then_win_back(self, pick: int, days: int) -> None:
        """A whole dispute at once at the processor (opened, lost, won back ``days`` later); its
        three webhooks are held, to arrive in any order with everything else."""
        payment_id = self.paid[pick % len(self.paid)]
        payment = self.rig.sandbox.ledger.get("payments", payment_id) or {}
        if (
            payment_id in self.open_disputes
            or payment.get("amount", 0) - payment.get("amount_refunded", 0) <= 0
        ):
            return
        opened = self.run(self.rig.sandbox.open_dispute(payment_id))
        dispute_id = json.loads(opened.body)["data"]["object"]["id"]
        lost = self.run(self.rig.sandbox.resolve_dispute(dispute_id, won=False))
        self.rig.clock.advance(timedelta(days=days))
        self.held += [opened, lost, self.run(self.rig.sandbox.reinstate_dispute(dispute_id))]

    @precondition(lambda self: self.lost_disputes)
    @rule(pick=st.integers(min_value=0), hours=st.integers(min_value=0, max_value=72))
    def win_back(self, pick: int, hours: int) -> None:
        """A lost dispute won back later: the money comes back to the seller."""
        dispute_id, payment_id = self.lost_disputes.pop(pick % len(self.lost_disputes))
        self.rig.clock.advance(timedelta(hours=hours))
        self.held.append(self.run(self.rig.sandbox.reinstate_dispute(dispute_id)))
        self.paid.append(payment_id)  # the seller holds the money again: it can be refunded

    @rule(shared=st.integers(min_value=0, max_value=500), own=st.integers(min_value=0, max_value=500))
    def end_a_conversation(self, shared: int, own: int) -> None:
        async def go() -> None:
            async with self.rig.factory() as s:
                conversation = await s.scalar(
                    select(Conversation).where(Conversation.status == "ACTIVE").limit(1)
                )
            if conversation is not None:
                tokens = {
                    k: v for k, v in {self.world.source_shared: shared, self.world.source_b: own}.items() if v
                }
                await self.rig.use_and_end(conversation.id, tokens)

        self.run(go())

    @rule(days=st.integers(min_value=0, max_value=9))
    def attribute(self, days: int) -> None:
        self.rig.clock.advance(timedelta(days=days))
        self.run(self.rig.attribute())
        self.run(self._summaries_equal_rows())

    @rule()
    def pay_out(self) -> None:
        async def go() -> None:
            async with self.rig.unit() as u:
                await u.payouts(RunPayoutsCommand())

        self.run(go())
        self._take_sandbox_events()

    # ---- invariants -------------------------------------------------------------------------

    async def _summaries_equal_rows(self) -> None:
        async with self.rig.unit() as u:
            summaries = (await u.summarize(SummarizeRevenueCommand())).rows
        rows = await self.rig.rows()
        for summary in summaries:
            mine = [
                r
                for r in rows
                if r.creator_id == summary.creator_id
                and r.currency == summary.currency
                and (r.created_at.year, r.created_at.month) == (summary.year, summary.month)
            ]
            assert summary.creator_share == sum(r.amount_cents for r in mine)
            assert summary.platform_share == sum(r.platform_share_cents for r in mine)
            assert summary.total_revenue == summary.creator_share + summary.platform_share
            assert summary.conversation_count == len(
                {r.conversation_id for r in mine if r.kind.value in ("ATTRIBUTION", "ENTERPRISE")}
            )

    @invariant()
    def ledger_holds(self) -> None:
        self.run(self._ledger_holds())

    async def _ledger_holds(self) -> None:
        policy = RevenuePolicy(platform_share_bps=self.rig.settings.platform_share_bps)
        async with self.rig.factory() as s:
            rows = list(await s.scalars(select(RevenuePerConversation)))
            purchases = {p.id: p for p in await s.scalars(select(Purchase))}
            chargebacks = list(await s.scalars(select(Chargeback)))
            funded: dict[str, list[str]] = {}
            attributed: dict[str, str] = {}
            for c in await s.scalars(select(Conversation).where(Conversation.purchase_id.is_not(None))):
                funded.setdefault(c.purchase_id, []).append(c.id)
                if c.attributed_at is not None:
                    attributed[c.id] = c.purchase_id
            payouts = list(await s.scalars(select(Payout)))
        lost: dict[str, int] = {}
        for c in chargebacks:
            if c.status.value == "LOST":
                lost[c.purchase_id] = lost.get(c.purchase_id, 0) + c.amount_cents
        for kind in ("REVERSAL", "REINSTATEMENT"):
            if any(r.kind.value == kind for r in rows):
                event(f"{kind} rows exist")
        if any(p.status.value == "COMPLETED" for p in payouts):
            event("a payout completed")
        keys = [(r.conversation_id, r.source_id, r.creator_id, r.kind, r.reversal_key) for r in rows]
        assert len(keys) == len(set(keys)), "something was attributed or reversed twice"
        by_id = {r.id: r for r in rows}

        def line_of(r: RevenuePerConversation) -> RevenuePerConversation:
            while r.reverses_id is not None:
                r = by_id[r.reverses_id]
            return r

        for r in rows:
            if r.reverses_id is not None:
                original = line_of(r)
                assert original.kind.value == "ATTRIBUTION"
                assert (original.source_id, original.creator_id, original.conversation_id) == (
                    r.source_id,
                    r.creator_id,
                    r.conversation_id,
                )
            if r.kind.value == "REINSTATEMENT" and not r.reversal_key.endswith(":top-up"):
                negated = by_id[r.reverses_id]
                assert negated.kind.value == "REVERSAL"
                assert (r.amount_cents, r.platform_share_cents) == (
                    -negated.amount_cents,
                    -negated.platform_share_cents,
                )
        for c in chargebacks:
            reversal = {r.id for r in rows if r.reversal_key == f"chargeback:{c.id}"}
            given_back = [
                r.reverses_id
                for r in rows
                if r.reversal_key == f"chargeback-won:{c.id}" and r.kind.value == "REINSTATEMENT"
            ]
            if c.status.value == "WON" and c.lost_at is not None:
                event("a dispute was won back")
                assert sorted(given_back) == sorted(reversal), "a dispute won back gives every reversal back"
            else:
                assert given_back == []
        held: dict[str, int] = {}
        for r in rows:
            held[line_of(r).id] = held.get(line_of(r).id, 0) + r.amount_cents
        assert all(amount >= 0 for amount in held.values()), "a line was reversed below zero"
        by_conversation: dict[str, list[RevenuePerConversation]] = {}
        for r in rows:
            by_conversation.setdefault(r.conversation_id, []).append(r)
        for conversation_id, purchase_id in attributed.items():
            p = purchases[purchase_id]
            record = ledger_math_purchase(p)
            taken = ledger_math.taken_back(record, lost.get(p.id, 0))
            mine = by_conversation.get(conversation_id)
            if mine is None:
                # attributed with nothing to pay: everything had gone back, and still has
                assert taken == p.amount_cents
                continue
            gross, fee = ledger_math.conversation_part(record, taken, conversation_id, funded[p.id])
            creators = sum(r.amount_cents for r in mine)
            platform = sum(r.platform_share_cents for r in mine)
            # gross = fee + platform + creators, with the creators holding exactly their pool
            assert creators == ledger_math.creators_pool(gross, fee, policy)
            assert platform == ledger_math.platform_part(gross, fee, policy)
            assert gross.minor == fee.minor + platform + creators
        for payout in payouts:
            linked = sum(r.amount_cents for r in rows if r.payout_id == payout.id)
            if payout.status.value == "FAILED":
                assert linked == 0
            else:
                assert linked == payout.amount_cents > 0


def ledger_math_purchase(p: Purchase) -> Any:
    from application.money.ports import PurchaseRecord

    return PurchaseRecord(
        id=p.id,
        purchaser_user_id=p.purchaser_user_id,
        chatbot_id=p.chatbot_id,
        processor=p.payment_processor.value,
        external_payment_id=p.external_payment_id,
        external_checkout_id=p.external_checkout_id,
        currency=p.currency,
        amount=p.amount_cents,
        fee=p.processing_fee_cents,
        net=p.net_amount_cents,
        refunded=p.refunded_cents,
        status=p.status.value,
    )


TestLedger = LedgerMachine.TestCase
TestLedger.settings = settings(
    max_examples=30,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    # shrinking a database-backed run takes minutes; the failing steps are printed unshrunk
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)

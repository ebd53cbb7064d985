"""The database itself refuses what must never happen, on both SQLite and PostgreSQL:
duplicates of processor objects, a second CREATOR chatbot, revenue attributed twice."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from persistence_rows import NOW, Rows
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.enums import (
    ActorKind,
    ChatbotType,
    ContextSource,
    PaymentProcessor,
    RevenueKind,
    SubscriptionStatus,
)
from adapters.persistence.models import (
    AnonymousClaim,
    AppendOnlyViolation,
    AuditLog,
    Base,
    Chargeback,
    CreatorRevenueSummary,
    EnterpriseAllocation,
    EnterpriseSubscription,
    Payout,
    Refund,
    RevenuePerConversation,
    UserContext,
    WebhookEvent,
)


async def count(engine: AsyncEngine, model: type[Base]) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(model))).scalar_one())


async def test_a_purchase_is_unique_per_processor_and_external_id(rows: Rows, engine: AsyncEngine) -> None:
    from adapters.persistence.models import Purchase

    user = await rows.user()
    bot, _, _ = await rows.conversation(user)
    await rows.add(rows.purchase(user, bot, processor=PaymentProcessor.STRIPE, external_id="pi_1"))
    # The same id at another processor is another payment.
    await rows.add(rows.purchase(user, bot, processor=PaymentProcessor.SANDBOX, external_id="pi_1"))

    with pytest.raises(IntegrityError):
        await rows.add(rows.purchase(user, bot, processor=PaymentProcessor.STRIPE, external_id="pi_1"))
    assert await count(engine, Purchase) == 2


async def test_refunds_and_chargebacks_are_unique_per_processor_and_external_id(rows: Rows) -> None:
    user = await rows.user()
    bot, _, _ = await rows.conversation(user)
    purchase = rows.purchase(user, bot, processor=PaymentProcessor.STRIPE, external_id="pi_2")
    await rows.add(purchase)

    def refund() -> Refund:
        return Refund(
            purchase_id=purchase.id,
            processor=PaymentProcessor.STRIPE,
            external_refund_id="re_1",
            amount_cents=100,
            currency="USD",
        )

    def dispute() -> Chargeback:
        return Chargeback(
            purchase_id=purchase.id,
            processor=PaymentProcessor.STRIPE,
            external_dispute_id="dp_1",
            amount_cents=500,
            currency="USD",
            opened_at=NOW,
        )

    await rows.add(refund(), dispute())
    with pytest.raises(IntegrityError):
        await rows.add(refund())
    with pytest.raises(IntegrityError):
        await rows.add(dispute())


async def test_a_webhook_event_is_received_once(rows: Rows, engine: AsyncEngine) -> None:
    def event() -> WebhookEvent:
        return WebhookEvent(
            processor=PaymentProcessor.STRIPE,
            external_event_id="evt_1",
            event_type="checkout.session.completed",
            payload={"id": "evt_1"},
        )

    await rows.add(event())
    with pytest.raises(IntegrityError):
        await rows.add(event())
    assert await count(engine, WebhookEvent) == 1


async def test_a_payout_idempotency_key_is_used_once(rows: Rows) -> None:
    creator = await rows.creator()

    def payout(key: str, transfer: str | None) -> Payout:
        return Payout(
            creator_id=creator.id,
            currency="USD",
            amount_cents=1_000,
            processor=PaymentProcessor.SANDBOX,
            idempotency_key=key,
            external_transfer_id=transfer,
        )

    # NULL transfer ids (not yet sent) never conflict with each other.
    await rows.add(payout("payout-1", None), payout("payout-2", None))
    with pytest.raises(IntegrityError):
        await rows.add(payout("payout-1", None))
    await rows.add(payout("payout-3", "tr_1"))
    with pytest.raises(IntegrityError):
        await rows.add(payout("payout-4", "tr_1"))


async def test_each_creator_has_at_most_one_creator_chatbot(rows: Rows, engine: AsyncEngine) -> None:
    from adapters.persistence.models import Chatbot

    ada, bob = await rows.creator(), await rows.creator()
    await rows.add(rows.chatbot(type=ChatbotType.CREATOR, persona=ada.id))
    await rows.add(rows.chatbot(type=ChatbotType.CREATOR, persona=bob.id))
    # Any number of other chatbots.
    await rows.add(rows.chatbot(type=ChatbotType.DEEP_DIVE), rows.chatbot(type=ChatbotType.FRAMEWORK))

    with pytest.raises(IntegrityError):  # a second CREATOR chatbot for Ada
        await rows.add(rows.chatbot(type=ChatbotType.CREATOR, persona=ada.id))
    with pytest.raises(IntegrityError):  # a CREATOR chatbot that speaks for nobody
        await rows.add(rows.chatbot(type=ChatbotType.CREATOR, persona=None))
    with pytest.raises(IntegrityError):  # only CREATOR chatbots may name a persona
        await rows.add(rows.chatbot(type=ChatbotType.ADVISOR_BOARD, persona=ada.id))
    assert await count(engine, Chatbot) == 4


async def test_revenue_is_attributed_exactly_once_and_reversed_once_per_event(
    rows: Rows, engine: AsyncEngine
) -> None:
    user = await rows.user()
    creator = await rows.creator()
    source = await rows.source(user, creator)
    bot, _, conversation = await rows.conversation(user)
    purchase = rows.purchase(user, bot, processor=PaymentProcessor.SANDBOX, external_id="sb_1")
    await rows.add(purchase)

    def line(kind: RevenueKind = RevenueKind.ATTRIBUTION, **kw: object) -> RevenuePerConversation:
        values: dict[str, object] = {
            "conversation_id": conversation.id,
            "purchase_id": purchase.id,
            "source_id": source.id,
            "creator_id": creator.id,
            "purchaser_user_id": user.id,
            "kind": kind,
            "amount_cents": 300,
            "platform_share_cents": 75,
            "currency": "USD",
            "token_count": 1200,
            "token_percentage": Decimal("0.6000000000"),
            "share": Decimal("1.0000"),
        }
        values.update(kw)
        return RevenuePerConversation(**values)

    original = line()
    await rows.add(original)
    with pytest.raises(IntegrityError):  # re-running attribution
        await rows.add(line())

    def reversal(key: str, amount: int = -100) -> RevenuePerConversation:
        return line(RevenueKind.REVERSAL, reverses_id=original.id, reversal_key=key, amount_cents=amount)

    await rows.add(reversal("refund:re_1"))
    await rows.add(reversal("chargeback:dp_1"))
    with pytest.raises(IntegrityError):  # the same refund webhook replayed
        await rows.add(reversal("refund:re_1"))
    with pytest.raises(IntegrityError):  # a reversal must not add money
        await rows.add(reversal("refund:re_2", amount=50))
    with pytest.raises(IntegrityError):  # a reversal must say what it reverses
        await rows.add(line(RevenueKind.REVERSAL, reversal_key="refund:re_3", amount_cents=-1))
    with pytest.raises(IntegrityError):  # purchase money must name its purchase
        await rows.add(line(purchase_id=None, creator_id=(await rows.creator()).id))

    lost = reversal("chargeback:dp_2")
    await rows.add(lost)

    def reinstatement(key: str, amount: int = 100, **kw: object) -> RevenuePerConversation:
        return line(
            RevenueKind.REINSTATEMENT, reverses_id=lost.id, reversal_key=key, amount_cents=amount, **kw
        )

    # a dispute won back gives its reversal back; its platform share may go either way
    await rows.add(reinstatement("chargeback-won:dp_2", platform_share_cents=-25))
    with pytest.raises(IntegrityError):  # the same win replayed
        await rows.add(reinstatement("chargeback-won:dp_2"))
    with pytest.raises(IntegrityError):  # a reinstatement must not take money
        await rows.add(reinstatement("chargeback-won:dp_3", amount=-1))
    with pytest.raises(IntegrityError):  # a reinstatement must say what it gives back
        await rows.add(line(RevenueKind.REINSTATEMENT, reversal_key="chargeback-won:dp_4", amount_cents=1))
    with pytest.raises(IntegrityError):  # and why
        await rows.add(reinstatement(""))
    with pytest.raises(IntegrityError):  # attribution is not about an earlier row
        await rows.add(line(reverses_id=lost.id, reversal_key="x", creator_id=(await rows.creator()).id))
    with pytest.raises(IntegrityError):  # every row says what the platform kept from it
        await rows.add(reinstatement("chargeback-won:dp_5", platform_share_cents=None))
    assert await count(engine, RevenuePerConversation) == 5


async def test_enterprise_revenue_names_its_allocation_and_each_month_is_allocated_once(rows: Rows) -> None:
    user = await rows.user()
    creator = await rows.creator()
    source = await rows.source(user, creator)
    _, _, conversation = await rows.conversation(user)
    subscription = EnterpriseSubscription(
        company_name="Acme",
        seats=10,
        amount_cents=1_000_000,
        currency="USD",
        starts_at=NOW,
        ends_at=NOW + timedelta(days=365),
        status=SubscriptionStatus.ACTIVE,
        stripe_subscription_id="sub_1",
    )
    await rows.add(subscription)

    def allocation() -> EnterpriseAllocation:
        return EnterpriseAllocation(
            subscription_id=subscription.id, year=2025, month=3, amount_cents=1_000_000, currency="USD"
        )

    march = allocation()
    await rows.add(march)
    with pytest.raises(IntegrityError):
        await rows.add(allocation())
    await rows.add(
        RevenuePerConversation(
            conversation_id=conversation.id,
            enterprise_allocation_id=march.id,
            source_id=source.id,
            creator_id=creator.id,
            purchaser_user_id=user.id,
            kind=RevenueKind.ENTERPRISE,
            amount_cents=10_000,
            platform_share_cents=2_500,
            currency="USD",
            token_count=50,
            token_percentage=Decimal("0.05"),
            share=Decimal("1"),
        )
    )


async def test_revenue_summaries_are_per_currency(rows: Rows) -> None:
    creator = await rows.creator()

    def summary(currency: str) -> CreatorRevenueSummary:
        return CreatorRevenueSummary(
            creator_id=creator.id,
            year=2025,
            month=3,
            currency=currency,
            total_revenue_cents=100,
            creator_share_cents=70,
            platform_share_cents=30,
            conversation_count=1,
        )

    await rows.add(summary("USD"), summary("EUR"))
    with pytest.raises(IntegrityError):
        await rows.add(summary("USD"))


async def test_an_anonymous_visitor_is_claimed_once(rows: Rows) -> None:
    ann, ben = await rows.user(), await rows.user()
    await rows.add(AnonymousClaim(anonymous_id="anon-1", user_id=ann.id))
    with pytest.raises(IntegrityError):
        await rows.add(AnonymousClaim(anonymous_id="anon-1", user_id=ben.id))


async def test_global_user_context_keys_are_unique_despite_null_chatbot(rows: Rows) -> None:
    user = await rows.user()
    bot, _, _ = await rows.conversation(user)

    def context(chatbot_id: str | None) -> UserContext:
        return UserContext(
            user_id=user.id,
            chatbot_id=chatbot_id,
            key="industry",
            value="saas",
            source=ContextSource.INFERRED,
        )

    await rows.add(context(None), context(bot.id))
    with pytest.raises(IntegrityError):
        await rows.add(context(None))
    with pytest.raises(IntegrityError):
        await rows.add(context(bot.id))


async def test_enum_columns_are_checked_by_the_database(engine: AsyncEngine, rows: Rows) -> None:
    await rows.user()
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE \"user\" SET platform_role = 'ROOT'"))


async def test_foreign_keys_are_enforced(engine: AsyncEngine) -> None:
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO creator_user (id, creator_id, user_id, role, created_at, updated_at)"
                    " VALUES ('x', 'no-creator', 'no-user', 'MEMBER', '2025-01-01', '2025-01-01')"
                )
            )


async def test_the_audit_log_is_append_only_through_the_orm(rows: Rows, engine: AsyncEngine) -> None:
    entry = AuditLog(
        actor_kind=ActorKind.SYSTEM,
        action="payout.sent",
        subject_type="payout",
        subject_id="p1",
        after={"a": 1},
    )
    await rows.add(entry)
    async with rows.factory() as s:
        loaded = await s.get(AuditLog, entry.id)
        assert loaded is not None
        loaded.action = "payout.erased"
        with pytest.raises(AppendOnlyViolation):
            await s.flush()
        await s.rollback()
        loaded = await s.get(AuditLog, entry.id)
        assert loaded is not None
        await s.delete(loaded)
        with pytest.raises(AppendOnlyViolation):
            await s.flush()
    assert await count(engine, AuditLog) == 1

"""Enterprise months: the fee after platform share, by the members' tokens, exactly once."""

from __future__ import annotations

from datetime import timedelta

from money_rig import T0, MoneyRig
from sqlalchemy import select

from adapters.persistence.models import (
    Conversation,
    ConversationSourceUsage,
    EnterpriseAllocation,
    EnterpriseSubscription,
    EnterpriseUser,
)
from adapters.persistence.repositories.money_enterprise import SqlEnterpriseBook
from adapters.persistence.repositories.money_ledger import SqlRevenueLedger
from adapters.persistence.uow import SqlAlchemyUnitOfWork
from application.money.allocate_enterprise_month import (
    AllocateEnterpriseMonth,
    AllocateEnterpriseMonthCommand,
    EnterpriseAllocations,
)
from domain.ids import new_id


async def _allocate(rig: MoneyRig, year: int = 2025, month: int = 3) -> EnterpriseAllocations:
    async with rig.factory() as s:
        uc = AllocateEnterpriseMonth(
            SqlEnterpriseBook(s), SqlRevenueLedger(s), rig.clock, SqlAlchemyUnitOfWork(s), rig.settings
        )
        return await uc(AllocateEnterpriseMonthCommand(year=year, month=month))


async def test_a_month_is_shared_by_tokens_then_shares_once(rig: MoneyRig) -> None:
    world = await rig.seed()
    subscription = EnterpriseSubscription(
        company_name="Acme",
        seats=5,
        amount_cents=10_000,
        currency="USD",
        starts_at=T0 - timedelta(days=40),
        ends_at=T0 + timedelta(days=300),
        status="ACTIVE",
        stripe_subscription_id="sub_acme",
    )
    idle = EnterpriseSubscription(
        company_name="Idle Inc",
        seats=1,
        amount_cents=5_000,
        currency="USD",
        starts_at=T0 - timedelta(days=40),
        ends_at=T0 + timedelta(days=300),
        status="ACTIVE",
        stripe_subscription_id="sub_idle",
    )
    conversations = {}
    async with rig.factory() as s:
        s.add_all([subscription, idle])
        await s.flush()
        s.add(EnterpriseUser(subscription_id=subscription.id, user_id=world.buyer_id, role="MEMBER"))
        for name, at, user in (("c1", T0, world.buyer_id), ("c2", T0 + timedelta(days=3), world.buyer_id),
                               ("april", T0 + timedelta(days=40), world.buyer_id),
                               ("stranger", T0, world.owner_id)):  # fmt: skip
            conversation = Conversation(
                id=new_id(),
                chatbot_id=world.chatbot_id,
                chatbot_version_id=world.version_id,
                user_id=user,
                message_allowance=5,
                expires_at=at + timedelta(days=7),
                created_at=at,
                updated_at=at,
            )
            s.add(conversation)
            conversations[name] = conversation.id
        await s.flush()
        for name, source, tokens in (("c1", world.source_shared, 300), ("c1", world.source_b, 100),
                                     ("c2", world.source_b, 600), ("april", world.source_b, 999),
                                     ("stranger", world.source_b, 999)):  # fmt: skip
            s.add(
                ConversationSourceUsage(
                    conversation_id=conversations[name],
                    source_id=source,
                    total_tokens=tokens,
                    message_count=1,
                    first_used_at=T0,
                    last_used_at=T0,
                )
            )
        await s.commit()

    done = await _allocate(rig)
    assert done.allocated == [subscription.id]
    assert done.without_usage == [idle.id]
    rows = await rig.rows(kind="ENTERPRISE")
    # fee 10000, platform 2000, pool 8000 over 1000 tokens
    got = {(r.conversation_id, r.source_id, r.creator_id): r.amount_cents for r in rows}
    assert got == {
        (conversations["c1"], world.source_shared, world.creator_a): 1440,
        (conversations["c1"], world.source_shared, world.creator_b): 960,
        (conversations["c1"], world.source_b, world.creator_b): 800,
        (conversations["c2"], world.source_b, world.creator_b): 4800,
    }
    assert sum(got.values()) == 8000
    assert {r.enterprise_allocation_id for r in rows} != {None}
    # the platform's 2000 is spread over the same rows by the same weights: 600 / 200 / 1200
    # by tokens, c1/shared's 600 by shares 0.6 / 0.4; every row plus its share is the fee's part
    kept = {(r.conversation_id, r.source_id, r.creator_id): r.platform_share_cents for r in rows}
    assert kept == {
        (conversations["c1"], world.source_shared, world.creator_a): 360,
        (conversations["c1"], world.source_shared, world.creator_b): 240,
        (conversations["c1"], world.source_b, world.creator_b): 200,
        (conversations["c2"], world.source_b, world.creator_b): 1200,
    }
    assert sum(got.values()) + sum(kept.values()) == 10_000

    again = await _allocate(rig)
    assert again == EnterpriseAllocations()
    assert len(await rig.rows(kind="ENTERPRISE")) == 4
    async with rig.factory() as s:
        allocations = list(
            await s.scalars(select(EnterpriseAllocation).order_by(EnterpriseAllocation.amount_cents))
        )
    assert [(a.amount_cents, a.total_tokens, a.status.value) for a in allocations] == [
        (5_000, 0, "ALLOCATED"),
        (10_000, 1000, "ALLOCATED"),
    ]

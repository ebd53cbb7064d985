"""Revision 0008's backfill of ``platform_share_cents`` against what the application records:
rows written before the revision get exactly what new rows get (enterprise rows, conversations
without reversals), and a conversation with older reversals keeps its exact total."""

from __future__ import annotations

import json
from datetime import timedelta

from money_rig import T0, MoneyRig, Seeded
from sqlalchemy import inspect, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.persistence.engine import create_engine
from adapters.persistence.migrate import downgrade, upgrade
from adapters.persistence.models import (
    Conversation,
    ConversationSourceUsage,
    EnterpriseSubscription,
    EnterpriseUser,
    RevenuePerConversation,
)
from adapters.persistence.repositories.money_enterprise import SqlEnterpriseBook
from adapters.persistence.repositories.money_ledger import SqlRevenueLedger
from adapters.persistence.uow import SqlAlchemyUnitOfWork
from application.money.allocate_enterprise_month import (
    AllocateEnterpriseMonth,
    AllocateEnterpriseMonthCommand,
)
from domain.ids import new_id


async def _ledger(rig: MoneyRig) -> dict[str, tuple[str, str, int]]:
    async with rig.factory() as s:
        rows = await s.scalars(select(RevenuePerConversation))
        return {r.id: (r.conversation_id, r.kind.value, r.platform_share_cents) for r in rows}


async def _enterprise_month(rig: MoneyRig, world: Seeded) -> None:
    async with rig.factory() as s:
        subscription = EnterpriseSubscription(
            company_name="Acme", seats=5, amount_cents=10_000, currency="USD",
            starts_at=T0 - timedelta(days=40), ends_at=T0 + timedelta(days=300), status="ACTIVE",
            stripe_subscription_id="sub_acme",
        )  # fmt: skip
        s.add(subscription)
        await s.flush()
        s.add(EnterpriseUser(subscription_id=subscription.id, user_id=world.buyer_id, role="MEMBER"))
        for tokens in ({world.source_shared: 300, world.source_b: 100}, {world.source_b: 601}):
            conversation = Conversation(
                id=new_id(), chatbot_id=world.chatbot_id, chatbot_version_id=world.version_id,
                user_id=world.buyer_id, message_allowance=5, expires_at=T0 + timedelta(days=7),
                created_at=T0, updated_at=T0,
            )  # fmt: skip
            s.add(conversation)
            await s.flush()
            for source_id, total in tokens.items():
                s.add(
                    ConversationSourceUsage(
                        conversation_id=conversation.id, source_id=source_id, total_tokens=total,
                        message_count=1, first_used_at=T0, last_used_at=T0,
                    )
                )  # fmt: skip
        await s.commit()
    async with rig.factory() as s:
        uc = AllocateEnterpriseMonth(
            SqlEnterpriseBook(s), SqlRevenueLedger(s), rig.clock, SqlAlchemyUnitOfWork(s), rig.settings
        )
        assert (await uc(AllocateEnterpriseMonthCommand(year=2025, month=3))).allocated


async def test_the_backfill_gives_old_rows_what_new_rows_get(fresh_db_url: str) -> None:
    await upgrade(fresh_db_url)
    engine = create_engine(fresh_db_url)
    try:
        rig = MoneyRig(engine, async_sessionmaker(engine, expire_on_commit=False))
        world = await rig.seed(price=1000)
        await _enterprise_month(rig, world)
        late_refund, disputed = "", ""
        for n, tokens in enumerate(
            ({world.source_shared: 300, world.source_b: 100}, {}, {world.source_b: 7}, {world.source_b: 1})
        ):
            purchase_id, conversation_id = await rig.buy(world)
            await rig.use_and_end(conversation_id, tokens)
            payment = (await rig.purchase(purchase_id)).external_payment_id
            if n == 1:  # money back before attribution: attributed on what is left
                await rig.sandbox.refund(payment, 400, idempotency_key="early")
                for delivery in await rig.pending_sandbox_events():
                    await rig.deliver_and_process(delivery)
            if n == 2:
                late_refund = payment
            if n == 3:
                disputed = payment
        rig.clock.advance(timedelta(days=8))
        await rig.attribute()
        await rig.sandbox.refund(late_refund, 300, idempotency_key="late")  # reversal rows
        for delivery in await rig.pending_sandbox_events():
            await rig.deliver_and_process(delivery)
        opened = await rig.sandbox.open_dispute(disputed)  # lost after attribution: reversal rows
        await rig.deliver_and_process(opened)
        dispute_id = json.loads(opened.body)["data"]["object"]["id"]
        await rig.deliver_and_process(await rig.sandbox.resolve_dispute(dispute_id, won=False))
        before = await _ledger(rig)
    finally:
        await engine.dispose()
    assert {kind for _, kind, _ in before.values()} == {"ATTRIBUTION", "ENTERPRISE", "REVERSAL"}

    await downgrade(fresh_db_url, "0007_intake")  # the rows stay; their platform shares go
    engine = create_engine(fresh_db_url)
    try:
        async with engine.connect() as conn:
            columns = await conn.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("revenue_per_conversation")}
            )
            assert "platform_share_cents" not in columns
            assert (
                await conn.execute(text("SELECT count(*) FROM revenue_per_conversation"))
            ).scalar() == len(before)
    finally:
        await engine.dispose()
    await upgrade(fresh_db_url)
    engine = create_engine(fresh_db_url)
    try:
        after = await _ledger(MoneyRig(engine, async_sessionmaker(engine, expire_on_commit=False)))
    finally:
        await engine.dispose()

    assert set(after) == set(before)
    reversed_conversations = {c for c, kind, _ in before.values() if kind == "REVERSAL"}
    for row_id, (conversation_id, kind, share) in before.items():
        if conversation_id not in reversed_conversations:
            assert after[row_id][2] == share, (kind, row_id)  # exactly what the application wrote
    for conversation_id in reversed_conversations:
        mine = [row_id for row_id, (c, _, _) in before.items() if c == conversation_id]
        # the conversation's platform total is exact; older reversals carry 0, their change
        # is booked with the attribution rows
        assert sum(after[r][2] for r in mine) == sum(before[r][2] for r in mine)
        assert {after[r][2] for r in mine if before[r][1] == "REVERSAL"} == {0}
    assert sum(share for _, kind, share in after.values() if kind == "ENTERPRISE") == 2_000
    engine = create_engine(fresh_db_url)
    try:
        async with engine.connect() as conn:
            [(status, closed_at, lost_at)] = (
                await conn.execute(text("SELECT status, closed_at, lost_at FROM chargeback"))
            ).all()
    finally:
        await engine.dispose()
    assert status == "LOST"
    assert lost_at is not None
    assert lost_at == closed_at  # a dispute lost before 0008 was lost when it was closed

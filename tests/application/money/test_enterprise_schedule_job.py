"""The periodic `allocate-enterprise-month` job (no year/month): every settled month, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from money_rig import MoneyRig
from sqlalchemy import select

from adapters.persistence.models import (
    Conversation,
    ConversationSourceUsage,
    EnterpriseAllocation,
    EnterpriseSubscription,
    EnterpriseUser,
)
from application.money.enterprise_schedule import months_due
from domain.ids import new_id
from entrypoints.di import build_container
from entrypoints.jobs import handlers
from entrypoints.runtime import periodic_schedules
from entrypoints.settings import load_settings


def _month_of(at: datetime) -> tuple[int, int]:
    return at.year, at.month


async def test_the_timer_allocates_each_settled_month_once(
    rig: MoneyRig, db_url: str, tmp_path: Path
) -> None:
    settings = load_settings({}, data_dir=tmp_path, database_url=db_url, vector_backend="memory")
    assert "allocate-enterprise-month" in {s.job for s in periodic_schedules(settings)}
    world = await rig.seed()
    now = datetime.now(UTC)
    used_at = now - timedelta(days=70)  # in a month that ended more than the refund window ago
    subscription = EnterpriseSubscription(
        company_name="Acme",
        seats=2,
        amount_cents=10_000,
        currency="USD",
        starts_at=now - timedelta(days=100),
        ends_at=now + timedelta(days=300),
        status="ACTIVE",
        stripe_subscription_id=f"sub_{new_id()}",
    )
    async with rig.factory() as s:
        s.add(subscription)
        await s.flush()
        s.add(EnterpriseUser(subscription_id=subscription.id, user_id=world.buyer_id, role="MEMBER"))
        conversation = Conversation(
            id=new_id(),
            chatbot_id=world.chatbot_id,
            chatbot_version_id=world.version_id,
            user_id=world.buyer_id,
            message_allowance=5,
            expires_at=used_at + timedelta(days=7),
            created_at=used_at,
            updated_at=used_at,
        )
        s.add(conversation)
        await s.flush()
        s.add(
            ConversationSourceUsage(
                conversation_id=conversation.id,
                source_id=world.source_b,
                total_tokens=500,
                message_count=1,
                first_used_at=used_at,
                last_used_at=used_at,
            )
        )
        await s.commit()

    container = build_container(settings)
    try:
        run = handlers(container)["allocate-enterprise-month"]
        await run({})
        await run({})  # the next day's tick: nothing new
    finally:
        await container.close()

    async with rig.factory() as s:
        allocations = list(await s.scalars(select(EnterpriseAllocation)))
    got = sorted((a.year, a.month) for a in allocations)
    # the months the subscription was active in that have settled: from its start to the newest due
    start = _month_of(subscription.starts_at)
    expected = [m for m in months_due(now, settle=timedelta(days=7)) if m >= start]
    assert got == expected
    assert len(got) >= 2
    by_month = {(a.year, a.month): a for a in allocations}
    assert by_month[_month_of(used_at)].total_tokens == 500
    assert all(a.total_tokens == 0 for m, a in by_month.items() if m != _month_of(used_at))
    rows = await rig.rows(kind="ENTERPRISE")
    assert sum(r.amount_cents for r in rows) == 8_000  # fee less the 20% platform share
    assert {r.conversation_id for r in rows} == {conversation.id}

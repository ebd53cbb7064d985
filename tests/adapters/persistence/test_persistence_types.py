"""Portable column types: exact shares, aware UTC timestamps, BIGINT money and JSON NULLs
behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from persistence_rows import NOW, Rows
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.enums import PaymentProcessor
from adapters.persistence.models import OutboxMessage, Purchase, SourceCreator, User
from adapters.persistence.types import ExactDecimal


async def shares_of(rows: Rows, source_id: str) -> list[Decimal]:
    async with rows.factory() as s:
        result = await s.scalars(
            select(SourceCreator.revenue_share)
            .where(SourceCreator.source_id == source_id)
            .order_by(SourceCreator.created_at)
        )
        return [share for share in result if share is not None]


async def test_shares_round_trip_exactly_and_sum_to_one(
    rows: Rows, engine: AsyncEngine, backend: str
) -> None:
    user = await rows.user()
    a, b, c = await rows.creator(), await rows.creator(), await rows.creator()
    source = await rows.source(user, a, share=Decimal("0.3333"))
    for creator, share in ((b, Decimal("0.3333")), (c, Decimal("0.3334"))):
        await rows.add(
            SourceCreator(
                source_id=source.id, creator_id=creator.id, added_by_user_id=user.id, revenue_share=share
            )
        )

    shares = await shares_of(rows, source.id)
    assert shares == [Decimal("0.3333"), Decimal("0.3333"), Decimal("0.3334")]
    assert all(isinstance(s, Decimal) for s in shares)
    assert sum(shares) == Decimal("1")

    async with engine.connect() as conn:
        stored = (
            await conn.execute(
                text("SELECT revenue_share FROM source_creator WHERE creator_id = :c"), {"c": a.id}
            )
        ).scalar_one()
    if backend == "sqlite":
        assert stored == "0.3333"  # text, never a binary float
    else:
        assert stored == Decimal("0.3333")


@pytest.mark.parametrize("share", [Decimal("1.0000"), Decimal("1"), Decimal("0"), Decimal("0.0001")])
async def test_shares_at_the_edges_of_the_range_are_accepted(rows: Rows, share: Decimal) -> None:
    user = await rows.user()
    source = await rows.source(user, await rows.creator(), share=share)
    assert await shares_of(rows, source.id) == [share]


@pytest.mark.parametrize("share", [Decimal("1.0001"), Decimal("-0.0001"), Decimal("9.9999")])
async def test_shares_outside_zero_to_one_are_refused_by_the_database(rows: Rows, share: Decimal) -> None:
    user = await rows.user()
    with pytest.raises(IntegrityError):
        await rows.source(user, await rows.creator(), share=share)


@pytest.mark.parametrize("share", [Decimal("0.33333"), 0.5, Decimal("NaN"), Decimal("12.5"), "abc"])
async def test_values_that_would_be_rounded_or_are_floats_are_refused(rows: Rows, share: object) -> None:
    user = await rows.user()
    with pytest.raises(StatementError):
        await rows.source(user, await rows.creator(), share=share)  # type: ignore[arg-type]


def test_exact_decimal_refuses_a_scale_larger_than_its_precision() -> None:
    with pytest.raises(ValueError, match="scale"):
        ExactDecimal(2, 3)


async def test_timestamps_are_stored_in_utc_and_read_back_aware(
    rows: Rows, engine: AsyncEngine, backend: str
) -> None:
    paris_noon = datetime(2025, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    message = OutboxMessage(topic="t", payload={}, available_at=paris_noon)
    await rows.add(message)

    async with rows.factory() as s:
        loaded = await s.get(OutboxMessage, message.id)
        assert loaded is not None
        assert loaded.available_at == paris_noon
        assert loaded.available_at.utcoffset() == timedelta(0)
        assert loaded.available_at.hour == 10
        assert loaded.created_at.tzinfo is not None
        # Comparisons in queries use the same conversion.
        found = await s.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.available_at == datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
            )
        )
        assert found == message.id

    if backend == "sqlite":
        async with engine.connect() as conn:
            raw = (await conn.execute(text("SELECT available_at FROM outbox"))).scalar_one()
        assert str(raw).startswith("2025-06-01 10:00:00")


async def test_naive_datetimes_are_refused(rows: Rows) -> None:
    with pytest.raises(StatementError, match="naive"):
        await rows.add(OutboxMessage(topic="t", payload={}, available_at=datetime(2025, 6, 1, 12, 0)))


async def test_money_is_bigint(rows: Rows) -> None:
    user = await rows.user()
    bot, _, _ = await rows.conversation(user)
    big = 9_000_000_000_000  # 90 billion dollars in cents: beyond 32-bit integers
    purchase = rows.purchase(user, bot, processor=PaymentProcessor.STRIPE, external_id="pi_big")
    purchase.amount_cents = big
    purchase.net_amount_cents = big - 45
    await rows.add(purchase)
    async with rows.factory() as s:
        loaded = await s.get(Purchase, purchase.id)
        assert loaded is not None
        assert loaded.amount_cents == big
        assert loaded.refunded_cents == 0


async def test_json_none_is_sql_null_and_values_round_trip(rows: Rows) -> None:
    with_meta = await rows.user(metadata_={"plan": "pro", "tags": ["a", "b"], "n": 3})
    without = await rows.user()
    async with rows.factory() as s:
        nulls = list(await s.scalars(select(User.id).where(User.metadata_.is_(None))))
        loaded = await s.get(User, with_meta.id)
    assert nulls == [without.id]
    assert loaded is not None
    assert loaded.metadata_ == {"plan": "pro", "tags": ["a", "b"], "n": 3}


async def test_defaults_fill_ids_and_timestamps(rows: Rows) -> None:
    user = await rows.user()
    assert len(user.id) == 36
    assert user.id[14] == "7"  # UUIDv7
    assert NOW < user.created_at <= datetime.now(UTC)
    assert user.updated_at >= user.created_at

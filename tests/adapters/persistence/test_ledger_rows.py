"""``SqlRevenueLedger.add_rows``: one COPY on PostgreSQL, one executemany on SQLite. Both must
write exactly what an INSERT would, refuse what an INSERT would refuse with the same
``Conflict``, and leave the surrounding transaction usable."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from persistence_rows import Rows
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.persistence.enums import PaymentProcessor
from adapters.persistence.models import RevenuePerConversation
from adapters.persistence.repositories.money_ledger import SqlRevenueLedger
from application.errors import Conflict
from application.money.ports import LedgerRow
from domain.ids import new_id

AT = datetime(2026, 11, 2, 9, 30, 15, 123456, tzinfo=UTC)


async def _rows_for(rows: Rows) -> list[LedgerRow]:
    user = await rows.user()
    creator, other = await rows.creator(), await rows.creator()
    source = await rows.source(user, creator)
    bot, _, conversation = await rows.conversation(user)
    purchase = rows.purchase(user, bot, processor=PaymentProcessor.SANDBOX, external_id=f"sb_{new_id()}")
    await rows.add(purchase)

    def row(creator_id: str, amount: int, fraction: str, share: str) -> LedgerRow:
        return LedgerRow(
            id=new_id(),
            conversation_id=conversation.id,
            purchase_id=purchase.id,
            source_id=source.id,
            creator_id=creator_id,
            purchaser_user_id=user.id,
            kind="ATTRIBUTION",
            amount=amount,
            platform_share=amount // 4,
            currency="USD",
            token_count=1234,
            token_fraction=Decimal(fraction),
            share=Decimal(share),
            created_at=AT,
        )

    return [row(creator.id, 381, "0.6180339887", "0.6000"), row(other.id, 254, "1", "0.4000")]


async def test_rows_are_written_exactly(
    rows: Rows, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    written = await _rows_for(rows)
    async with session_factory() as s:
        await SqlRevenueLedger(s).add_rows(written)
        await s.commit()
    async with session_factory() as s:
        stored = {
            r.id: r
            for r in await s.scalars(
                select(RevenuePerConversation).where(RevenuePerConversation.id.in_([w.id for w in written]))
            )
        }
    assert set(stored) == {w.id for w in written}
    for w in written:
        r = stored[w.id]
        assert (r.amount_cents, r.platform_share_cents, r.token_count) == (w.amount, w.platform_share, 1234)
        assert (r.token_percentage, r.share) == (w.token_fraction, w.share)
        assert (r.kind.value, r.payout_status.value, r.reversal_key, r.reverses_id) == (
            "ATTRIBUTION",
            "PENDING",
            "",
            None,
        )
        assert r.created_at == r.updated_at == AT


async def test_a_second_write_of_the_same_rows_is_the_ledgers_conflict_and_the_transaction_goes_on(
    rows: Rows, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    written = await _rows_for(rows)
    async with session_factory() as s:
        ledger = SqlRevenueLedger(s)
        await ledger.add_rows(written)
        again = [LedgerRow(**{**vars_of(w), "id": new_id()}) for w in written]
        with pytest.raises(Conflict) as conflict:
            await ledger.add_rows(again)
        assert conflict.value.code == "revenue-already-recorded"
        # only the failed write was undone: the first one commits
        await s.commit()
    async with session_factory() as s:
        count = len(
            (
                await s.scalars(
                    select(RevenuePerConversation.id).where(
                        RevenuePerConversation.conversation_id == written[0].conversation_id
                    )
                )
            ).all()
        )
    assert count == 2


async def test_a_row_pointing_nowhere_is_refused(
    rows: Rows, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    written = await _rows_for(rows)
    stray = LedgerRow(**{**vars_of(written[0]), "id": new_id(), "creator_id": new_id()})
    async with session_factory() as s:
        with pytest.raises(Conflict) as conflict:
            await SqlRevenueLedger(s).add_rows([stray])
    assert conflict.value.code == "missing-reference"


async def test_a_fraction_finer_than_the_column_is_refused_not_rounded(
    rows: Rows, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    written = await _rows_for(rows)
    finer = LedgerRow(**{**vars_of(written[0]), "token_fraction": Decimal("0.61803398875")})
    async with session_factory() as s:
        with pytest.raises(Exception, match="more than 10 decimal places"):
            await SqlRevenueLedger(s).add_rows([finer])


def vars_of(row: LedgerRow) -> dict[str, object]:
    return {name: getattr(row, name) for name in LedgerRow.__dataclass_fields__}

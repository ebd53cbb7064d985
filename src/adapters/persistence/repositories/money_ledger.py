"""The revenue ledger (``revenue_per_conversation``) and what is derived from it over SQLAlchemy.

Rows are only inserted; the unique ``uq_revenue_per_conversation_exactly_once`` makes a second
insert of the same attribution or reversal fail (``revenue-already-recorded``), and the guarded
``mark_attributed`` makes a concurrent run lose before it writes anything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from adapters.persistence import enums
from adapters.persistence.integrity import conflict_from, is_integrity_error
from adapters.persistence.models import (
    Chargeback,
    ChatbotCreator,
    ChatbotVersion,
    Conversation,
    ConversationSourceUsage,
    CreatorRevenueSummary,
    Purchase,
    RevenuePerConversation,
    Source,
    SourceCreator,
)
from adapters.persistence.repositories._support import any_id, execute_update
from adapters.persistence.repositories.money import _purchase
from adapters.persistence.types import UTCDateTime
from application.money.ports import AttributionInput, Balance, LedgerRow, StatementLine, SummaryRow
from domain.ids import new_id
from domain.shares import ShareSet

R = RevenuePerConversation
_ENDED = (enums.ConversationStatus.COMPLETED, enums.ConversationStatus.EXPIRED)
_CODES = {"uq_revenue_per_conversation_exactly_once": "revenue-already-recorded"}
_ATTRIBUTED = (enums.RevenueKind.ATTRIBUTION, enums.RevenueKind.ENTERPRISE)


def _row(r: RevenuePerConversation) -> LedgerRow:
    return LedgerRow(
        id=r.id,
        conversation_id=r.conversation_id,
        purchase_id=r.purchase_id,
        source_id=r.source_id,
        creator_id=r.creator_id,
        purchaser_user_id=r.purchaser_user_id,
        kind=r.kind.value,
        amount=r.amount_cents,
        platform_share=r.platform_share_cents,
        currency=r.currency,
        token_count=r.token_count,
        token_fraction=r.token_percentage,
        share=r.share,
        reverses_id=r.reverses_id,
        reversal_key=r.reversal_key,
        payout_status=r.payout_status.value,
        payout_id=r.payout_id,
        created_at=r.created_at,
        enterprise_allocation_id=r.enterprise_allocation_id,
    )


_COLUMNS = (
    "id",
    "conversation_id",
    "purchase_id",
    "enterprise_allocation_id",
    "source_id",
    "creator_id",
    "purchaser_user_id",
    "kind",
    "reverses_id",
    "reversal_key",
    "amount_cents",
    "platform_share_cents",
    "currency",
    "token_count",
    "token_percentage",
    "share",
    "payout_status",
    "created_at",
    "updated_at",
)
"""What a new ledger row is written with, in the order ``_record`` gives it (the other columns
keep their defaults: not yet paid out)."""


def _record(row: LedgerRow) -> tuple[Any, ...]:
    r = row
    return (
        r.id, r.conversation_id, r.purchase_id, r.enterprise_allocation_id, r.source_id,
        r.creator_id, r.purchaser_user_id, enums.RevenueKind(r.kind), r.reverses_id,
        r.reversal_key, r.amount, r.platform_share, r.currency, r.token_count, r.token_fraction,
        r.share, enums.PayoutStatus.PENDING, r.created_at, r.created_at,
    )  # fmt: skip


_CONVERSATION = Conversation.__table__
_PURCHASE = Purchase.__table__
_USAGE = ConversationSourceUsage.__table__
_CHARGEBACK = Chargeback.__table__
_DIALECTS = ("sqlite", "postgresql")


def _batch_statements(dialect: str) -> dict[str, Any]:
    """The attribution batch's statements for ``dialect``, built once: each takes a batch's ids
    (hundreds) as ``:ids`` (see ``any_id``)."""
    conversation_ids = any_id(_CONVERSATION.c.id, dialect)
    purchase_ids = any_id(_PURCHASE.c.id, dialect)
    return {
        "conversations": select(
            _CONVERSATION.c.id,
            _CONVERSATION.c.purchase_id,
            _CONVERSATION.c.chatbot_id,
            _CONVERSATION.c.chatbot_version_id,
        ).where(conversation_ids),
        "purchases": (
            select(*_PURCHASE.c)
            .where(purchase_ids)
            .order_by(_PURCHASE.c.id)  # locked in id order: concurrent batches cannot deadlock
            .with_for_update(key_share=True)
        ),
        "funded": select(_CONVERSATION.c.id, _CONVERSATION.c.purchase_id).where(
            any_id(_CONVERSATION.c.purchase_id, dialect)
        ),
        "usage": select(_USAGE.c.conversation_id, _USAGE.c.source_id, _USAGE.c.total_tokens).where(
            any_id(_USAGE.c.conversation_id, dialect)
        ),
        "lost": select(_CHARGEBACK.c.purchase_id, func.sum(_CHARGEBACK.c.amount_cents))
        .where(any_id(_CHARGEBACK.c.purchase_id, dialect))
        .where(_CHARGEBACK.c.status == enums.ChargebackStatus.LOST)
        .group_by(_CHARGEBACK.c.purchase_id),
        "mark": update(_CONVERSATION)
        .where(
            conversation_ids,
            _CONVERSATION.c.attributed_at.is_(None),
            _CONVERSATION.c.status.in_(_ENDED),
        )
        .values(status=enums.ConversationStatus.ATTRIBUTED, attributed_at=_AT, updated_at=_AT),
    }


_AT = bindparam("at", type_=UTCDateTime())
_BATCH = {dialect: _batch_statements(dialect) for dialect in _DIALECTS}
_INSERT_ROWS = insert(R.__table__)


async def _copy_rows(connection: AsyncConnection, rows: Sequence[LedgerRow]) -> None:
    """PostgreSQL: the rows in one ``COPY`` inside the current transaction (an attribution
    batch writes hundreds). Each value goes through its column's bind processing first, as an
    INSERT's would, so it is checked the same way (an exact decimal that does not fit is
    refused, not rounded). A violated constraint is reported as the ``IntegrityError`` an
    INSERT would raise, so callers see the same ``Conflict``."""
    table = R.__table__
    process = [
        (i, processor)
        for i, name in enumerate(_COLUMNS)
        if (processor := table.c[name].type._cached_bind_processor(connection.dialect)) is not None
    ]
    records = []
    for row in rows:
        values = list(_record(row))
        for i, processor in process:
            values[i] = processor(values[i])
        records.append(tuple(values))
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    try:
        await driver.copy_records_to_table(table.name, records=records, columns=_COLUMNS)
    except asyncpg.PostgresError as exc:
        state = str(getattr(exc, "sqlstate", ""))
        error = (IntegrityError if state.startswith("23") else DBAPIError)(f"COPY {table.name}", None, exc)
        raise error from exc


class SqlRevenueLedger:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def conversations_due(self, *, ended_before: datetime, limit: int) -> list[str]:
        # Exactly the predicate of ix_conversation_attribution_queue, walked in its order.
        rows = await self._s.scalars(
            select(Conversation.id)
            .where(
                Conversation.attributed_at.is_(None),
                Conversation.purchase_id.is_not(None),
                Conversation.status.in_(_ENDED),
                Conversation.ended_at <= ended_before,
            )
            .order_by(Conversation.ended_at, Conversation.id)
            .limit(limit)
        )
        return list(rows)

    async def attribution_input(self, conversation_id: str) -> AttributionInput | None:
        conv = await self._s.get(Conversation, conversation_id, populate_existing=True)
        if conv is None or conv.purchase_id is None:
            return None
        purchase = await self._s.get(Purchase, conv.purchase_id, populate_existing=True)
        if purchase is None:
            return None
        funded = await self.funded_conversations(purchase.id)
        usage = await self._s.execute(
            select(ConversationSourceUsage.source_id, ConversationSourceUsage.total_tokens).where(
                ConversationSourceUsage.conversation_id == conversation_id
            )
        )
        tokens = {source_id: int(total) for source_id, total in usage}
        version_sources = await self._version_sources(conv.chatbot_version_id, conv.chatbot_id)
        paid = {s for s, t in tokens.items() if t > 0} or version_sources
        return AttributionInput(
            conversation_id=conv.id,
            purchaser_user_id=purchase.purchaser_user_id,
            purchase=_purchase(purchase),
            funded_conversation_ids=tuple(funded),
            source_tokens=tokens,
            version_source_ids=frozenset(version_sources),
            shares=await self._shares(paid),
        )

    async def attribution_inputs(self, conversation_ids: Sequence[str]) -> dict[str, AttributionInput]:
        """``attribution_input`` for many conversations in a fixed number of queries; the
        purchases are locked (in id order, so concurrent batches cannot deadlock)."""
        ids = sorted(set(conversation_ids))
        if not ids:
            return {}
        # Core rows of the columns needed, not ORM objects: a batch reads hundreds of each.
        batch = self._batch()
        convs = (await self._s.execute(batch["conversations"], {"ids": ids})).all()
        purchase_ids = sorted({c.purchase_id for c in convs if c.purchase_id is not None})
        purchases = {p.id: p for p in await self._s.execute(batch["purchases"], {"ids": purchase_ids})}
        funded: dict[str, list[str]] = defaultdict(list)
        for conv_id, purchase_id in await self._s.execute(batch["funded"], {"ids": purchase_ids}):
            funded[str(purchase_id)].append(conv_id)
        tokens: dict[str, dict[str, int]] = defaultdict(dict)
        for conv_id, source_id, total in await self._s.execute(batch["usage"], {"ids": ids}):
            tokens[conv_id][source_id] = int(total)
        version_sources: dict[tuple[str, str], set[str]] = {}
        for conv in convs:
            key = (conv.chatbot_version_id, conv.chatbot_id)
            if key not in version_sources:
                version_sources[key] = await self._version_sources(*key)
        paid: dict[str, set[str]] = {}
        for conv in convs:
            used = {src for src, t in tokens[conv.id].items() if t > 0}
            paid[conv.id] = used or version_sources[(conv.chatbot_version_id, conv.chatbot_id)]
        shares = await self._shares(set().union(*paid.values()) if paid else set())
        out: dict[str, AttributionInput] = {}
        for conv in convs:
            purchase = purchases.get(conv.purchase_id or "")
            if purchase is None:
                continue
            out[conv.id] = AttributionInput(
                conversation_id=conv.id,
                purchaser_user_id=purchase.purchaser_user_id,
                purchase=_purchase(purchase),
                funded_conversation_ids=tuple(sorted(funded[purchase.id])),
                source_tokens=tokens[conv.id],
                version_source_ids=frozenset(version_sources[(conv.chatbot_version_id, conv.chatbot_id)]),
                shares={src: shares[src] for src in paid[conv.id] if src in shares},
            )
        return out

    async def lost_chargebacks(self, purchase_ids: Sequence[str]) -> dict[str, int]:
        rows = await self._s.execute(self._batch()["lost"], {"ids": sorted(set(purchase_ids))})
        return {purchase_id: int(total) for purchase_id, total in rows}

    async def mark_many_attributed(self, conversation_ids: Sequence[str], *, at: datetime) -> int:
        return await execute_update(
            self._s, self._batch()["mark"], {"ids": sorted(set(conversation_ids)), "at": at}
        )

    def _batch(self) -> dict[str, Any]:
        return _BATCH[self._s.get_bind().dialect.name]

    async def _version_sources(self, version_id: str, chatbot_id: str) -> set[str]:
        rag = await self._s.scalar(
            select(ChatbotVersion.rag_settings_json).where(ChatbotVersion.id == version_id)
        )
        if rag and rag.get("scope") == "SELECTED_SOURCES":
            return set(rag.get("source_ids") or ())
        rows = await self._s.scalars(
            select(SourceCreator.source_id)
            .join(ChatbotCreator, ChatbotCreator.creator_id == SourceCreator.creator_id)
            .where(ChatbotCreator.chatbot_id == chatbot_id)
            .distinct()
        )
        return set(rows)

    async def _shares(self, source_ids: set[str]) -> dict[str, dict[str, Decimal]]:
        if not source_ids:
            return {}
        rows = await self._s.execute(
            select(SourceCreator.source_id, SourceCreator.creator_id, SourceCreator.revenue_share).where(
                SourceCreator.source_id.in_(sorted(source_ids))
            )
        )
        grouped: dict[str, dict[str, Decimal | None]] = defaultdict(dict)
        for source_id, creator_id, share in rows:
            grouped[source_id][creator_id] = share
        out: dict[str, dict[str, Decimal]] = {}
        for source_id, by_creator in grouped.items():
            if any(v is None for v in by_creator.values()):
                # shares never set: the co-creators share equally (ShareSet.equal's rule)
                out[source_id] = ShareSet.equal(by_creator).weights()
            else:
                out[source_id] = {c: v for c, v in by_creator.items() if v is not None}
        return out

    async def add_rows(self, rows: Sequence[LedgerRow]) -> None:
        if not rows:
            return
        try:
            async with self._s.begin_nested():
                connection = await self._s.connection()
                if connection.dialect.name == "postgresql":
                    await _copy_rows(connection, rows)
                else:
                    await connection.execute(
                        _INSERT_ROWS, [dict(zip(_COLUMNS, _record(r), strict=True)) for r in rows]
                    )
        except DBAPIError as exc:
            if is_integrity_error(exc):
                raise conflict_from(exc, codes=_CODES) from exc
            raise

    async def mark_attributed(self, conversation_id: str, *, at: datetime) -> bool:
        changed = await execute_update(
            self._s,
            update(Conversation)
            .where(
                Conversation.id == conversation_id,
                Conversation.attributed_at.is_(None),
                Conversation.status.in_(_ENDED),
            )
            .values(status=enums.ConversationStatus.ATTRIBUTED, attributed_at=at, updated_at=at),
        )
        return changed == 1

    async def rows_of_purchase(self, purchase_id: str) -> list[LedgerRow]:
        rows = await self._s.scalars(
            select(R)
            .where(R.purchase_id == purchase_id)
            .order_by(R.conversation_id, R.id)
            .execution_options(populate_existing=True)
        )
        return [_row(r) for r in rows]

    async def funded_conversations(self, purchase_id: str) -> list[str]:
        rows = await self._s.scalars(
            select(Conversation.id).where(Conversation.purchase_id == purchase_id).order_by(Conversation.id)
        )
        return list(rows)

    async def attributed_without_rows(self, purchase_id: str) -> list[str]:
        has_rows = select(R.id).where(R.conversation_id == Conversation.id).exists()
        rows = await self._s.scalars(
            select(Conversation.id)
            .where(
                Conversation.purchase_id == purchase_id, Conversation.attributed_at.is_not(None), ~has_rows
            )
            .order_by(Conversation.id)
        )
        return list(rows)

    async def unpaid_balances(self) -> list[Balance]:
        rows = await self._s.execute(
            select(R.creator_id, R.currency, func.sum(R.amount_cents))
            .where(R.payout_id.is_(None))
            .group_by(R.creator_id, R.currency)
            .order_by(R.creator_id, R.currency)
        )
        return [Balance(creator_id=c, currency=cur, amount=int(total)) for c, cur, total in rows]

    async def claim_for_payout(self, *, creator_id: str, currency: str, payout_id: str) -> int:
        await execute_update(
            self._s,
            update(R)
            .where(R.creator_id == creator_id, R.currency == currency, R.payout_id.is_(None))
            .values(payout_id=payout_id, payout_status=enums.PayoutStatus.PROCESSING),
        )
        total = await self._s.scalar(
            select(func.coalesce(func.sum(R.amount_cents), 0)).where(R.payout_id == payout_id)
        )
        return int(total or 0)

    async def settle_payout(self, payout_id: str, *, processor: str, transfer_id: str, at: datetime) -> None:
        await execute_update(
            self._s,
            update(R)
            .where(R.payout_id == payout_id)
            .values(
                payout_status=enums.PayoutStatus.COMPLETED,
                payout_processor=enums.PaymentProcessor(processor),
                external_transfer_id=transfer_id,
                paid_out_at=at,
            ),
        )

    async def release_payout(self, payout_id: str) -> None:
        await execute_update(
            self._s,
            update(R)
            .where(R.payout_id == payout_id)
            .values(payout_id=None, payout_status=enums.PayoutStatus.PENDING, paid_out_at=None),
        )

    async def statement(
        self,
        creator_id: str,
        *,
        start: datetime,
        end: datetime,
        after: tuple[datetime, str] | None = None,
        limit: int | None = None,
    ) -> list[StatementLine]:
        stmt = (
            select(
                R,
                Purchase.payment_processor,
                Purchase.external_payment_id,
                Purchase.amount_cents,
                Source.title,
            )
            .outerjoin(Purchase, Purchase.id == R.purchase_id)
            .join(Source, Source.id == R.source_id)
            .where(R.creator_id == creator_id, R.created_at >= start, R.created_at < end)
            .order_by(R.created_at, R.id)
        )
        if after is not None:
            at, row_id = after
            stmt = stmt.where(or_(R.created_at > at, and_(R.created_at == at, R.id > row_id)))
        if limit is not None:
            stmt = stmt.limit(limit)
        rows = await self._s.execute(stmt)
        return [
            StatementLine(
                row=_row(r),
                conversation_id=r.conversation_id,
                purchase_id=r.purchase_id,
                purchase_processor=proc.value if proc is not None else None,
                purchase_external_id=external,
                purchase_amount=amount,
                source_title=title,
            )
            for r, proc, external, amount, title in rows
        ]

    async def statement_totals(self, creator_id: str, *, start: datetime, end: datetime) -> dict[str, int]:
        rows = await self._s.execute(
            select(R.currency, func.sum(R.amount_cents))
            .where(R.creator_id == creator_id, R.created_at >= start, R.created_at < end)
            .group_by(R.currency)
        )
        return {currency: int(total) for currency, total in rows}

    async def summarize(self, creator_id: str | None = None) -> list[SummaryRow]:
        stmt = select(
            R.creator_id,
            R.currency,
            R.created_at,
            R.kind,
            R.amount_cents,
            R.platform_share_cents,
            R.conversation_id,
        )
        if creator_id is not None:
            stmt = stmt.where(R.creator_id == creator_id)
        totals: dict[tuple[str, int, int, str], tuple[list[int], set[str]]] = {}
        for creator, currency, created, kind, amount, platform, conversation in await self._s.execute(stmt):
            key = (creator, created.year, created.month, currency)
            sums, conversations = totals.setdefault(key, ([0, 0], set()))
            sums[0] += amount
            sums[1] += platform
            if kind in _ATTRIBUTED:
                conversations.add(conversation)
        stored_stmt = select(CreatorRevenueSummary)
        if creator_id is not None:
            stored_stmt = stored_stmt.where(CreatorRevenueSummary.creator_id == creator_id)
        existing = {
            (s.creator_id, s.year, s.month, s.currency): s
            for s in await self._s.scalars(stored_stmt.execution_options(populate_existing=True))
        }
        out: list[SummaryRow] = []
        for key in sorted(set(totals) | set(existing)):
            (creators, platform), conversations = totals.get(key, ([0, 0], set()))
            summary = SummaryRow(
                creator_id=key[0],
                year=key[1],
                month=key[2],
                currency=key[3],
                total_revenue=creators + platform,
                creator_share=creators,
                platform_share=platform,
                conversation_count=len(conversations),
            )
            out.append(summary)
            stored = existing.get(key)
            if stored is None:
                stored = CreatorRevenueSummary(
                    id=new_id(), creator_id=key[0], year=key[1], month=key[2], currency=key[3]
                )
                self._s.add(stored)
            stored.total_revenue_cents = summary.total_revenue
            stored.creator_share_cents = summary.creator_share
            stored.platform_share_cents = summary.platform_share
            stored.conversation_count = summary.conversation_count
        await self._s.flush()
        return out

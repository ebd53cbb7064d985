"""Money: reinstatements (a dispute won back), the platform's share per ledger row.

- ``revenue_per_conversation.kind`` gains REINSTATEMENT: a row giving reversed money back,
  with ``reverses_id`` and a key like ``chargeback-won:<id>`` and never a negative amount; the
  ``reversal_shape`` and ``funding_matches_kind`` checks say so.
- ``revenue_per_conversation.platform_share_cents``: the part of the platform's cut a row
  accounts for, so summaries can report what the platform kept (total = creators + platform).
- ``chargeback.lost_at``: when the money was taken, so a dispute won after it was lost can be
  told from one won outright, whatever order the events arrive in. Disputes already LOST get
  their ``closed_at`` (when the loss was recorded).
- The single-column index on ``revenue_per_conversation.conversation_id`` goes: the unique
  constraint (conversation_id, source_id, creator_id, kind, reversal_key) leads with it, and
  every insert paid for both.

Backfill of ``platform_share_cents`` for the rows written before this revision (the platform's
share percentage is configuration, not data, so it is derived from the amounts instead):

- ENTERPRISE rows, exactly as new rows get it: the allocation's amount minus its rows is the
  platform's cut, spread over the allocation's rows by (conversation, source) tokens, then by
  the co-creators' shares.
- Purchase rows: per conversation, the platform kept ``gross part - fee part - sum(creator
  rows)`` (the purchase's remaining gross and its fee divided equally across the conversations
  it funded, as attribution divides them). That amount is spread over the conversation's
  ATTRIBUTION rows by source tokens (equally without tokens), then shares; REVERSAL rows get
  0. For a conversation without reversals this is exactly what new rows get; with older
  reversals the conversation's total is exact and the platform's change from those reversals is
  booked with the attribution instead of the reversal.

Downgrading fails while REINSTATEMENT rows exist: the older schema cannot hold them, and
ledger rows are never deleted.

Revision ID: 0008
Revises: 0007_intake
Create Date: 2025-01-08 00:00:00
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007_intake"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "revenue_per_conversation"
TIMESTAMP = sa.DateTime(timezone=True)

KIND_BEFORE = "kind IN ('ATTRIBUTION', 'ENTERPRISE', 'REVERSAL')"
KIND_AFTER = "kind IN ('ATTRIBUTION', 'ENTERPRISE', 'REVERSAL', 'REINSTATEMENT')"
SHAPE_BEFORE = (
    "(kind = 'REVERSAL' AND reverses_id IS NOT NULL AND reversal_key <> '' AND amount_cents <= 0)"
    " OR (kind <> 'REVERSAL' AND reverses_id IS NULL AND reversal_key = '' AND amount_cents >= 0)"
)
SHAPE_AFTER = (
    "(kind = 'REVERSAL' AND reverses_id IS NOT NULL AND reversal_key <> '' AND amount_cents <= 0)"
    " OR (kind = 'REINSTATEMENT' AND reverses_id IS NOT NULL AND reversal_key <> '' AND amount_cents >= 0)"
    " OR (kind IN ('ATTRIBUTION', 'ENTERPRISE') AND reverses_id IS NULL AND reversal_key = ''"
    " AND amount_cents >= 0)"
)
FUNDING_BEFORE = (
    "(kind = 'ENTERPRISE' AND enterprise_allocation_id IS NOT NULL AND purchase_id IS NULL)"
    " OR (kind = 'ATTRIBUTION' AND purchase_id IS NOT NULL AND enterprise_allocation_id IS NULL)"
    " OR kind = 'REVERSAL'"
)
FUNDING_AFTER = (
    "(kind = 'ENTERPRISE' AND enterprise_allocation_id IS NOT NULL AND purchase_id IS NULL)"
    " OR (kind = 'ATTRIBUTION' AND purchase_id IS NOT NULL AND enterprise_allocation_id IS NULL)"
    " OR kind IN ('REVERSAL', 'REINSTATEMENT')"
)


def _replace_checks(batch: Any, kind: str, shape: str, funding: str) -> None:
    for name in ("kind", "reversal_shape", "funding_matches_kind"):
        batch.drop_constraint(op.f(f"ck_{TABLE}_{name}"), type_="check")
    batch.create_check_constraint(op.f(f"ck_{TABLE}_kind"), kind)
    batch.create_check_constraint(op.f(f"ck_{TABLE}_reversal_shape"), shape)
    batch.create_check_constraint(op.f(f"ck_{TABLE}_funding_matches_kind"), funding)


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(sa.Column("platform_share_cents", sa.BigInteger(), nullable=True))
        batch.drop_index(op.f(f"ix_{TABLE}_conversation_id"))
        _replace_checks(batch, KIND_AFTER, SHAPE_AFTER, FUNDING_AFTER)
    with op.batch_alter_table("chargeback") as batch:
        batch.add_column(sa.Column("lost_at", TIMESTAMP, nullable=True))
    chargeback = sa.table("chargeback", sa.column("status"), sa.column("closed_at"), sa.column("lost_at"))
    op.execute(
        chargeback.update().where(chargeback.c.status == "LOST").values(lost_at=chargeback.c.closed_at)
    )
    _backfill(op.get_bind())
    with op.batch_alter_table(TABLE) as batch:
        batch.alter_column("platform_share_cents", existing_type=sa.BigInteger(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("chargeback") as batch:
        batch.drop_column("lost_at")
    with op.batch_alter_table(TABLE) as batch:
        _replace_checks(batch, KIND_BEFORE, SHAPE_BEFORE, FUNDING_BEFORE)
        batch.create_index(op.f(f"ix_{TABLE}_conversation_id"), ["conversation_id"], unique=False)
        batch.drop_column("platform_share_cents")


# ---- backfill -------------------------------------------------------------------------------
# The allocation rule is copied here (largest remainder; leftover units by remainder, then
# weight, then key) rather than imported: a revision must not change when application code does.


def _allocate(total: int, weights: Mapping[Any, Fraction]) -> dict[Any, int]:
    if total < 0:
        return {k: -v for k, v in _allocate(-total, weights).items()}
    weight_sum = sum(weights.values(), Fraction(0))
    if weight_sum == 0:
        weights = dict.fromkeys(weights, Fraction(1))
        weight_sum = Fraction(len(weights))
    parts: dict[Any, int] = {}
    remainders: list[tuple[Fraction, Fraction, Any]] = []
    for key, weight in weights.items():
        quota = total * weight / weight_sum
        parts[key] = quota.numerator // quota.denominator
        remainders.append((quota - parts[key], weight, key))
    remainders.sort(key=lambda r: (-r[0], -r[1], r[2]))
    for _, _, key in remainders[: total - sum(parts.values())]:
        parts[key] += 1
    return parts


def _spread(total: int, rows: Sequence[Any], group: Any) -> dict[str, int]:
    """Row id -> its part of ``total``: across ``group(row)`` by token count (equally when none
    has tokens), then across each group's rows by share."""
    by_group: dict[Hashable, list[Any]] = defaultdict(list)
    for row in rows:
        by_group[group(row)].append(row)
    tokens = {g: Fraction(max(int(r.token_count) for r in rs)) for g, rs in by_group.items()}
    out: dict[str, int] = {}
    for g, part in _allocate(total, tokens).items():
        shares = {r.creator_id: Fraction(Decimal(str(r.share))) for r in by_group[g]}
        by_creator = _allocate(part, shares)
        for r in by_group[g]:
            out[r.id] = by_creator[r.creator_id]
    return out


def _equal_part(total: int, keys: Sequence[str], key: str) -> int:
    ordered = sorted(set(keys) | {key})
    whole, extra = divmod(total, len(ordered))
    return whole + (1 if ordered.index(key) < extra else 0)


def _backfill(conn: sa.Connection) -> None:
    rpc = sa.table(
        TABLE,
        *(
            sa.column(c)
            for c in (
                "id", "conversation_id", "purchase_id", "enterprise_allocation_id", "source_id",
                "creator_id", "kind", "amount_cents", "token_count", "share", "platform_share_cents",
            )
        ),
    )  # fmt: skip
    rows = conn.execute(
        sa.select(
            rpc.c.id, rpc.c.conversation_id, rpc.c.purchase_id, rpc.c.enterprise_allocation_id,
            rpc.c.source_id, rpc.c.creator_id, rpc.c.kind, rpc.c.amount_cents, rpc.c.token_count,
            rpc.c.share,
        )
    ).all()  # fmt: skip
    updates: dict[str, int] = {}
    enterprise: dict[str, list[Any]] = defaultdict(list)
    conversations: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        if row.kind == "ENTERPRISE":
            enterprise[row.enterprise_allocation_id].append(row)
        elif row.purchase_id is not None:
            conversations[row.conversation_id].append(row)
    if enterprise:
        allocation = sa.table("enterprise_allocation", sa.column("id"), sa.column("amount_cents"))
        amounts = dict(conn.execute(sa.select(allocation.c.id, allocation.c.amount_cents)).all())
        for allocation_id, mine in enterprise.items():
            platform = int(amounts[allocation_id]) - sum(int(r.amount_cents) for r in mine)
            updates.update(_spread(platform, mine, lambda r: (r.conversation_id, r.source_id)))
    if conversations:
        purchase = sa.table(
            "purchase",
            sa.column("id"),
            sa.column("amount_cents"),
            sa.column("processing_fee_cents"),
            sa.column("refunded_cents"),
        )
        chargeback = sa.table(
            "chargeback", sa.column("purchase_id"), sa.column("amount_cents"), sa.column("status")
        )
        conversation = sa.table("conversation", sa.column("id"), sa.column("purchase_id"))
        purchases = {p.id: p for p in conn.execute(sa.select(purchase)).all()}
        lost: dict[str, int] = defaultdict(int)
        for purchase_id, amount in conn.execute(
            sa.select(chargeback.c.purchase_id, chargeback.c.amount_cents).where(
                chargeback.c.status == "LOST"
            )
        ):
            lost[purchase_id] += int(amount)
        funded: dict[str, list[str]] = defaultdict(list)
        for conversation_id, purchase_id in conn.execute(
            sa.select(conversation.c.id, conversation.c.purchase_id).where(
                conversation.c.purchase_id.is_not(None)
            )
        ):
            funded[purchase_id].append(conversation_id)
        for conversation_id, mine in conversations.items():
            p = purchases[mine[0].purchase_id]
            amount, fee = int(p.amount_cents), int(p.processing_fee_cents)
            taken = min(amount, int(p.refunded_cents) + lost[p.id])
            ids = funded[p.id]
            gross = _equal_part(amount - taken, ids, conversation_id)
            platform = gross - _equal_part(fee, ids, conversation_id) - sum(int(r.amount_cents) for r in mine)
            originals = [r for r in mine if r.kind == "ATTRIBUTION"]
            if originals:
                updates.update(_spread(platform, originals, lambda r: r.source_id))
    if updates:
        conn.execute(
            rpc.update()
            .where(rpc.c.id == sa.bindparam("row_id"))
            .values(platform_share_cents=sa.bindparam("p")),
            [{"row_id": row_id, "p": part} for row_id, part in updates.items()],
        )
    conn.execute(rpc.update().where(rpc.c.platform_share_cents.is_(None)).values(platform_share_cents=0))

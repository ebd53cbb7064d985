"""The attribution queue as an index; the ledger's indexes fitted to its queries.

The attribution job asks for purchased conversations that have ended and are not attributed
yet, oldest end first, a batch at a time. Without an index that answers it, every batch scans
and sorts all of them (at a million queued conversations, seconds per batch). The partial index
holds exactly the queue, in the order it is taken: (``ended_at``, ``id``) of the COMPLETED or
EXPIRED purchased conversations with no ``attributed_at``; a conversation leaves it when it is
attributed.

The query orders by ``ended_at`` (it used ``coalesce(ended_at, completed_at, expires_at)``):
every ended conversation carries ``ended_at`` (the domain refuses a COMPLETED or EXPIRED
conversation without it), and rows that somehow lack it are given it here, from the same
fallbacks, so nothing leaves the queue.

``revenue_per_conversation`` is insert-heavy (an attribution run writes a row per source and
co-creator of every conversation), and every index is paid on every insert:

- ``payout_status`` had an index no query uses: dropped.
- ``payout_id`` and ``reverses_id`` are NULL on every new attribution row; their indexes serve
  lookups of a given payout's or row's id only, so they become partial (``IS NOT NULL``) and a
  new row maintains neither.
- The unpaid rows (``payout_id IS NULL``), by creator and currency, get a partial index: it
  answers the payout run's balances and the claiming of a creator's rows without reading the
  paid-out history.

Revision ID: 0009
Revises: 0008
Create Date: 2025-01-09 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_conversation_attribution_queue"
QUEUE = "attributed_at IS NULL AND purchase_id IS NOT NULL AND status IN ('COMPLETED', 'EXPIRED')"


LEDGER = "revenue_per_conversation"


def upgrade() -> None:
    op.execute(
        "UPDATE conversation SET ended_at = COALESCE(completed_at, expires_at) "
        "WHERE ended_at IS NULL AND status IN ('COMPLETED', 'EXPIRED')"
    )
    op.create_index(
        INDEX,
        "conversation",
        ["ended_at", "id"],
        sqlite_where=sa.text(QUEUE),
        postgresql_where=sa.text(QUEUE),
    )
    op.drop_index(f"ix_{LEDGER}_payout_status", table_name=LEDGER)
    for column in ("payout_id", "reverses_id"):
        op.drop_index(f"ix_{LEDGER}_{column}", table_name=LEDGER)
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(f"ix_{LEDGER}_{column}", LEDGER, [column], sqlite_where=where, postgresql_where=where)
    unpaid = sa.text("payout_id IS NULL")
    op.create_index(
        f"ix_{LEDGER}_unpaid",
        LEDGER,
        ["creator_id", "currency"],
        sqlite_where=unpaid,
        postgresql_where=unpaid,
    )


def downgrade() -> None:
    op.drop_index(f"ix_{LEDGER}_unpaid", table_name=LEDGER)
    for column in ("payout_id", "reverses_id"):
        op.drop_index(f"ix_{LEDGER}_{column}", table_name=LEDGER)
        op.create_index(f"ix_{LEDGER}_{column}", LEDGER, [column])
    op.create_index(f"ix_{LEDGER}_payout_status", LEDGER, ["payout_status"])
    op.drop_index(INDEX, table_name="conversation")

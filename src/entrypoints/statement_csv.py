"""A creator's statement as CSV (the HTTP download and ``canon statements --csv`` share it)."""

from __future__ import annotations

import csv
import io

from application.money.get_statement import Statement
from domain.money import Money

COLUMNS = (
    "booked_at",
    "kind",
    "amount_minor",
    "amount",
    "currency",
    "conversation_id",
    "purchase_id",
    "processor",
    "payment_id",
    "purchase_amount_minor",
    "source_id",
    "source_title",
    "token_count",
    "token_fraction",
    "share",
    "reverses_id",
    "reversal_key",
    "payout_status",
    "payout_id",
    "row_id",
    "platform_share_minor",
)
"""``platform_share_minor`` comes last so the older columns keep their positions."""


def statement_csv(statement: Statement) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for line in statement.lines:
        row = line.row
        writer.writerow(
            (
                row.created_at.isoformat() if row.created_at else "",
                row.kind,
                row.amount,
                Money.of(row.amount, row.currency).format(),
                row.currency,
                line.conversation_id,
                line.purchase_id or "",
                line.purchase_processor or "",
                line.purchase_external_id or "",
                "" if line.purchase_amount is None else line.purchase_amount,
                row.source_id,
                line.source_title,
                row.token_count,
                row.token_fraction,
                row.share,
                row.reverses_id or "",
                row.reversal_key,
                row.payout_status,
                row.payout_id or "",
                row.id,
                row.platform_share,
            )
        )
    for currency, total in sorted(statement.totals.items()):
        writer.writerow(
            ("total", "", total, Money.of(total, currency).format(), currency, *[""] * (len(COLUMNS) - 5))
        )
    return out.getvalue()

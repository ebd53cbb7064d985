"""GetStatement: a creator's monthly statement, every row back to its purchase and source."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from application.errors import InvalidInput
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.money.ports import RevenueLedger, StatementLine

MAX_PAGE = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class GetStatementCommand:
    principal: Principal | None
    """None: the local operator (the CLI on the machine that holds the database)."""
    creator_id: str
    month: str
    """``YYYY-MM``."""
    limit: int | None = None
    """Rows per page (1..100); None: the whole month (CSV exports)."""
    cursor: str | None = None
    """``next_cursor`` of the previous page."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    creator_id: str
    month: str
    lines: list[StatementLine]
    totals: dict[str, int]
    """Currency -> net total of the whole month (reversals included), whatever the page."""
    next_cursor: str | None = None


def month_range(month: str) -> tuple[datetime, datetime]:
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput("month is YYYY-MM", errors={"month": "expected YYYY-MM"}) from None
    if start.month == 12:
        return start, start.replace(year=start.year + 1, month=1)
    return start, start.replace(month=start.month + 1)


def _encode(line: StatementLine) -> str:
    booked = line.row.created_at.isoformat() if line.row.created_at else ""
    return base64.urlsafe_b64encode(json.dumps([booked, line.row.id]).encode()).decode()


def _decode(cursor: str) -> tuple[datetime, str]:
    try:
        booked, row_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(booked), str(row_id)
    except (ValueError, TypeError):
        raise InvalidInput("unreadable cursor", errors={"cursor": "not a cursor from this list"}) from None


class GetStatement:
    """Lists every ledger row of one creator booked in one calendar month (UTC).

    - Owners, admins and operators (``revenue.view-statements``); API keys with that grant.
    - Each line names its conversation, purchase (processor and payment id), source, tokens,
      share and amount; reversals appear as their own negative lines.
    - Pages of up to 100 rows in booking order with an opaque cursor; totals are per currency
      for the whole month (amounts in different currencies are never added).
    """

    def __init__(self, ledger: RevenueLedger, authorizer: Authorizer) -> None:
        self._ledger = ledger
        self._authorizer = authorizer

    async def __call__(self, command: GetStatementCommand) -> Statement:
        if command.principal is not None:
            await self._authorizer.require(
                command.principal, Action.REVENUE_VIEW_STATEMENTS, Resource.creator(command.creator_id)
            )
        start, end = month_range(command.month)
        limit = None if command.limit is None else max(1, min(command.limit, MAX_PAGE))
        after = _decode(command.cursor) if command.cursor else None
        lines = await self._ledger.statement(
            command.creator_id, start=start, end=end, after=after, limit=None if limit is None else limit + 1
        )
        next_cursor = None
        if limit is not None and len(lines) > limit:
            lines = lines[:limit]
            next_cursor = _encode(lines[-1])
        totals = await self._ledger.statement_totals(command.creator_id, start=start, end=end)
        return Statement(
            creator_id=command.creator_id,
            month=command.month,
            lines=lines,
            totals=totals,
            next_cursor=next_cursor,
        )

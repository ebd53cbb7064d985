"""GetStatement: a creator's monthly statement, every row back to its purchase and source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from application.errors import InvalidInput
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.money.ports import RevenueLedger, StatementLine


@dataclass(frozen=True, slots=True, kw_only=True)
class GetStatementCommand:
    principal: Principal | None
    """None: the local operator (the CLI on the machine that holds the database)."""
    creator_id: str
    month: str
    """``YYYY-MM``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    creator_id: str
    month: str
    lines: list[StatementLine]
    totals: dict[str, int]
    """Currency -> net total of the month (reversals included)."""


def month_range(month: str) -> tuple[datetime, datetime]:
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput("month is YYYY-MM", errors={"month": "expected YYYY-MM"}) from None
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, end


class GetStatement:
    """Lists every ledger row of one creator booked in one calendar month (UTC).

    - Owners, admins and operators (``revenue.view-statements``); API keys with that grant.
    - Each line names its conversation, purchase (processor and payment id), source, tokens,
      share and amount; reversals appear as their own negative lines.
    - Totals are per currency: amounts in different currencies are never added.
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
        lines = await self._ledger.statement(command.creator_id, start=start, end=end)
        totals: dict[str, int] = {}
        for line in lines:
            totals[line.row.currency] = totals.get(line.row.currency, 0) + line.row.amount
        return Statement(creator_id=command.creator_id, month=command.month, lines=lines, totals=totals)

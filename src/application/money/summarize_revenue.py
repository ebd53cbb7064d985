"""SummarizeRevenue: recompute the creator revenue summaries from the ledger rows."""

from __future__ import annotations

from dataclasses import dataclass

from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.money.ports import RevenueLedger, SummaryRow
from application.ports.uow import UnitOfWork


@dataclass(frozen=True, slots=True, kw_only=True)
class SummarizeRevenueCommand:
    principal: Principal | None = None
    """None: the scheduler itself."""
    creator_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RevenueSummaries:
    rows: list[SummaryRow]


class SummarizeRevenue:
    """Derives creator_revenue_summary (per creator, month and currency) from the rows alone.

    - Over the rows booked in the month: ``creator_share`` = their amounts (reversals and
      reinstatements included), ``platform_share`` = the platform's shares they carry (what
      the platform kept from this creator's work: its cut of each sale spread over the sale's
      rows, and its later changes), ``total_revenue`` = creator share + platform share (the
      sales' money after processing fees); ``conversation_count``: the conversations
      attributed (ATTRIBUTION and ENTERPRISE rows).
    - Recomputing gives the same values at any time (a month's rows never change).
    - A creator's own summary needs ``revenue.view-statements``; all creators: operators.
    """

    def __init__(self, ledger: RevenueLedger, authorizer: Authorizer, uow: UnitOfWork) -> None:
        self._ledger = ledger
        self._authorizer = authorizer
        self._uow = uow

    async def __call__(self, command: SummarizeRevenueCommand) -> RevenueSummaries:
        if command.principal is not None:
            if command.creator_id is not None:
                resource = Resource.creator(command.creator_id)
                await self._authorizer.require(command.principal, Action.REVENUE_VIEW_STATEMENTS, resource)
            else:
                await self._authorizer.require(command.principal, Action.ATTRIBUTION_RUN, Resource.platform())
        rows = await self._ledger.summarize(command.creator_id)
        await self._uow.commit()
        return RevenueSummaries(rows=rows)

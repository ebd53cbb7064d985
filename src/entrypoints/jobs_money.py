"""Money jobs: processing stored webhooks, attribution, summaries, payouts and delivering the
sandbox processor's queued callbacks. Every handler is idempotent (see each use case)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from dishka import AsyncContainer

from application.money.allocate_enterprise_month import (
    AllocateEnterpriseMonth,
    AllocateEnterpriseMonthCommand,
)
from application.money.attribute_conversations import AttributeConversations, AttributeConversationsCommand
from application.money.enterprise_schedule import months_due
from application.money.ports import MoneySettings
from application.money.process_webhook import ProcessWebhook, ProcessWebhookCommand
from application.money.run_payouts import RunPayouts, RunPayoutsCommand
from application.money.summarize_revenue import SummarizeRevenue, SummarizeRevenueCommand
from application.ports.clock import Clock
from entrypoints.jobs import Handler, job
from entrypoints.sandbox_delivery import deliver_sandbox_events


@job("process-webhook")
def process_webhook(container: AsyncContainer) -> Handler:
    async def run(args: Mapping[str, Any]) -> None:
        async with container() as request:
            uc = await request.get(ProcessWebhook)
            await uc(ProcessWebhookCommand(inbox_id=str(args["inbox_id"])))

    return run


@job("attribute-conversations")
def attribute_conversations(container: AsyncContainer) -> Handler:
    async def run(args: Mapping[str, Any]) -> None:
        limit = int(args.get("limit", 500))
        while True:  # drain: each round attributes up to ``limit`` conversations
            async with container() as request:
                uc = await request.get(AttributeConversations)
                done = await uc(AttributeConversationsCommand(limit=limit))
            progressed = len(done.attributed) + len(done.refunded)
            if progressed == 0 or progressed + len(done.skipped) < limit:
                break
        async with container() as request:
            summarize = await request.get(SummarizeRevenue)
            await summarize(SummarizeRevenueCommand())

    return run


@job("run-payouts")
def run_payouts(container: AsyncContainer) -> Handler:
    async def run(args: Mapping[str, Any]) -> None:
        async with container() as request:
            uc = await request.get(RunPayouts)
            await uc(RunPayoutsCommand())
        await deliver_sandbox_events(container)

    return run


@job("deliver-sandbox-webhooks")
def deliver_sandbox_webhooks(container: AsyncContainer) -> Handler:
    async def run(args: Mapping[str, Any]) -> None:
        await deliver_sandbox_events(container)

    return run


@job("allocate-enterprise-month")
def allocate_enterprise_month(container: AsyncContainer) -> Handler:
    """With ``year`` and ``month``: that month. Without (the periodic schedule): every settled
    month of the last ``lookback`` (default 12), see `application.money.enterprise_schedule`."""

    async def run(args: Mapping[str, Any]) -> None:
        if "year" in args or "month" in args:
            months = [(int(args["year"]), int(args["month"]))]
        else:
            settings = await container.get(MoneySettings)
            clock = await container.get(Clock)
            months = months_due(
                clock.now(),
                settle=timedelta(days=settings.refund_window_days),
                lookback=int(args.get("lookback", 12)),
            )
        for year, month in months:  # one request scope (and transactions) per month
            async with container() as request:
                uc = await request.get(AllocateEnterpriseMonth)
                await uc(AllocateEnterpriseMonthCommand(year=year, month=month))

    return run

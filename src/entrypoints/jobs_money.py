"""Money jobs: processing stored webhooks, attribution, summaries, payouts and delivering the
sandbox processor's queued callbacks. Every handler is idempotent (see each use case)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dishka import AsyncContainer

from application.money.allocate_enterprise_month import (
    AllocateEnterpriseMonth,
    AllocateEnterpriseMonthCommand,
)
from application.money.attribute_conversations import AttributeConversations, AttributeConversationsCommand
from application.money.process_webhook import ProcessWebhook, ProcessWebhookCommand
from application.money.run_payouts import RunPayouts, RunPayoutsCommand
from application.money.summarize_revenue import SummarizeRevenue, SummarizeRevenueCommand
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
    async def run(args: Mapping[str, Any]) -> None:
        async with container() as request:
            uc = await request.get(AllocateEnterpriseMonth)
            await uc(AllocateEnterpriseMonthCommand(year=int(args["year"]), month=int(args["month"])))

    return run

"""`canon attribution run`, `canon payouts run`, `canon statements CREATOR --month YYYY-MM [--csv]`.

These run on the machine that holds the database, as the platform itself (no sign-in): the same
use cases the scheduler's jobs call.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from entrypoints.cli.main import run, settings_from


async def _attribute(ctx: click.Context, limit: int) -> tuple[int, int, int]:
    from application.money.attribute_conversations import (
        AttributeConversations,
        AttributeConversationsCommand,
    )
    from application.money.summarize_revenue import SummarizeRevenue, SummarizeRevenueCommand
    from entrypoints.di import build_container

    container = build_container(settings_from(ctx))
    totals = [0, 0, 0]
    try:
        while True:
            async with container() as request:
                uc = await request.get(AttributeConversations)
                done = await uc(AttributeConversationsCommand(limit=limit))
            totals[0] += len(done.attributed)
            totals[1] += len(done.refunded)
            totals[2] += len(done.skipped)
            progressed = len(done.attributed) + len(done.refunded)
            if progressed == 0 or progressed + len(done.skipped) < limit:
                break
        async with container() as request:
            summarize = await request.get(SummarizeRevenue)
            await summarize(SummarizeRevenueCommand())
    finally:
        await container.close()
    return totals[0], totals[1], totals[2]


async def _payouts(ctx: click.Context) -> tuple[list[str], list[str], list[str]]:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from adapters.jobs.outbox import OutboxRelay
    from application.money.run_payouts import RunPayouts, RunPayoutsCommand
    from application.ports.clock import Clock
    from entrypoints.di import build_container
    from entrypoints.runtime import make_job_runner
    from entrypoints.sandbox_delivery import deliver_sandbox_events

    settings = settings_from(ctx)
    container = build_container(settings)
    try:
        async with container() as request:
            uc = await request.get(RunPayouts)
            done = await uc(RunPayoutsCommand())
        # the sandbox settles at once: deliver its callbacks and process them now
        if await deliver_sandbox_events(container):
            factory = await container.get(async_sessionmaker[AsyncSession])
            await OutboxRelay(factory, await container.get(Clock)).relay_once()
            await (await make_job_runner(container, settings)).run_until_idle()
    finally:
        await container.close()
    return done.completed, done.failed, done.pending


async def _statement(ctx: click.Context, creator_id: str, month: str, as_csv: bool) -> str:
    from application.money.get_statement import GetStatement, GetStatementCommand
    from domain.money import Money
    from entrypoints.di import build_container
    from entrypoints.statement_csv import statement_csv

    container = build_container(settings_from(ctx))
    try:
        async with container() as request:
            uc = await request.get(GetStatement)
            statement = await uc(GetStatementCommand(principal=None, creator_id=creator_id, month=month))
    finally:
        await container.close()
    if as_csv:
        return statement_csv(statement)
    lines = [f"Statement of {creator_id} for {month}: {len(statement.lines)} rows"]
    for line in statement.lines:
        row = line.row
        lines.append(
            f"  {row.kind:<13} {Money.of(row.amount, row.currency)!s:>14}  {line.source_title[:40]:<40} "
            f"conversation {line.conversation_id} purchase {line.purchase_id or '-'}"
        )
    for currency, total in sorted(statement.totals.items()):
        lines.append(f"  total {Money.of(total, currency)}")
    return "\n".join(lines)


@click.group()
def attribution() -> None:
    """Revenue attribution of ended conversations."""


@attribution.command("run")
@click.option("--limit", default=500, show_default=True, help="Conversations per transaction batch.")
@click.pass_context
def attribution_run(ctx: click.Context, limit: int) -> None:
    """Attribute every conversation whose refund window has passed, then refresh summaries."""
    attributed, refunded, skipped = run(_attribute(ctx, max(1, limit)))
    click.echo(f"attributed {attributed}, refunded (nothing to pay) {refunded}, skipped {skipped}")


@click.group()
def payouts() -> None:
    """Creator payouts."""


@payouts.command("run")
@click.pass_context
def payouts_run(ctx: click.Context) -> None:
    """Pay every creator's unpaid balance above the minimum through the payout processor."""
    completed, failed, pending = run(_payouts(ctx))
    click.echo(f"completed {len(completed)}, failed {len(failed)}, awaiting the processor {len(pending)}")


@click.command()
@click.argument("creator_id")
@click.option("--month", default=lambda: datetime.now(UTC).strftime("%Y-%m"), help="YYYY-MM (UTC).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")
@click.pass_context
def statements(ctx: click.Context, creator_id: str, month: str, as_csv: bool) -> None:
    """A creator's monthly statement: every row back to its purchase, conversation and source."""
    click.echo(run(_statement(ctx, creator_id, month, as_csv)), nl=not as_csv)

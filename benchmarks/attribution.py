"""Attribution throughput, beside a floor measured in the same run.

    python benchmarks/attribution.py                        # 1,000,000 conversations, PostgreSQL
    python benchmarks/attribution.py --conversations 20000  # CI-sized
    python benchmarks/attribution.py --database-url sqlite  # a temp SQLite file instead

What is timed: the ``AttributeConversations`` use case (what the ``attribute-conversations`` job
runs) over N ended, purchased conversations whose refund window has passed: reading each
batch's inputs, locking the purchases, the guarded status change, the allocation arithmetic and
inserting the ledger rows, committed batch by batch.

The floor, measured in the same process on the same inputs: the allocation arithmetic alone
(``domain.revenue.attribute`` per conversation, inputs already in memory) plus writing the same
output rows into an unindexed scratch table with COPY (PostgreSQL) or one executemany
(SQLite). The last line is ``ratio: X (target 3.0)``: use-case time / floor time.

On PostgreSQL a database ``canon_bench_attribution_<random>`` is created beside the server URL
(default ``postgresql+asyncpg://postgres@127.0.0.1:5432/``) and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import secrets
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

import asyncpg  # noqa: E402
from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker  # noqa: E402

from adapters.clock import FakeClock  # noqa: E402
from adapters.persistence.engine import create_engine  # noqa: E402
from adapters.persistence.migrate import upgrade  # noqa: E402
from adapters.persistence.models import ChatbotVersion  # noqa: E402
from adapters.persistence.repositories.money import SqlPurchaseRepository  # noqa: E402
from adapters.persistence.repositories.money_ledger import SqlRevenueLedger  # noqa: E402
from adapters.persistence.repositories.roles import SqlRoleResolver  # noqa: E402
from adapters.persistence.uow import SqlAlchemyUnitOfWork  # noqa: E402
from application.identity.authorizer import MatrixAuthorizer  # noqa: E402
from application.money import ledger_math  # noqa: E402
from application.money.attribute_conversations import (  # noqa: E402
    AttributeConversations,
    AttributeConversationsCommand,
)
from application.money.ports import AttributionInput, MoneySettings, PurchaseRecord  # noqa: E402
from domain.ids import new_id  # noqa: E402
from domain.revenue import RevenuePolicy  # noqa: E402

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/"
PRICE, FEE = 1000, 59


def _rig() -> Any:
    path = ROOT / "tests" / "application" / "money" / "money_rig.py"
    spec = importlib.util.spec_from_file_location("money_rig", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["money_rig"] = module
    spec.loader.exec_module(module)
    return module


def _tokens(n: int, sources: list[str]) -> dict[str, int]:
    # a deterministic mix: one source, both, or none (the equal-split rule)
    kind = n % 5
    if kind == 4:
        return {}
    if kind == 3:
        return {sources[0]: 100 + n % 97, sources[1]: 50 + n % 31}
    return {sources[kind % 2]: 10 + n % 400}


async def _seed(engine: AsyncEngine, n: int, postgres: bool) -> tuple[Any, dict[str, dict[str, int]]]:
    rig = _rig().MoneyRig(engine, async_sessionmaker(engine, expire_on_commit=False))
    world = await rig.seed(price=PRICE)
    sources = [world.source_shared, world.source_b]
    ended = rig.clock.now() - timedelta(days=30)
    purchases, conversations, usage = [], [], []
    tokens: dict[str, dict[str, int]] = {}
    for i in range(n):
        pid, cid = new_id(), new_id()
        purchases.append(
            (
                pid,
                world.buyer_id,
                world.chatbot_id,
                "SANDBOX",
                f"pay_bench_{i}",
                PRICE - FEE,
                FEE,
                "USD",
                PRICE,
                0,
                "COMPLETED",
                ended,
                ended,
            )
        )
        conversations.append(
            (
                cid,
                world.chatbot_id,
                world.version_id,
                world.buyer_id,
                5,
                5,
                ended,
                "COMPLETED",
                ended,
                pid,
                ended,
                0,
                0,
                ended,
                ended,
            )
        )
        tokens[cid] = _tokens(i, sources)
        for source_id, total in tokens[cid].items():
            usage.append((new_id(), cid, source_id, total, 1, ended, ended, ended, ended))
    purchase_cols = [
        "id",
        "purchaser_user_id",
        "chatbot_id",
        "payment_processor",
        "external_payment_id",
        "net_amount_cents",
        "processing_fee_cents",
        "currency",
        "amount_cents",
        "refunded_cents",
        "status",
        "created_at",
        "updated_at",
    ]
    conversation_cols = [
        "id",
        "chatbot_id",
        "chatbot_version_id",
        "user_id",
        "message_allowance",
        "messages_used",
        "expires_at",
        "status",
        "completed_at",
        "purchase_id",
        "ended_at",
        "input_tokens",
        "output_tokens",
        "created_at",
        "updated_at",
    ]
    usage_cols = [
        "id",
        "conversation_id",
        "source_id",
        "total_tokens",
        "message_count",
        "first_used_at",
        "last_used_at",
        "created_at",
        "updated_at",
    ]
    await _bulk(engine, postgres, "purchase", purchase_cols, purchases)
    await _bulk(engine, postgres, "conversation", conversation_cols, conversations)
    await _bulk(engine, postgres, "conversation_source_usage", usage_cols, usage)
    async with engine.connect() as conn:
        # planner statistics, as a database that grew to this size has them (autovacuum's ANALYZE)
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    return world, tokens


async def _bulk(
    engine: AsyncEngine, postgres: bool, table: str, columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    if postgres:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: asyncpg.Connection = raw.driver_connection  # type: ignore[assignment]
            await driver.copy_records_to_table(table, records=rows, columns=columns)
            await conn.commit()
        return
    placeholders = ", ".join(f":{c}" for c in columns)
    async with engine.begin() as conn:
        await conn.execute(
            text(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"),
            # SQLite stores exact decimals as text, as the application's column type does
            [
                {c: str(v) if isinstance(v, Decimal) else v for c, v in zip(columns, row, strict=True)}
                for row in rows
            ],
        )


async def _attribute(engine: AsyncEngine, clock: FakeClock) -> int:
    factory = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    settings = MoneySettings(platform_share_bps=2000, refund_window_days=7, payout_minimum=1000)
    total = 0
    while True:
        async with factory() as s:
            uc = AttributeConversations(
                SqlRevenueLedger(s),
                SqlPurchaseRepository(s),
                MatrixAuthorizer(SqlRoleResolver(s)),
                clock,
                SqlAlchemyUnitOfWork(s),
                settings,
            )
            run = await uc(AttributeConversationsCommand(limit=10_000))
        done = len(run.attributed) + len(run.refunded)
        total += done
        if done == 0:
            return total


async def _floor(
    engine: AsyncEngine, postgres: bool, world: Any, tokens: dict[str, dict[str, int]]
) -> tuple[float, int]:
    shares = {
        world.source_shared: {world.creator_a: Decimal("0.6"), world.creator_b: Decimal("0.4")},
        world.source_b: {world.creator_b: Decimal(1)},
    }
    purchase = PurchaseRecord(
        id="p", purchaser_user_id=world.buyer_id, chatbot_id=world.chatbot_id, processor="SANDBOX",
        external_payment_id="x", external_checkout_id=None, currency="USD", amount=PRICE, fee=FEE,
        net=PRICE - FEE, refunded=0, status="COMPLETED",
    )  # fmt: skip
    policy = RevenuePolicy(platform_share_bps=2000)
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS bench_floor"))
        await conn.execute(
            text(
                "CREATE TABLE bench_floor (id VARCHAR(36), conversation_id VARCHAR(36), "
                "purchase_id VARCHAR(36), source_id VARCHAR(36), creator_id VARCHAR(36), "
                "purchaser_user_id VARCHAR(36), kind VARCHAR(16), amount_cents BIGINT, currency VARCHAR(3), "
                "token_count BIGINT, token_percentage NUMERIC(11, 10), share NUMERIC(5, 4))"
            )
        )
    started = time.perf_counter()
    rows: list[tuple[Any, ...]] = []
    for conversation_id, used in tokens.items():
        data = AttributionInput(
            conversation_id=conversation_id,
            purchaser_user_id=world.buyer_id,
            purchase=purchase,
            funded_conversation_ids=(conversation_id,),
            source_tokens=used,
            version_source_ids=frozenset(shares),
            shares=shares,
        )
        for line in ledger_math.attribute_conversation(data, 0, policy).lines:
            fraction = ledger_math.fraction_column(line.token_fraction)
            rows.append(
                (new_id(), conversation_id, "p", line.source_id, line.creator_id, world.buyer_id,
                 "ATTRIBUTION", line.amount.minor, "USD", line.token_count, fraction, line.share)
            )  # fmt: skip
    columns = [
        "id",
        "conversation_id",
        "purchase_id",
        "source_id",
        "creator_id",
        "purchaser_user_id",
        "kind",
        "amount_cents",
        "currency",
        "token_count",
        "token_percentage",
        "share",
    ]
    await _bulk(engine, postgres, "bench_floor", columns, rows)
    return time.perf_counter() - started, len(rows)


async def _ledger_rows(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM revenue_per_conversation"))).scalar_one())


async def main(args: argparse.Namespace) -> None:
    postgres = args.database_url != "sqlite"
    drop: str | None = None
    if postgres:
        server = make_url(args.database_url)
        name = f"canon_bench_attribution_{secrets.token_hex(4)}"
        admin = server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
        conn = await asyncpg.connect(admin)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        url = server.set(database=name).render_as_string(hide_password=False)
        drop = name
    else:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    try:
        await upgrade(url)
        engine = create_engine(url)
        n = args.conversations
        t0 = time.perf_counter()
        world, tokens = await _seed(engine, n, postgres)
        where = "PostgreSQL" if postgres else "SQLite"
        print(f"seeded {n:,} purchased, ended conversations in {time.perf_counter() - t0:.1f} s ({where})")
        clock = FakeClock(_rig().T0 + timedelta(days=400))
        async with async_sessionmaker(engine)() as s:
            assert await s.scalar(select(ChatbotVersion.id).where(ChatbotVersion.id == world.version_id))
        started = time.perf_counter()
        attributed = await _attribute(engine, clock)
        elapsed = time.perf_counter() - started
        assert attributed == n, f"attributed {attributed} of {n}"
        rows = await _ledger_rows(engine)
        floor_elapsed, floor_rows = await _floor(engine, postgres, world, tokens)
        assert floor_rows == rows, f"the floor wrote {floor_rows} rows, attribution {rows}"
        print(f"attribution: {n / elapsed:,.0f} conversations/s ({elapsed:.2f} s, {rows:,} ledger rows)")
        print(
            f"floor (arithmetic + bulk write of the same rows): {n / floor_elapsed:,.0f} conversations/s "
            f"({floor_elapsed:.2f} s)"
        )
        await engine.dispose()
        print(f"ratio: {elapsed / floor_elapsed:.2f} (target 3.0)")
    finally:
        if drop is not None:
            conn = await asyncpg.connect(admin)
            await conn.execute(f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)')
            await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=DEFAULT_PG, help='a PostgreSQL server URL, or "sqlite"')
    asyncio.run(main(parser.parse_args()))

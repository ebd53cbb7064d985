"""The migrations: every revision goes up, down and up again on SQLite and PostgreSQL, and the
schema they build is exactly the one the ORM models describe."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from persistence_rows import NOW, Rows
from sqlalchemy import CheckConstraint, Connection, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from adapters.persistence.autogen import CONTEXT_OPTIONS
from adapters.persistence.engine import create_engine
from adapters.persistence.migrate import (
    alembic_config,
    autogenerate_revision,
    current_revision,
    downgrade,
    head_revisions,
    schema_is_current,
    upgrade,
)
from adapters.persistence.models import Base, Conversation

PG_MAX_IDENTIFIER = 63


def revisions_oldest_first() -> list[tuple[str, str]]:
    """(revision, the revision to go down to) from the first to the head."""
    script = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://"))
    steps = [(rev.revision, rev.down_revision or "base") for rev in script.walk_revisions("base", "heads")]
    steps.reverse()
    for _, down in steps:
        assert isinstance(down, str), "merge revisions are not expected"
    return [(rev, str(down)) for rev, down in steps]


def schema_differences(sync_conn: Connection) -> list[Any]:
    """Everything Alembic autogenerate would change, plus what it cannot see: named CHECK
    constraints and partial-index predicates."""
    context = MigrationContext.configure(sync_conn, opts=CONTEXT_OPTIONS)
    diffs: list[Any] = list(compare_metadata(context, Base.metadata))
    inspector = inspect(sync_conn)
    existing = set(inspector.get_table_names())
    for table in Base.metadata.sorted_tables:
        if table.name not in existing:
            continue  # reported by autogenerate as "add_table"
        expected_checks = {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
        actual_checks = {c["name"] for c in inspector.get_check_constraints(table.name)}
        if expected_checks != actual_checks:
            diffs.append(("check constraints", table.name, sorted(expected_checks ^ actual_checks)))
        reflected = {ix["name"]: ix for ix in inspector.get_indexes(table.name)}
        for index in table.indexes:
            expected_where = index.dialect_options["sqlite"]["where"]
            if expected_where is None:
                continue
            found = reflected.get(str(index.name))
            options = (found or {}).get("dialect_options", {})
            actual_where = options.get("sqlite_where", options.get("postgresql_where"))
            if found is None or found["unique"] != index.unique or actual_where is None:
                diffs.append(("partial index", table.name, index.name, found))
            elif _predicate(actual_where) != _predicate(expected_where):
                diffs.append(("partial index predicate", table.name, index.name, str(actual_where)))
    return diffs


def _predicate(where: Any) -> str:
    """A partial index's predicate as both databases' reflections can be compared with the
    model's: lower case, without parentheses, casts, quotes or extra spaces; PostgreSQL's
    ``= ANY (ARRAY[...])`` read back as the ``IN (...)`` it was written as."""
    text = str(where).lower()
    text = re.sub(r"::[a-z ]+(\[\])?", "", text)
    text = text.replace("(", "").replace(")", "").replace('"', "")
    text = re.sub(r"= any array\[(.*?)\]", r" in \1", text)
    return " ".join(text.split())


async def differences(url: str) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(schema_differences)
    finally:
        await engine.dispose()


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


def test_revision_history_is_linear_with_one_head() -> None:
    steps = revisions_oldest_first()
    assert len(steps) >= 2
    assert head_revisions() == (steps[-1][0],)
    assert steps[0][1] == "base"


async def test_stairway_up_down_up_every_revision(fresh_db_url: str) -> None:
    assert await current_revision(fresh_db_url) is None
    for revision, down in revisions_oldest_first():
        await upgrade(fresh_db_url, revision)
        assert await current_revision(fresh_db_url) == revision
        await downgrade(fresh_db_url, down)
        assert await current_revision(fresh_db_url) == (None if down == "base" else down)
        await upgrade(fresh_db_url, revision)
        assert await current_revision(fresh_db_url) == revision

    # Going down and up again (SQLite rebuilds tables in batch mode) must not lose anything.
    assert await differences(fresh_db_url) == []

    await downgrade(fresh_db_url, "base")
    assert await table_names(fresh_db_url) <= {"alembic_version"}


async def test_migrated_schema_equals_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert await conn.run_sync(schema_differences) == []


async def test_the_comparison_notices_a_missing_revision(fresh_db_url: str) -> None:
    # 0005 is the revision before the one that adds the operations tables (outbox among them)
    await upgrade(fresh_db_url, "0005")
    diffs = await differences(fresh_db_url)
    added = {d[1].name for d in diffs if isinstance(d, tuple) and d[0] == "add_table"}
    assert "outbox" in added


async def test_schema_is_current_only_at_head(fresh_db_url: str, engine: AsyncEngine) -> None:
    assert await schema_is_current(engine)
    fresh = create_engine(fresh_db_url)
    try:
        assert not await schema_is_current(fresh)
        await upgrade(fresh_db_url, revisions_oldest_first()[0][0])
        assert not await schema_is_current(fresh)
    finally:
        await fresh.dispose()


def test_plain_alembic_commands_work_without_a_shared_connection(tmp_path: Path) -> None:
    # The env.py path used by the `alembic` command line: it opens its own engine.
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    command.upgrade(alembic_config(url), "head")
    assert asyncio.run(current_revision(url)) == head_revisions()[0]
    command.downgrade(alembic_config(url), "base")
    assert asyncio.run(current_revision(url)) is None


async def test_autogenerate_against_head_finds_nothing_to_do(db_url: str, tmp_path: Path) -> None:
    path = await autogenerate_revision(db_url, "nothing", rev_id="9999", version_path=tmp_path)
    source = path.read_text()
    upgrade_body = source.split("def upgrade() -> None:")[1].split("def downgrade")[0]
    assert path.parent == tmp_path
    code = [
        line.strip()
        for line in upgrade_body.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert code == ["pass"]


def test_every_constraint_and_index_has_a_stable_name_that_fits_postgresql() -> None:
    names: list[str] = []
    for table in Base.metadata.sorted_tables:
        for item in [*table.constraints, *table.indexes]:
            assert item.name is not None, f"unnamed {item!r} on {table.name}"
            names.append(str(item.name))
    too_long = [n for n in names if len(n) > PG_MAX_IDENTIFIER]
    assert too_long == []
    assert len(names) == len(set(names)), "constraint/index names must be unique"


EXPECTED_TABLES = {
    # the seed's models
    "user", "creator", "source", "source_creator", "file", "creator_user", "chatbot_creator",
    "chatbot_version", "chatbot", "category", "chatbot_category", "conversation",
    "conversation_feedback", "rating", "report", "message", "message_analysis", "message_feedback",
    "favorited_chatbots", "intake_question", "intake_response", "conversation_file", "purchase",
    "revenue_per_conversation", "question_cluster_aggregate", "content_gap", "source_performance",
    "chunk_performance", "chatbot_audience_profile", "user_context", "creator_revenue_summary",
    "conversation_source_usage", "enterprise_subscription", "enterprise_user",
    # added by this project
    "source_creator_share_history", "chunk", "api_key", "anonymous_claim", "daily_token_usage",
    "refund", "chargeback", "payout", "creator_payout_account", "enterprise_allocation",
    "webhook_event", "outbox", "job_run", "audit_log", "ai_call_cost",
}  # fmt: skip


def test_every_seed_model_and_every_added_table_is_mapped() -> None:
    assert set(Base.metadata.tables) == EXPECTED_TABLES


async def test_revision_0009_gives_every_ended_conversation_its_end(fresh_db_url: str) -> None:
    await upgrade(fresh_db_url, "0008")
    engine = create_engine(fresh_db_url)
    try:
        rows = Rows(async_sessionmaker(engine, expire_on_commit=False))
        user = await rows.user()
        _, _, completed = await rows.conversation(user)
        _, _, expired = await rows.conversation(user)
        _, _, active = await rows.conversation(user)
        done_at = NOW + timedelta(hours=2)
        async with engine.begin() as conn:
            # written before the domain insisted on ended_at (what the revision repairs)
            await conn.execute(
                update(Conversation)
                .where(Conversation.id == completed.id)
                .values(status="COMPLETED", completed_at=done_at, messages_used=100)
            )
            await conn.execute(
                update(Conversation).where(Conversation.id == expired.id).values(status="EXPIRED")
            )
        await upgrade(fresh_db_url)
        async with engine.connect() as conn:
            ended = dict((await conn.execute(select(Conversation.id, Conversation.ended_at))).all())
        assert ended == {completed.id: done_at, expired.id: expired.expires_at, active.id: None}
    finally:
        await engine.dispose()

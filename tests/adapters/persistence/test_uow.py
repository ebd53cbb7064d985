"""SqlAlchemyUnitOfWork on SQLite and PostgreSQL: the transaction's fate, after-commit hooks, and
constraint violations turned into ``Conflict`` with the code of the constraint that failed."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.persistence.integrity import conflict_from, is_integrity_error
from adapters.persistence.models import Chatbot, ChatbotVersion, Conversation, Creator, CreatorUser, User
from adapters.persistence.uow import SqlAlchemyUnitOfWork
from application.errors import Conflict
from domain.ids import new_id

NOW = datetime(2025, 3, 1, tzinfo=UTC)
Factory = async_sessionmaker[AsyncSession]


def user_row(name: str) -> User:
    return User(id=new_id(), clerk_id=f"idp|{name}", email=f"{name}@example.com")


def creator_row(slug: str) -> Creator:
    return Creator(id=new_id(), name=slug.title(), slug=slug)


async def count(factory: Factory, model: type[User] | type[Creator]) -> int:
    async with factory() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_commit_makes_writes_durable_and_rollback_discards_them(session_factory: Factory) -> None:
    async with session_factory() as s:
        uow = SqlAlchemyUnitOfWork(s)
        s.add(user_row("kept"))
        await uow.commit()
        s.add(user_row("dropped"))
        await uow.flush()
        await uow.rollback()
    async with session_factory() as s:
        assert await s.scalar(select(User.clerk_id)) == "idp|kept"
    assert await count(session_factory, User) == 1


async def test_a_duplicate_on_flush_is_a_conflict_named_by_its_constraint(session_factory: Factory) -> None:
    async with session_factory() as s:
        uow = SqlAlchemyUnitOfWork(s)
        s.add(creator_row("seth"))
        await uow.commit()
        s.add(creator_row("seth"))
        with pytest.raises(Conflict) as caught:
            await uow.flush()
        assert caught.value.code == "creator-slug-taken"
        assert caught.value.extra == {"constraint": "uq_creator_slug"}
        # The failed transaction was ended: the session works again.
        s.add(creator_row("brene"))
        await uow.commit()
    assert await count(session_factory, Creator) == 2


async def test_a_composite_unique_constraint_is_recognised(session_factory: Factory) -> None:
    user, creator = user_row("ana"), creator_row("seth")
    async with session_factory() as s:
        uow = SqlAlchemyUnitOfWork(s)
        s.add_all([user, creator])
        await uow.flush()
        s.add(CreatorUser(creator_id=creator.id, user_id=user.id))
        await uow.flush()
        s.add(CreatorUser(creator_id=creator.id, user_id=user.id))
        with pytest.raises(Conflict) as caught:
            await uow.commit()
    assert caught.value.code == "already-member"
    assert caught.value.extra == {"constraint": "uq_creator_user_creator_id_user_id"}
    assert await count(session_factory, Creator) == 0  # the whole transaction was rolled back


async def test_a_missing_reference_on_commit_is_a_conflict(session_factory: Factory) -> None:
    async with session_factory() as s:
        uow = SqlAlchemyUnitOfWork(s)
        s.add(CreatorUser(creator_id=new_id(), user_id=new_id()))
        with pytest.raises(Conflict) as caught:
            await uow.commit()
    assert caught.value.code == "missing-reference"


async def test_a_check_constraint_is_named(session_factory: Factory) -> None:
    user, creator = user_row("ana"), creator_row("seth")
    chatbot_id, version_id = new_id(), new_id()
    config = {
        "title": "Ask",
        "system_prompt": "Answer.",
        "model_provider": "offline",
        "model_name": "echo",
        "pinecone_ns": chatbot_id,
        "vector_namespace": chatbot_id,
        "price_cents": 0,
        "currency": "USD",
        "type": "FRAMEWORK",
    }
    async with session_factory() as s:
        uow = SqlAlchemyUnitOfWork(s)
        s.add_all([user, creator, Chatbot(id=chatbot_id, slug="ask", **config)])
        await uow.flush()
        s.add(
            ChatbotVersion(
                id=version_id, chatbot_id=chatbot_id, version_number=1, created_by_user_id=user.id, **config
            )
        )
        await uow.flush()
        s.add(
            Conversation(
                chatbot_id=chatbot_id,
                chatbot_version_id=version_id,
                message_allowance=3,
                expires_at=NOW + timedelta(days=1),
            )
        )
        with pytest.raises(Conflict) as caught:
            await uow.flush()
    assert caught.value.code == "conversation-needs-participant"
    assert caught.value.extra == {"constraint": "ck_conversation_has_participant"}


async def test_after_commit_hooks_run_in_order_once_and_a_failing_one_is_logged(
    session_factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    def recorder(name: str) -> Callable[[], Awaitable[None]]:
        async def hook() -> None:
            ran.append(name)
            if name == "boom":
                raise RuntimeError("the worker is down")

        return hook

    async with session_factory() as s:
        uow = SqlAlchemyUnitOfWork(s)
        s.add(user_row("ana"))
        for name in ("first", "boom", "last"):
            uow.after_commit(recorder(name))
        with caplog.at_level(logging.ERROR, logger="adapters.persistence.uow"):
            await uow.commit()
        assert ran == ["first", "boom", "last"]
        assert "after-commit hook" in caplog.text
        await uow.commit()  # hooks do not run twice
        assert ran == ["first", "boom", "last"]
    assert await count(session_factory, User) == 1


async def test_hooks_are_dropped_by_a_rollback_and_by_a_failed_commit(session_factory: Factory) -> None:
    ran: list[str] = []

    async def hook() -> None:
        ran.append("ran")

    async with session_factory() as s:
        uow = SqlAlchemyUnitOfWork(s)
        uow.after_commit(hook)
        await uow.rollback()
        s.add(CreatorUser(creator_id=new_id(), user_id=new_id()))
        uow.after_commit(hook)
        with pytest.raises(Conflict):
            await uow.commit()
        await uow.commit()
    assert ran == []


class _DriverError(Exception):
    def __init__(self, sqlstate: str, constraint_name: str | None = None) -> None:
        super().__init__(f"driver error {sqlstate}")
        self.sqlstate = sqlstate
        self.constraint_name = constraint_name


def test_a_lost_serialization_race_is_a_conflict_to_retry() -> None:
    exc = DBAPIError("UPDATE ...", {}, _DriverError("40001"))
    assert is_integrity_error(exc)
    conflict = conflict_from(exc)
    assert conflict.code == "concurrent-update"
    assert conflict.extra == {}


def test_other_constraints_get_a_generic_code_unless_the_caller_names_them() -> None:
    exc = IntegrityError("INSERT ...", {}, _DriverError("23505", "uq_payout_idempotency_key"))
    assert conflict_from(exc).code == "unique-violation"
    assert conflict_from(exc, codes={"uq_payout_idempotency_key": "payout-exists"}).code == "payout-exists"
    assert conflict_from(exc).extra == {"constraint": "uq_payout_idempotency_key"}
    assert not is_integrity_error(DBAPIError("SELECT 1", {}, _DriverError("08006")))


async def test_autocommit_applies_each_statement_by_itself_and_locks_nothing_between(
    session_factory: Factory,
) -> None:
    async with session_factory() as s:
        uow = SqlAlchemyUnitOfWork(s)
        await uow.autocommit()
        await s.execute(User.__table__.insert().values(id=new_id(), clerk_id="idp|at-once", email="a@x.io"))
        # another session sees it, and can write, before this unit commits: nothing was held
        async with session_factory() as other:
            assert await other.scalar(select(User.clerk_id)) == "idp|at-once"
            other.add(creator_row("meanwhile"))
            await other.commit()
        await uow.rollback()  # ends the mode; it has nothing to undo
    assert await count(session_factory, User) == 1
    assert await count(session_factory, Creator) == 1
    async with session_factory() as s:  # the next unit of work is one transaction again
        uow = SqlAlchemyUnitOfWork(s)
        s.add(user_row("dropped"))
        await uow.flush()
        await uow.rollback()
    assert await count(session_factory, User) == 1


async def test_autocommit_asked_after_work_began_keeps_the_one_transaction(session_factory: Factory) -> None:
    async with session_factory() as s:
        uow = SqlAlchemyUnitOfWork(s)
        s.add(user_row("first"))
        await uow.flush()
        await uow.autocommit()  # too late: ignored
        s.add(user_row("second"))
        await uow.flush()
        await uow.rollback()
    assert await count(session_factory, User) == 0

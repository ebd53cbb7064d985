"""The repository contract: one abstract suite, run against the in-memory fakes and against the
SQLAlchemy repositories on SQLite and on PostgreSQL (the ``backend`` parameter of the shared
fixtures), so a use case tested on the fakes behaves the same on either database.

Every test takes ``db``, which first proves the store is empty. Each unit of work in a test is
opened, finished and closed before the next one starts (except in the race tests, where every
task has its own), because SQLite and the fake run one writing transaction at a time.
The backends and builders are in ``repository_harness.py``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from application.conversations.ports import ConversationGuard
from application.errors import Conflict, InvalidInput, NotFound
from domain.catalogue import FileStatus, Source, SourceFile, SourceType, User
from domain.chatbots import ChatbotType, VersionHistory
from domain.conversations import ConversationStatus
from domain.errors import LastKeeperRemoval
from domain.ids import new_id
from domain.money import Money
from domain.roles import ChatbotOwnerRole, CreatorRole
from domain.shares import ShareSet
from domain.slug import Slug


def load_harness() -> ModuleType:
    # Loaded by path: an installed SDK ships a top-level ``tests`` package that shadows ours.
    name = "repository_harness"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_HARNESS_NAMES = (
    "T0",
    "Backend",
    "MemoryBackend",
    "SqlBackend",
    "a_chatbot",
    "a_config",
    "a_conversation",
    "a_creator",
    "a_user",
    "build_world",
)
if TYPE_CHECKING:
    from tests.contracts.repository_harness import (
        T0,
        Backend,
        MemoryBackend,
        SqlBackend,
        a_chatbot,
        a_config,
        a_conversation,
        a_creator,
        a_user,
        build_world,
    )
else:  # the same names, from the harness loaded by path
    globals().update({name: getattr(load_harness(), name) for name in _HARNESS_NAMES})

# ---- the contract ---------------------------------------------------------------------------


class RepositoryContract:
    """Not collected itself (no ``Test`` prefix); each subclass provides ``repos_backend``."""

    @pytest.fixture
    async def db(self, repos_backend: Backend) -> Backend:
        assert await repos_backend.is_empty(), "the test must start from an empty store"
        return repos_backend

    # users ------------------------------------------------------------------------------------
    async def test_user_round_trip_and_lookup_by_external_id(self, db: Backend) -> None:
        user = a_user("ana")
        async with db.unit() as r:
            await r.users.add(user)
            await r.uow.commit()
        async with db.unit() as r:
            assert await r.users.get(user.id) == user
            assert await r.users.get_by_external_id("idp|ana") == user
            assert await r.users.get(new_id()) is None
            assert await r.users.get_by_external_id("idp|nobody") is None

    async def test_duplicate_external_id_is_a_conflict_and_the_transaction_stays_usable(
        self, db: Backend
    ) -> None:
        first, twin, other = a_user("ana"), replace(a_user("ana"), id=new_id()), a_user("bo")
        async with db.unit() as r:
            await r.users.add(first)
            with pytest.raises(Conflict) as caught:
                await r.users.add(twin)
            assert caught.value.code == "user-external-id-taken"
            await r.users.add(other)
            await r.uow.commit()
        async with db.unit() as r:
            assert await r.users.get(first.id) == first
            assert await r.users.get(other.id) == other
            assert await r.users.get(twin.id) is None

    async def test_upsert_inserts_then_updates_the_same_user(self, db: Backend) -> None:
        user = a_user("ana")
        async with db.unit() as r:
            assert await r.users.upsert(user) == user
            again = replace(user, id=new_id(), email="ana@new.example.com", last_name="Lopez")
            stored = await r.users.upsert(again)
            await r.uow.commit()
        assert stored.id == user.id
        assert (stored.email, stored.last_name) == ("ana@new.example.com", "Lopez")
        async with db.unit() as r:
            assert await r.users.get_by_external_id("idp|ana") == stored

    async def test_two_concurrent_first_sign_ins_make_one_user(self, db: Backend) -> None:
        async def sign_in(email: str) -> User:
            async with db.unit() as r:
                stored = await r.users.upsert(replace(a_user("ana"), id=new_id(), email=email))
                await asyncio.sleep(0.05)  # hold the transaction open so the two overlap
                await r.uow.commit()
                return stored

        first, second = await asyncio.gather(sign_in("ana@one.example.com"), sign_in("ana@two.example.com"))
        assert first.id == second.id
        async with db.unit() as r:
            stored = await r.users.get_by_external_id("idp|ana")
        assert stored is not None
        assert stored.id == first.id
        assert stored.email in {"ana@one.example.com", "ana@two.example.com"}

    # creators ---------------------------------------------------------------------------------
    async def test_creator_round_trip_and_membership_listing_is_scoped(self, db: Backend) -> None:
        ana, bo, cy = a_user("ana"), a_user("bo"), a_user("cy")
        seth = a_creator("seth", ana, **{bo.id: CreatorRole.ADMIN})
        brene = a_creator("brene", bo)
        async with db.unit() as r:
            for user in (ana, bo, cy):
                await r.users.add(user)
            await r.creators.add(seth)
            await r.creators.add(brene)
            await r.uow.commit()
        async with db.unit() as r:
            assert await r.creators.get(seth.id) == seth
            assert await r.creators.get_by_slug("brene") == brene
            assert await r.creators.get_by_slug("nobody") is None
            assert [(m.creator.slug.value, m.role) for m in await r.creators.list_for_user(bo.id)] == [
                ("brene", CreatorRole.OWNER),
                ("seth", CreatorRole.ADMIN),
            ]
            assert [m.creator for m in await r.creators.list_for_user(ana.id)] == [seth]
            assert await r.creators.list_for_user(cy.id) == []

    async def test_creator_slug_is_unique_and_profiles_save(self, db: Backend) -> None:
        ana = a_user("ana")
        seth, other = a_creator("seth", ana), a_creator("godin", ana)
        async with db.unit() as r:
            await r.users.add(ana)
            await r.creators.add(seth)
            await r.creators.add(other)
            with pytest.raises(Conflict) as caught:
                await r.creators.add(a_creator("seth", ana))
            assert caught.value.code == "creator-slug-taken"
            with pytest.raises(Conflict) as caught:
                await r.creators.save_profile(replace(other, slug=Slug("seth")))
            assert caught.value.code == "creator-slug-taken"
            await r.creators.save_profile(replace(seth, name="Seth Godin", bio=None, social_links={}))
            with pytest.raises(NotFound):
                await r.creators.save_profile(a_creator("ghost", ana))
            await r.uow.commit()
        async with db.unit() as r:
            stored = await r.creators.get(seth.id)
            assert stored is not None
            assert (stored.name, stored.bio, stored.social_links, stored.members) == (
                "Seth Godin",
                None,
                {},
                seth.members,
            )
            assert await r.creators.get_by_slug("ghost") is None

    async def test_members_change_and_the_last_owner_stays(self, db: Backend) -> None:
        ana, bo = a_user("ana"), a_user("bo")
        seth = a_creator("seth", ana)
        async with db.unit() as r:
            await r.users.add(ana)
            await r.users.add(bo)
            await r.creators.add(seth)
            assert (await r.creators.add_member(seth.id, bo.id, CreatorRole.MEMBER)).role_of(
                bo.id
            ) is CreatorRole.MEMBER
            with pytest.raises(Conflict) as caught:
                await r.creators.add_member(seth.id, new_id(), CreatorRole.MEMBER)
            assert caught.value.code == "missing-reference"
            with pytest.raises(LastKeeperRemoval):
                await r.creators.remove_member(seth.id, ana.id)
            with pytest.raises(LastKeeperRemoval):
                await r.creators.change_member_role(seth.id, ana.id, CreatorRole.ADMIN)
            await r.creators.change_member_role(seth.id, bo.id, CreatorRole.OWNER)
            roster = await r.creators.remove_member(seth.id, ana.id)
            with pytest.raises(NotFound):
                await r.creators.remove_member(new_id(), bo.id)
            await r.uow.commit()
        assert roster.as_dict() == {bo.id: CreatorRole.OWNER}
        async with db.unit() as r:
            stored = await r.creators.get(seth.id)
            assert stored is not None
            assert stored.members == roster
            assert await r.creators.list_for_user(ana.id) == []

    # sources ----------------------------------------------------------------------------------
    async def test_source_round_trip_keeps_exact_shares(self, db: Backend) -> None:
        world = await build_world(db)
        partner = a_creator("partner", world.user)
        third = a_creator("third", world.user)
        shares = ShareSet.of({world.creator.id: "0.3334", partner.id: "0.3333", third.id: "0.3333"})
        book = Source(
            id=new_id(),
            title="This Is Marketing",
            type=SourceType.BOOK,
            created_by=world.user.id,
            shares=shares,
            author="Seth Godin",
            publisher="Portfolio",
            publication_date=datetime(2018, 11, 13, tzinfo=UTC).date(),
            isbn="978-0-525-54058-8",
            url="https://example.com/book",
            metadata={"pages": 288},
        )
        async with db.unit() as r:
            await r.creators.add(partner)
            await r.creators.add(third)
            await r.sources.add(book, effective_from=T0)
            await r.uow.commit()
        async with db.unit() as r:
            stored = await r.sources.get(book.id)
            assert stored == book
            assert stored.shares.share_of(partner.id).value == Decimal("0.3333")
            assert [s.id for s in await r.sources.list_by_creator(world.creator.id)] == [
                world.source.id,
                book.id,
            ]
            assert [s.id for s in await r.sources.list_by_creator(partner.id)] == [book.id]
            assert await r.sources.get(new_id()) is None

    async def test_share_changes_append_history_and_never_rewrite_it(self, db: Backend) -> None:
        world = await build_world(db)
        partner = a_creator("partner", world.user)
        later = T0 + timedelta(days=10)
        split = ShareSet.of({world.creator.id: "0.6", partner.id: "0.4"})
        async with db.unit() as r:
            await r.creators.add(partner)
            await r.sources.change_shares(
                world.source.id, split, effective_from=later, changed_by=world.user.id
            )
            await r.uow.commit()
        async with db.unit() as r:
            with pytest.raises(Conflict) as caught:
                await r.sources.change_shares(
                    world.source.id,
                    ShareSet.sole(partner.id),
                    effective_from=T0 + timedelta(days=5),
                    changed_by=world.user.id,
                )
            assert caught.value.code == "shares-changed-later"
            with pytest.raises(Conflict) as caught:
                await r.sources.change_shares(
                    world.source.id, ShareSet.sole(partner.id), effective_from=later, changed_by=world.user.id
                )
            assert caught.value.code == "share-change-conflict"
            with pytest.raises(NotFound):
                await r.sources.change_shares(new_id(), split, effective_from=later, changed_by=world.user.id)
            await r.sources.change_shares(
                world.source.id,
                ShareSet.sole(partner.id),
                effective_from=later + timedelta(days=1),
                changed_by=world.user.id,
            )
            await r.uow.commit()
        async with db.unit() as r:
            history = await r.sources.share_history(world.source.id)
            assert [(h.effective_from, h.shares) for h in history] == [
                (T0, ShareSet.sole(world.creator.id)),
                (later, split),
                (later + timedelta(days=1), ShareSet.sole(partner.id)),
            ]
            assert all(h.changed_by == world.user.id for h in history)
            assert await r.sources.shares_at(world.source.id, T0 - timedelta(seconds=1)) is None
            assert await r.sources.shares_at(
                world.source.id, later - timedelta(microseconds=1)
            ) == ShareSet.sole(world.creator.id)
            assert await r.sources.shares_at(world.source.id, later) == split
            stored = await r.sources.get(world.source.id)
            assert stored is not None
            assert stored.shares == ShareSet.sole(partner.id)
            assert await r.sources.list_by_creator(world.creator.id) == []

    async def test_saving_a_source_never_touches_its_shares(self, db: Backend) -> None:
        world = await build_world(db)
        stale = replace(world.source, title="Purple Cow (2nd ed.)", shares=ShareSet.sole(new_id()))
        async with db.unit() as r:
            await r.sources.save(stale)
            with pytest.raises(NotFound):
                await r.sources.save(replace(stale, id=new_id()))
            await r.uow.commit()
        async with db.unit() as r:
            stored = await r.sources.get(world.source.id)
            assert stored is not None
            assert (stored.title, stored.shares) == ("Purple Cow (2nd ed.)", world.source.shares)

    async def test_files_of_a_source(self, db: Backend) -> None:
        world = await build_world(db)

        def a_file(name: str) -> SourceFile:
            return SourceFile(
                id=new_id(),
                owner_user_id=world.user.id,
                file_name=name,
                mime_type="application/pdf",
                size_bytes=1234,
                storage_key=f"blobs/{name}",
                source_id=world.source.id,
                creator_id=world.creator.id,
            )

        first, better = a_file("cow.pdf"), a_file("cow-v2.pdf")
        async with db.unit() as r:
            await r.sources.add_file(first)
            await r.sources.add_file(better)
            first.start_processing()
            first.mark_failed("unreadable page 3")
            await r.sources.save_file(first)
            first.replace_with(better.id)
            await r.sources.save_file(first)
            with pytest.raises(InvalidInput):
                await r.sources.add_file(replace(a_file("orphan.pdf"), creator_id=None))
            with pytest.raises(NotFound):
                await r.sources.save_file(a_file("ghost.pdf"))
            await r.uow.commit()
        async with db.unit() as r:
            assert await r.sources.get_file(first.id) == first
            stored = await r.sources.get_file(first.id)
            assert stored is not None
            assert (stored.status, stored.is_active, stored.replaced_by_file_id) == (
                FileStatus.FAILED,
                False,
                better.id,
            )
            assert [f.id for f in await r.sources.files_of(world.source.id)] == [first.id, better.id]
            assert await r.sources.files_of(world.source.id, active_only=True) == [better]
            assert await r.sources.files_of(new_id()) == []

    # chatbots ---------------------------------------------------------------------------------
    async def test_chatbot_round_trip_with_owners_and_first_version(self, db: Backend) -> None:
        world = await build_world(db)
        async with db.unit() as r:
            stored = await r.chatbots.get(world.chatbot.id)
            assert stored == world.chatbot
            assert await r.chatbots.get_by_slug("seth-bot") == world.chatbot
            assert await r.chatbots.get_creator_chatbot(world.creator.id) == world.chatbot
            assert await r.chatbots.list_for_creator(world.creator.id) == [world.chatbot]
            assert await r.chatbots.list_for_creator(new_id()) == []
            history = await r.chatbots.list_versions(world.chatbot.id)
            assert history.versions == world.history.versions
            version = history.versions[0]
            assert await r.chatbots.get_version(version.id) == version
            assert version.config.expiry == timedelta(days=30, seconds=1, microseconds=500)
            assert version.config.rag.source_ids == frozenset({"src-1", "src-2"})

    async def test_slugs_and_one_creator_chatbot_per_creator(self, db: Backend) -> None:
        world = await build_world(db)
        owners = {world.creator.id: ChatbotOwnerRole.PRIMARY_OWNER}
        async with db.unit() as r:
            bot, history = a_chatbot("seth-bot", world.user, owners, ChatbotType.FRAMEWORK)
            with pytest.raises(Conflict) as caught:
                await r.chatbots.add(bot, history.versions[0])
            assert caught.value.code == "chatbot-slug-taken"
            bot, history = a_chatbot("seth-again", world.user, owners)
            with pytest.raises(Conflict) as caught:
                await r.chatbots.add(bot, history.versions[0])
            assert caught.value.code == "creator-chatbot-exists"
            for slug in ("seth-framework", "seth-deep-dive"):
                bot, history = a_chatbot(slug, world.user, owners, ChatbotType.FRAMEWORK)
                await r.chatbots.add(bot, history.versions[0])
            await r.uow.commit()
        async with db.unit() as r:
            assert [c.slug.value for c in await r.chatbots.list_for_creator(world.creator.id)] == [
                "seth-bot",
                "seth-deep-dive",
                "seth-framework",
            ]
            assert await r.chatbots.get_by_slug("seth-again") is None

    async def test_becoming_a_creator_chatbot_needs_one_free_persona(self, db: Backend) -> None:
        world = await build_world(db)
        partner = a_creator("partner", world.user)
        both = {world.creator.id: ChatbotOwnerRole.PRIMARY_OWNER, partner.id: ChatbotOwnerRole.PRIMARY_OWNER}
        board, board_history = a_chatbot("board", world.user, both, ChatbotType.ADVISOR_BOARD)
        solo, solo_history = a_chatbot(
            "partner-bot", world.user, {partner.id: ChatbotOwnerRole.PRIMARY_OWNER}, ChatbotType.FRAMEWORK
        )
        at = T0 + timedelta(hours=1)
        async with db.unit() as r:
            await r.creators.add(partner)
            await r.chatbots.add(board, board_history.versions[0])
            await r.chatbots.add(solo, solo_history.versions[0])
            with pytest.raises(Conflict) as caught:
                await r.chatbots.append_version(board_history.publish(a_config(), at=at, by=world.user.id))
            assert caught.value.code == "creator-chatbot-needs-persona"
            await r.chatbots.remove_owner(board.id, partner.id)
            with pytest.raises(Conflict) as caught:  # the creator already has its CREATOR chatbot
                await r.chatbots.append_version(
                    (await r.chatbots.list_versions(board.id)).publish(a_config(), at=at, by=world.user.id)
                )
            assert caught.value.code == "creator-chatbot-exists"
            await r.chatbots.append_version(solo_history.publish(a_config(), at=at, by=world.user.id))
            await r.uow.commit()
        async with db.unit() as r:
            stored = await r.chatbots.get_creator_chatbot(partner.id)
            assert stored is not None
            assert (stored.id, stored.type) == (solo.id, ChatbotType.CREATOR)
            board_versions = (
                await r.chatbots.list_versions(board.id)
            ).versions  # refused publishes left nothing
            assert [(v.id, v.deactivated_at) for v in board_versions] == [(board.current_version_id, None)]

    async def test_versions_are_append_only(self, db: Backend) -> None:
        world = await build_world(db)
        later = T0 + timedelta(hours=2)
        publication = world.history.publish(
            a_config(title="Ask Seth, v2", price=Money.of(999, "USD")), at=later, by=world.user.id
        )
        async with db.unit() as r:
            await r.chatbots.append_version(publication)
            await r.uow.commit()
        async with db.unit() as r:
            history = await r.chatbots.list_versions(world.chatbot.id)
            first, second = history.versions
            assert first.config == a_config()
            assert first.deactivated_at == later
            assert first == world.history.versions[0]
            assert second == publication.version
            assert second.is_current
            stored = await r.chatbots.get(world.chatbot.id)
            assert stored is not None
            assert stored.current_version_id == second.id
            stale = VersionHistory(world.chatbot.id, [replace(first, deactivated_at=None)]).publish(
                a_config(title="lost update"), at=later, by=world.user.id
            )
            with pytest.raises(Conflict) as caught:
                await r.chatbots.append_version(stale)
            assert caught.value.code == "version-conflict"
            rollback = history.rollback(1, at=later + timedelta(hours=1), by=world.user.id)
            await r.chatbots.append_version(rollback)
            await r.uow.commit()
        async with db.unit() as r:
            versions = (await r.chatbots.list_versions(world.chatbot.id)).versions
            assert [v.version_number for v in versions] == [1, 2, 3]
            assert versions[0].config == a_config()  # unchanged by everything after it
            assert versions[1].config == publication.version.config
            assert versions[2].config.title == "Ask Seth"
            assert await r.chatbots.get_version(new_id()) is None
            assert len(await r.chatbots.list_versions(new_id())) == 0

    async def test_chatbot_save_writes_visibility_and_slug_only(self, db: Backend) -> None:
        world = await build_world(db)
        changed = replace(world.chatbot, slug=Slug("seth-live"), type=ChatbotType.FRAMEWORK)
        changed.make_public()
        changed.current_version_id = new_id()  # save must not move the version pointer
        async with db.unit() as r:
            await r.chatbots.save(changed)
            with pytest.raises(NotFound):
                await r.chatbots.save(replace(changed, id=new_id(), slug=Slug("ghost")))
            await r.uow.commit()
        async with db.unit() as r:
            stored = await r.chatbots.get(world.chatbot.id)
            assert stored is not None
            assert (stored.slug.value, stored.is_public) == ("seth-live", True)
            assert (stored.type, stored.current_version_id) == (
                ChatbotType.CREATOR,
                world.chatbot.current_version_id,
            )

    async def test_owners_change_and_the_last_primary_owner_stays(self, db: Backend) -> None:
        world = await build_world(db)
        partner = a_creator("partner", world.user)
        bot_id = world.chatbot.id
        async with db.unit() as r:
            await r.creators.add(partner)
            roster = await r.chatbots.add_owner(bot_id, partner.id, ChatbotOwnerRole.CO_OWNER)
            assert roster.role_of(partner.id) is ChatbotOwnerRole.CO_OWNER
            with pytest.raises(Conflict) as caught:
                await r.chatbots.add_owner(bot_id, new_id(), ChatbotOwnerRole.CONTRIBUTOR)
            assert caught.value.code == "missing-reference"
            with pytest.raises(LastKeeperRemoval):
                await r.chatbots.remove_owner(bot_id, world.creator.id)
            with pytest.raises(LastKeeperRemoval):
                await r.chatbots.change_owner_role(bot_id, world.creator.id, ChatbotOwnerRole.CO_OWNER)
            await r.chatbots.change_owner_role(bot_id, partner.id, ChatbotOwnerRole.PRIMARY_OWNER)
            roster = await r.chatbots.remove_owner(bot_id, world.creator.id)
            with pytest.raises(NotFound):
                await r.chatbots.remove_owner(new_id(), partner.id)
            await r.uow.commit()
        assert roster.as_dict() == {partner.id: ChatbotOwnerRole.PRIMARY_OWNER}
        async with db.unit() as r:
            stored = await r.chatbots.get(bot_id)
            assert stored is not None
            assert stored.owners == roster
            assert await r.chatbots.list_for_creator(world.creator.id) == []

    async def test_two_concurrent_removals_never_leave_a_chatbot_without_primary_owner(
        self, db: Backend
    ) -> None:
        world = await build_world(db)
        partner = a_creator("partner", world.user)
        bot_id = world.chatbot.id
        async with db.unit() as r:
            await r.creators.add(partner)
            await r.chatbots.add_owner(bot_id, partner.id, ChatbotOwnerRole.PRIMARY_OWNER)
            await r.uow.commit()

        async def remove(creator_id: str) -> str:
            async with db.unit() as r:
                try:
                    await r.chatbots.remove_owner(bot_id, creator_id)
                except LastKeeperRemoval:
                    return "refused"
                await asyncio.sleep(0.05)  # hold the transaction open so the two overlap
                await r.uow.commit()
                return "removed"

        outcomes = await asyncio.gather(remove(world.creator.id), remove(partner.id))
        assert sorted(outcomes) == ["refused", "removed"]
        async with db.unit() as r:
            stored = await r.chatbots.get(bot_id)
            assert stored is not None
            assert len(stored.owners.keepers) == 1

    # conversations ----------------------------------------------------------------------------
    async def test_conversation_round_trip_and_scoped_lists(self, db: Backend) -> None:
        world = await build_world(db)
        other = a_user("other")
        mine = [a_conversation(world) for _ in range(3)]
        theirs = a_conversation(world, user=other)
        anonymous = a_conversation(world, anonymous_id="anon-1")
        async with db.unit() as r:
            await r.users.add(other)
            for c in [*mine, theirs, anonymous]:
                await r.conversations.add(c)
            with pytest.raises(Conflict) as caught:
                await r.conversations.add(replace(a_conversation(world), chatbot_id=new_id()))
            assert caught.value.code == "missing-reference"
            await r.uow.commit()
        async with db.unit() as r:
            assert await r.conversations.get(mine[0].id) == mine[0]
            assert await r.conversations.get_for_update(anonymous.id) == anonymous
            assert await r.conversations.get(new_id()) is None
            newest_first = list(reversed(mine))
            assert await r.conversations.list_for_user(world.user.id) == newest_first
            assert await r.conversations.list_for_user(world.user.id, limit=2) == newest_first[:2]
            assert await r.conversations.list_for_user(world.user.id, before_id=mine[1].id) == [mine[0]]
            assert await r.conversations.list_for_user(other.id) == [theirs]
            assert await r.conversations.list_for_anonymous("anon-1") == [anonymous]
            assert await r.conversations.list_for_anonymous("anon-2") == []

    async def test_reserve_message_is_guarded_and_the_last_one_completes(self, db: Backend) -> None:
        world = await build_world(db)
        conversation = a_conversation(world, allowance=2)
        at = T0 + timedelta(hours=1)
        mine = {"user_id": world.user.id, "anonymous_id": None}
        async with db.unit() as r:
            await r.conversations.add(conversation)
            first = await r.conversations.reserve_message(conversation.id, **mine, at=at)
            assert first is not None
            assert (first.messages_used, first.status) == (1, ConversationStatus.ACTIVE)
            assert await r.conversations.reserve_message(new_id(), **mine, at=at) is None
            assert (
                await r.conversations.reserve_message(conversation.id, **mine, at=conversation.expires_at)
                is None
            )
            # not the caller's: another user, nobody, an anonymous id of a conversation a user holds
            for stranger in (
                {"user_id": new_id(), "anonymous_id": None},
                {"user_id": None, "anonymous_id": None},
                {"user_id": None, "anonymous_id": "anon-1"},
            ):
                assert await r.conversations.reserve_message(conversation.id, **stranger, at=at) is None
            last = await r.conversations.reserve_message(conversation.id, **mine, at=at)
            assert last is not None
            assert await r.conversations.reserve_message(conversation.id, **mine, at=at) is None  # used up
            await r.uow.commit()
        async with db.unit() as r:
            stored = await r.conversations.get(conversation.id)
        expected = a_conversation(world, allowance=2)
        expected.id = conversation.id
        expected.consume_message(at)
        expected.consume_message(at)
        assert stored == expected
        assert last == expected  # what the reservation hands back is the stored row
        assert (stored.status, stored.completed_at, stored.ended_at) == (ConversationStatus.COMPLETED, at, at)

    async def test_an_anonymous_conversation_is_reserved_by_its_anonymous_id_until_claimed(
        self, db: Backend
    ) -> None:
        world = await build_world(db)
        anonymous = a_conversation(world, allowance=5, anonymous_id="anon-7")
        at = T0 + timedelta(minutes=1)
        async with db.unit() as r:
            await r.conversations.add(anonymous)
            for asker in (
                {"user_id": None, "anonymous_id": "anon-7"},  # the visitor
                {"user_id": world.user.id, "anonymous_id": "anon-7"},  # signed in, same browser
            ):
                assert await r.conversations.reserve_message(anonymous.id, **asker, at=at) is not None
            for stranger in (
                {"user_id": None, "anonymous_id": "anon-8"},
                {"user_id": world.user.id, "anonymous_id": None},
            ):
                assert await r.conversations.reserve_message(anonymous.id, **stranger, at=at) is None
            await r.uow.commit()

    async def test_exactly_one_of_many_concurrent_sends_gets_the_last_message(self, db: Backend) -> None:
        world = await build_world(db)
        conversation = a_conversation(world, allowance=3)
        at = T0 + timedelta(minutes=5)
        mine = {"user_id": world.user.id, "anonymous_id": None}
        async with db.unit() as r:
            await r.conversations.add(conversation)
            for _ in (0, 1):
                assert await r.conversations.reserve_message(conversation.id, **mine, at=at) is not None
            await r.uow.commit()

        async def send() -> bool:
            async with db.unit() as r:
                won = await r.conversations.reserve_message(conversation.id, **mine, at=at)
                await r.uow.commit()
                return won is not None

        results = await asyncio.gather(*(send() for _ in range(20)))
        assert results.count(True) == 1
        async with db.unit() as r:
            stored = await r.conversations.get(conversation.id)
        assert stored is not None
        assert (stored.messages_used, stored.status) == (3, ConversationStatus.COMPLETED)

    async def test_guarded_save_tokens_and_sweeps(self, db: Backend) -> None:
        world = await build_world(db)
        conversation = a_conversation(world, allowance=5)
        async with db.unit() as r:
            await r.conversations.add(conversation)
            await r.uow.commit()
        archived_at = T0 + timedelta(days=1)
        async with db.unit() as r:
            loaded = await r.conversations.get(conversation.id)
            assert loaded is not None
            guard = ConversationGuard.of(loaded)
            assert await r.conversations.add_tokens(conversation.id, input_tokens=120, output_tokens=80)
            with pytest.raises(InvalidInput):
                await r.conversations.add_tokens(conversation.id, input_tokens=-5, output_tokens=0)
            loaded.archive(archived_at)
            assert await r.conversations.save(loaded, guard=guard)
            assert not await r.conversations.save(loaded, guard=guard)  # the row moved on
            await r.uow.commit()
        async with db.unit() as r:
            stored = await r.conversations.get(conversation.id)
            assert stored is not None
            assert (stored.status, stored.archived_at, stored.ended_at) == (
                ConversationStatus.ARCHIVED,
                archived_at,
                archived_at,
            )
            assert (stored.input_tokens, stored.output_tokens) == (120, 80)
            assert await r.conversations.list_ended_unattributed(archived_at) == []
            assert await r.conversations.list_ended_unattributed(archived_at + timedelta(seconds=1)) == [
                stored
            ]
            guard = ConversationGuard.of(stored)
            stored.mark_attributed(archived_at + timedelta(days=8))
            assert await r.conversations.save(stored, guard=guard)
            assert not await r.conversations.add_tokens(conversation.id, input_tokens=1, output_tokens=1)
            await r.uow.commit()
        due = a_conversation(world)
        async with db.unit() as r:
            await r.conversations.add(due)
            assert await r.conversations.list_due_to_expire(due.expires_at - timedelta(seconds=1)) == []
            assert [c.id for c in await r.conversations.list_due_to_expire(due.expires_at)] == [due.id]
            assert await r.conversations.list_ended_unattributed(T0 + timedelta(days=30)) == []

    # transactions -----------------------------------------------------------------------------
    async def test_rollback_and_abandoned_units_leave_nothing_behind(self, db: Backend) -> None:
        user = a_user("ana")
        creator = a_creator("seth", user)
        chatbot, history = a_chatbot("seth-bot", user, {creator.id: ChatbotOwnerRole.PRIMARY_OWNER})
        source = Source(
            id=new_id(),
            title="Book",
            type=SourceType.BOOK,
            created_by=user.id,
            shares=ShareSet.sole(creator.id),
        )
        async with db.unit() as r:
            await r.users.add(user)
            await r.creators.add(creator)
            await r.sources.add(source, effective_from=T0)
            await r.chatbots.add(chatbot, history.versions[0])
            await r.uow.rollback()
        assert await db.is_empty()
        async with db.unit() as r:
            await r.users.add(user)  # never committed: closing the unit rolls back
        assert await db.is_empty()
        async with db.unit() as r:
            assert await r.users.get(user.id) is None
            assert await r.chatbots.get(chatbot.id) is None

    async def test_after_commit_hooks_run_only_after_a_commit(self, db: Backend) -> None:
        ran: list[str] = []

        async def hook() -> None:
            ran.append("hook")

        async with db.unit() as r:
            r.uow.after_commit(hook)
            await r.users.add(a_user("ana"))
            await r.uow.rollback()
            await r.uow.commit()
        assert ran == []
        async with db.unit() as r:
            await r.users.add(a_user("bo"))
            r.uow.after_commit(hook)
            await r.uow.flush()
            assert ran == []
            await r.uow.commit()
        assert ran == ["hook"]


class TestInMemoryRepositories(RepositoryContract):
    @pytest.fixture
    def repos_backend(self) -> Backend:
        return MemoryBackend()


class TestSqlAlchemyRepositories(RepositoryContract):
    """Runs on SQLite and PostgreSQL through the shared ``engine`` fixture's parameter."""

    @pytest.fixture
    def repos_backend(
        self, engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
    ) -> Backend:
        return SqlBackend(engine, session_factory)

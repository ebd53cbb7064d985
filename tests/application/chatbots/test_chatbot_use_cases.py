"""Chatbot use cases on the in-memory fakes and on SQLite and PostgreSQL (one suite)."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker


def _kit() -> Any:
    name = "chatbots_usecase_kit"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


kit = _kit()
harness = kit.load_harness()

from application.chatbots.add_owner import AddChatbotOwnerCommand  # noqa: E402
from application.chatbots.change_owner_role import ChangeChatbotOwnerRoleCommand  # noqa: E402
from application.chatbots.create_chatbot import CreateChatbotCommand  # noqa: E402
from application.chatbots.diff_versions import DiffChatbotVersionsQuery  # noqa: E402
from application.chatbots.get_chatbot import GetChatbotQuery  # noqa: E402
from application.chatbots.list_versions import ListChatbotVersionsQuery  # noqa: E402
from application.chatbots.remove_owner import RemoveChatbotOwnerCommand  # noqa: E402
from application.chatbots.resolve_sources import ResolveChatbotSourcesQuery  # noqa: E402
from application.chatbots.rollback_chatbot import RollbackChatbotCommand  # noqa: E402
from application.chatbots.set_activity import SetChatbotActivityCommand  # noqa: E402
from application.chatbots.set_visibility import SetChatbotVisibilityCommand  # noqa: E402
from application.chatbots.update_chatbot import UpdateChatbotCommand  # noqa: E402
from application.errors import Conflict, InvalidInput, NotFound, PermissionDenied  # noqa: E402
from application.identity.principal import Principal  # noqa: E402
from domain.conversations import Conversation  # noqa: E402
from domain.errors import LastKeeperRemoval, RuleViolation  # noqa: E402
from domain.money import Money  # noqa: E402
from domain.roles import ChatbotOwnerRole, CreatorRole  # noqa: E402


@dataclass
class People:
    ana: Principal  # owner of creator "ana"
    cy: Principal  # admin of creator "ana"
    bo: Principal  # owner of creator "bo"
    dee: Principal  # nobody in particular
    ana_creator: str
    bo_creator: str


async def seed(env: Any) -> People:
    ana, bo, cy, dee = (harness.a_user(n) for n in ("ana", "bo", "cy", "dee"))
    ana_c = harness.a_creator("ana", ana, **{cy.id: CreatorRole.ADMIN})
    bo_c = harness.a_creator("bo", bo)
    async with env.backend.unit() as r:
        for u in (ana, bo, cy, dee):
            await r.users.add(u)
        await r.creators.add(ana_c)
        await r.creators.add(bo_c)
        await r.uow.commit()
    return People(
        Principal.user(ana.id),
        Principal.user(cy.id),
        Principal.user(bo.id),
        Principal.user(dee.id),
        ana_c.id,
        bo_c.id,
    )


def settings(**changes: Any) -> dict[str, Any]:
    return {"title": "Purple Cow Deep Dive", "type": "DEEP_DIVE", "price_cents": 500, **changes}


class ChatbotUseCases:
    @pytest.fixture
    async def env(self, repos_backend: Any) -> Any:
        assert await repos_backend.is_empty()
        return kit.Env(repos_backend, kit.RecordingAudit(), kit.SteppingClock(harness.T0))

    @pytest.fixture
    async def people(self, env: Any) -> People:
        return await seed(env)

    async def _create(self, env: Any, who: Principal, creator_id: str, **changes: Any) -> Any:
        async with env.unit() as k:
            return await k.create(
                CreateChatbotCommand(principal=who, creator_id=creator_id, settings=settings(**changes))
            )

    async def test_create_makes_version_one_live_and_the_creator_primary_owner(
        self, env: Any, people: People
    ) -> None:
        made = await self._create(env, people.cy, people.ana_creator)
        assert made.chatbot.slug.value == "purple-cow-deep-dive"
        async with env.unit() as k:
            versions = await k.versions(
                ListChatbotVersionsQuery(principal=people.ana, chatbot_id=made.chatbot.id)
            )
        assert [v.version_number for v in versions] == [1]
        assert versions[0].is_current
        assert versions[0].created_by == people.cy.user_id
        assert versions[0].config.price == Money.of(500, "USD")
        async with env.backend.unit() as r:
            stored = await r.chatbots.get(made.chatbot.id)
        assert stored.owners.as_dict() == {people.ana_creator: ChatbotOwnerRole.PRIMARY_OWNER}
        assert stored.current_version_id == versions[0].id
        assert not stored.is_public

    async def test_only_owners_and_admins_create_and_bad_settings_are_field_errors(
        self, env: Any, people: People
    ) -> None:
        with pytest.raises(PermissionDenied):
            await self._create(env, people.bo, people.ana_creator)
        async with env.unit() as k:
            with pytest.raises(InvalidInput) as caught:
                await k.create(
                    CreateChatbotCommand(
                        principal=people.ana,
                        creator_id=people.ana_creator,
                        settings={"title": "x", "top_k": "many", "colour": "red", "type": "ROBOT"},
                    )
                )
        assert set(caught.value.errors) == {"top_k", "colour", "type"}
        with pytest.raises(InvalidInput) as caught:
            await self._create(env, people.ana, people.ana_creator, price_cents=-1)
        assert caught.value.code == "invalid-config"

    async def test_one_creator_chatbot_per_creator(self, env: Any, people: People) -> None:
        await self._create(env, people.ana, people.ana_creator, type="CREATOR", title="Ask Ana")
        with pytest.raises(Conflict) as caught:
            await self._create(env, people.ana, people.ana_creator, type="CREATOR", title="Ask Ana again")
        assert caught.value.code == "creator-chatbot-exists"
        other = await self._create(env, people.bo, people.bo_creator, type="CREATOR", title="Ask Bo")
        assert other.chatbot.type.value == "CREATOR"

    async def test_update_appends_a_version_and_closes_the_old_one(self, env: Any, people: People) -> None:
        made = await self._create(env, people.ana, people.ana_creator)
        async with env.unit() as k:
            updated = await k.update(
                UpdateChatbotCommand(
                    principal=people.ana,
                    chatbot_id=made.chatbot.id,
                    changes={"top_k": 12, "conversation_token_cap": 9000, "changelog": "wider"},
                )
            )
        assert updated.current.version_number == 2
        async with env.unit() as k:
            v1, v2 = await k.versions(
                ListChatbotVersionsQuery(principal=people.ana, chatbot_id=made.chatbot.id)
            )
        assert v1.deactivated_at == v2.activated_at
        assert v1.activated_at is not None
        assert v2.is_current
        assert not v1.is_current
        assert v2.config.rag.top_k == 12
        assert v1.config.rag.top_k == 8
        assert v2.config.changelog == "wider"
        assert v1.config.title == v2.config.title
        async with env.unit() as k:
            with pytest.raises(InvalidInput) as caught:
                await k.update(
                    UpdateChatbotCommand(
                        principal=people.ana, chatbot_id=made.chatbot.id, changes={"top_k": 12}
                    )
                )
        assert caught.value.code == "no-changes"

    async def test_co_owner_edits_but_only_the_primary_owner_reprices(self, env: Any, people: People) -> None:
        made = await self._create(env, people.ana, people.ana_creator)
        async with env.unit() as k:
            await k.add_owner(
                AddChatbotOwnerCommand(
                    principal=people.ana,
                    chatbot_id=made.chatbot.id,
                    creator_id=people.bo_creator,
                    role="CO_OWNER",
                )
            )
            await k.update(
                UpdateChatbotCommand(
                    principal=people.bo, chatbot_id=made.chatbot.id, changes={"title": "Cow"}
                )
            )
            with pytest.raises(PermissionDenied):
                await k.update(
                    UpdateChatbotCommand(
                        principal=people.bo, chatbot_id=made.chatbot.id, changes={"price_cents": 1}
                    )
                )
            with pytest.raises(NotFound):
                await k.update(
                    UpdateChatbotCommand(
                        principal=people.dee, chatbot_id=made.chatbot.id, changes={"title": "x"}
                    )
                )

    async def test_rollback_publishes_a_copy_and_diff_names_fields(self, env: Any, people: People) -> None:
        made = await self._create(env, people.ana, people.ana_creator)
        cid = made.chatbot.id
        async with env.unit() as k:
            await k.update(
                UpdateChatbotCommand(
                    principal=people.ana,
                    chatbot_id=cid,
                    changes={"title": "New", "source_ids": ["s1"], "top_k": 3},
                )
            )
            back = await k.rollback(
                RollbackChatbotCommand(principal=people.ana, chatbot_id=cid, to_version=1)
            )
        assert back.current.version_number == 3
        assert back.current.config.title == "Purple Cow Deep Dive"
        assert back.current.config.changelog == "Rollback to version 1"
        async with env.unit() as k:
            diff = await k.diff(
                DiffChatbotVersionsQuery(principal=people.ana, chatbot_id=cid, from_version=1, to_version=2)
            )
            with pytest.raises(RuleViolation) as caught:
                await k.rollback(RollbackChatbotCommand(principal=people.ana, chatbot_id=cid, to_version=3))
            assert caught.value.code == "already-current"
            with pytest.raises(RuleViolation):
                await k.diff(
                    DiffChatbotVersionsQuery(
                        principal=people.ana, chatbot_id=cid, from_version=1, to_version=9
                    )
                )
        fields = {c.field: (c.before, c.after) for c in diff.changes}
        assert fields["title"] == ("Purple Cow Deep Dive", "New")
        assert fields["rag.top_k"] == (8, 3)
        assert fields["rag.source_ids"] == (frozenset(), frozenset({"s1"}))

    async def test_running_conversation_keeps_its_version(self, env: Any, people: People) -> None:
        made = await self._create(env, people.ana, people.ana_creator)
        v1 = made.current
        conversation = Conversation.start(
            chatbot_id=made.chatbot.id,
            version_id=v1.id,
            allowance=v1.config.message_allowance,
            started_at=harness.T0,
            lifetime=timedelta(days=7),
            user_id=people.dee.user_id,
        )
        async with env.backend.unit() as r:
            await r.conversations.add(conversation)
            await r.uow.commit()
        async with env.unit() as k:
            v2 = (
                await k.update(
                    UpdateChatbotCommand(
                        principal=people.ana, chatbot_id=made.chatbot.id, changes={"message_allowance": 5}
                    )
                )
            ).current
        async with env.backend.unit() as r:
            stored = await r.conversations.get(conversation.id)
            pinned = await r.chatbots.get_version(stored.version_id)
            live = await r.chatbots.get(made.chatbot.id)
        assert stored.version_id == v1.id
        assert live.current_version_id == v2.id
        assert pinned.config.message_allowance == v1.config.message_allowance != 5

    async def test_visibility_and_activity_decide_who_sees_it(self, env: Any, people: People) -> None:
        made = await self._create(env, people.ana, people.ana_creator)
        cid = made.chatbot.id
        anon = Principal.anonymous("anon-1")
        async with env.unit() as k:
            with pytest.raises(NotFound):
                await k.get(GetChatbotQuery(principal=people.dee, id_or_slug=cid))
            await k.visibility(SetChatbotVisibilityCommand(principal=people.ana, chatbot_id=cid, public=True))
            seen = await k.get(GetChatbotQuery(principal=anon, id_or_slug="purple-cow-deep-dive"))
            assert seen.chatbot.id == cid
            assert not seen.can_view_config
            assert (await k.get(GetChatbotQuery(principal=people.cy, id_or_slug=cid))).can_view_config
            with pytest.raises(PermissionDenied):
                await k.visibility(SetChatbotVisibilityCommand(principal=anon, chatbot_id=cid, public=False))
            await k.activity(SetChatbotActivityCommand(principal=people.ana, chatbot_id=cid, active=False))
            with pytest.raises(NotFound):
                await k.get(GetChatbotQuery(principal=anon, id_or_slug=cid))
        assert [e["action"] for e in env.audit.entries] == ["chatbot.deactivated"]

    async def test_owner_changes_are_audited_and_keep_a_primary_owner(self, env: Any, people: People) -> None:
        made = await self._create(env, people.ana, people.ana_creator)
        cid = made.chatbot.id
        async with env.unit() as k:
            await k.add_owner(
                AddChatbotOwnerCommand(
                    principal=people.ana, chatbot_id=cid, creator_id=people.bo_creator, role="CO_OWNER"
                )
            )
            with pytest.raises(PermissionDenied):  # a co-owner does not manage owners
                await k.remove_owner(
                    RemoveChatbotOwnerCommand(
                        principal=people.bo, chatbot_id=cid, creator_id=people.ana_creator
                    )
                )
            with pytest.raises(LastKeeperRemoval):
                await k.remove_owner(
                    RemoveChatbotOwnerCommand(
                        principal=people.ana, chatbot_id=cid, creator_id=people.ana_creator
                    )
                )
            with pytest.raises(InvalidInput):
                await k.change_role(
                    ChangeChatbotOwnerRoleCommand(
                        principal=people.ana, chatbot_id=cid, creator_id=people.bo_creator, role="BOSS"
                    )
                )
            roster = await k.change_role(
                ChangeChatbotOwnerRoleCommand(
                    principal=people.ana, chatbot_id=cid, creator_id=people.bo_creator, role="PRIMARY_OWNER"
                )
            )
            assert len(roster.keepers) == 2
            roster = await k.remove_owner(
                RemoveChatbotOwnerCommand(principal=people.bo, chatbot_id=cid, creator_id=people.ana_creator)
            )
        assert roster.as_dict() == {people.bo_creator: ChatbotOwnerRole.PRIMARY_OWNER}
        actions = [e["action"] for e in env.audit.entries]
        assert actions == ["chatbot.owner-added", "chatbot.owner-role-changed", "chatbot.owner-removed"]
        assert env.audit.entries[1]["before"] == {"creator_id": people.bo_creator, "role": "CO_OWNER"}

    async def test_sources_follow_the_creator_or_stay_selected(self, env: Any, people: People) -> None:
        env.sources.active = {people.ana_creator: {"a1"}, people.bo_creator: {"b1"}}
        creator_bot = await self._create(env, people.ana, people.ana_creator, type="CREATOR", title="Ask Ana")
        async with env.unit() as k:
            await k.add_owner(
                AddChatbotOwnerCommand(
                    principal=people.ana,
                    chatbot_id=creator_bot.chatbot.id,
                    creator_id=people.bo_creator,
                    role="CO_OWNER",
                )
            )
            first = await k.resolve(ResolveChatbotSourcesQuery(version_id=creator_bot.current.id))
        env.sources.active[people.ana_creator].add("a2")
        async with env.unit() as k:
            later = await k.resolve.resolve_source_ids(creator_bot.current)
        assert first.source_ids == {"a1"}
        assert later == {"a1", "a2"}
        board = await self._create(env, people.ana, people.ana_creator, type="ADVISOR_BOARD", title="Board")
        chosen = await self._create(
            env, people.ana, people.ana_creator, title="Chosen", source_ids=["a1", "zz"]
        )
        async with env.unit() as k:
            await k.add_owner(
                AddChatbotOwnerCommand(
                    principal=people.ana,
                    chatbot_id=board.chatbot.id,
                    creator_id=people.bo_creator,
                    role="CO_OWNER",
                )
            )
            panel = await k.resolve(ResolveChatbotSourcesQuery(version_id=board.current.id))
            fixed = await k.resolve.resolve_source_ids(chosen.current)
            with pytest.raises(NotFound):
                await k.resolve(ResolveChatbotSourcesQuery(version_id="nope"))
        assert panel.source_ids == {"a1", "a2", "b1"}
        assert panel.experts == {people.ana_creator: {"a1", "a2"}, people.bo_creator: {"b1"}}
        assert fixed == {"a1", "zz"}


class TestOnMemory(ChatbotUseCases):
    @pytest.fixture
    def repos_backend(self) -> Any:
        return harness.MemoryBackend()


class TestOnSql(ChatbotUseCases):
    @pytest.fixture
    def repos_backend(self, engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]) -> Any:
        return harness.SqlBackend(engine, session_factory)

    async def test_two_racing_creator_chatbots_for_one_creator_make_one(
        self, env: Any, people: People
    ) -> None:
        async def attempt(title: str) -> str:
            try:
                await self._create(env, people.ana, people.ana_creator, type="CREATOR", title=title)
            except Conflict as exc:
                return exc.code
            return "created"

        results = await asyncio.gather(attempt("Ask Ana one"), attempt("Ask Ana two"))
        assert sorted(results) == ["created", "creator-chatbot-exists"]

    async def test_two_racing_removals_of_primary_owners_leave_one(self, env: Any, people: People) -> None:
        # Ana owns two creators, both PRIMARY_OWNERs: each removal alone is allowed, both are not.
        async with env.backend.unit() as r:
            owner = harness.a_user("ana-two-owner")
            await r.users.add(owner)
            await r.creators.add(harness.a_creator("ana-two", owner))
            await r.uow.commit()
            ana_two = (await r.creators.get_by_slug("ana-two")).id
            await r.creators.add_member(ana_two, people.ana.user_id, CreatorRole.OWNER)
            await r.uow.commit()
        made = await self._create(env, people.ana, people.ana_creator)
        cid = made.chatbot.id
        async with env.unit() as k:
            await k.add_owner(
                AddChatbotOwnerCommand(
                    principal=people.ana, chatbot_id=cid, creator_id=ana_two, role="PRIMARY_OWNER"
                )
            )

        async def remove(creator_id: str) -> str:
            try:
                async with env.unit() as k:
                    await k.remove_owner(
                        RemoveChatbotOwnerCommand(principal=people.ana, chatbot_id=cid, creator_id=creator_id)
                    )
            except LastKeeperRemoval as exc:
                return exc.code
            return "removed"

        results = await asyncio.gather(remove(ana_two), remove(people.ana_creator))
        assert sorted(results) == ["last-primary-owner", "removed"]
        async with env.backend.unit() as r:
            assert len((await r.chatbots.get(cid)).owners.keepers) == 1

    async def test_racing_updates_never_lose_or_fork_a_version(self, env: Any, people: People) -> None:
        made = await self._create(env, people.ana, people.ana_creator)
        cid = made.chatbot.id

        async def change(title: str) -> str:
            try:
                async with env.unit() as k:
                    await k.update(
                        UpdateChatbotCommand(principal=people.ana, chatbot_id=cid, changes={"title": title})
                    )
            except Conflict as exc:
                return exc.code
            return "published"

        results = await asyncio.gather(change("One"), change("Two"), change("Three"))
        assert set(results) <= {"published", "version-conflict"}
        assert "published" in results
        async with env.backend.unit() as r:
            history = await r.chatbots.list_versions(cid)  # VersionHistory re-checks 1..n, one current
            live = await r.chatbots.get(cid)
        assert len(history) == 1 + results.count("published")
        assert live.current_version_id == history.current.id

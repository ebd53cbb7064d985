"""In-memory chatbots: the fake of ``application.chatbots.ports.ChatbotRepository``."""

from __future__ import annotations

from dataclasses import replace

from adapters.memory.catalogue import missing_reference, require_creators, require_users
from adapters.memory.store import InMemorySession, Tables, copied
from application.errors import Conflict, InvalidInput, NotFound
from domain.chatbots import Chatbot, ChatbotType, ChatbotVersion, Publication, VersionHistory
from domain.roles import ChatbotOwnerRole, ChatbotOwners


def _persona(chatbot_type: ChatbotType, owners: ChatbotOwners) -> str | None:
    if chatbot_type is not ChatbotType.CREATOR:
        return None
    if len(owners.keepers) != 1:
        raise Conflict(
            "a CREATOR chatbot speaks for one creator: give it exactly one PRIMARY_OWNER",
            code="creator-chatbot-needs-persona",
        )
    return owners.keepers[0]


def _claim_persona(t: Tables, chatbot_id: str, persona: str | None) -> None:
    if persona is not None and any(c != chatbot_id and p == persona for c, p in t.personas.items()):
        raise Conflict("This creator already has a CREATOR chatbot.", code="creator-chatbot-exists")
    if persona is None:
        t.personas.pop(chatbot_id, None)
    else:
        t.personas[chatbot_id] = persona


def _chatbot(t: Tables, chatbot_id: str) -> Chatbot:
    if chatbot_id not in t.chatbots:
        raise NotFound(f"chatbot {chatbot_id!r} does not exist", code="chatbot-not-found")
    return t.chatbots[chatbot_id]


def _check_slug(t: Tables, chatbot: Chatbot) -> None:
    if any(c.slug == chatbot.slug and c.id != chatbot.id for c in t.chatbots.values()):
        raise Conflict("A chatbot with this slug already exists.", code="chatbot-slug-taken")


class InMemoryChatbotRepository:
    def __init__(self, session: InMemorySession) -> None:
        self._session = session

    async def add(self, chatbot: Chatbot, first_version: ChatbotVersion) -> None:
        if first_version.chatbot_id != chatbot.id or first_version.version_number != 1:
            raise InvalidInput(
                "a new chatbot starts with its own version 1", errors={"first_version": "not version 1 of it"}
            )
        persona = _persona(chatbot.type, chatbot.owners)
        async with self._session.atomic() as t:
            if chatbot.id in t.chatbots or first_version.id in t.versions:
                raise Conflict("a chatbot or version with this id exists", code="unique-violation")
            _check_slug(t, chatbot)
            _claim_persona(t, chatbot.id, persona)
            require_users(t, first_version.created_by)
            require_creators(t, *(creator_id for creator_id, _ in chatbot.owners))
            if chatbot.current_version_id not in (None, first_version.id):
                raise missing_reference("chatbot version", chatbot.current_version_id)
            t.chatbots[chatbot.id] = copied(chatbot)
            t.versions[first_version.id] = copied(first_version)

    async def get(self, chatbot_id: str) -> Chatbot | None:
        return copied((await self._session.tables()).chatbots.get(chatbot_id))

    async def get_by_slug(self, slug: str) -> Chatbot | None:
        chatbots = (await self._session.tables()).chatbots.values()
        return copied(next((c for c in chatbots if c.slug.value == slug), None))

    async def get_creator_chatbot(self, creator_id: str) -> Chatbot | None:
        t = await self._session.tables()
        chatbot_id = next((c for c, p in t.personas.items() if p == creator_id), None)
        return copied(t.chatbots[chatbot_id]) if chatbot_id is not None else None

    async def list_for_creator(self, creator_id: str) -> list[Chatbot]:
        chatbots = (await self._session.tables()).chatbots.values()
        return sorted((copied(c) for c in chatbots if creator_id in c.owners), key=lambda c: c.slug.value)

    async def save(self, chatbot: Chatbot) -> None:
        async with self._session.atomic() as t:
            stored = _chatbot(t, chatbot.id)
            _check_slug(t, chatbot)
            stored.slug = chatbot.slug
            stored.is_public = chatbot.is_public
            stored.is_active = chatbot.is_active

    async def append_version(self, publication: Publication) -> None:
        new, old = publication.version, publication.deactivated
        async with self._session.atomic() as t:
            stored = _chatbot(t, new.chatbot_id)
            if stored.current_version_id != (old.id if old is not None else None):
                raise Conflict(
                    "another version was published first; reload and try again", code="version-conflict"
                )
            if new.id in t.versions or any(
                v.chatbot_id == new.chatbot_id and v.version_number == new.version_number
                for v in t.versions.values()
            ):
                raise Conflict("Another version was published at the same time.", code="version-conflict")
            persona = t.personas.get(stored.id)
            if new.config.type is not ChatbotType.CREATOR:
                persona = None
            elif persona is None:
                persona = _persona(new.config.type, stored.owners)
            _claim_persona(t, stored.id, persona)
            require_users(t, new.created_by)
            if old is not None:
                previous = t.versions[old.id]
                if previous.deactivated_at is not None:
                    raise Conflict("the replaced version was already closed", code="version-conflict")
                # Only the closing time of an old version is ever written.
                t.versions[old.id] = replace(previous, deactivated_at=old.deactivated_at)
            t.versions[new.id] = copied(new)
            stored.current_version_id = new.id
            stored.type = new.config.type

    async def list_versions(self, chatbot_id: str) -> VersionHistory:
        versions = (await self._session.tables()).versions.values()
        return VersionHistory(chatbot_id, [copied(v) for v in versions if v.chatbot_id == chatbot_id])

    async def get_version(self, version_id: str) -> ChatbotVersion | None:
        return copied((await self._session.tables()).versions.get(version_id))

    async def add_owner(self, chatbot_id: str, creator_id: str, role: ChatbotOwnerRole) -> ChatbotOwners:
        async with self._session.atomic() as t:
            stored = _chatbot(t, chatbot_id)
            roster = stored.owners.with_member(creator_id, role)
            require_creators(t, creator_id)
            stored.owners = roster
            return roster

    async def change_owner_role(
        self, chatbot_id: str, creator_id: str, role: ChatbotOwnerRole
    ) -> ChatbotOwners:
        async with self._session.atomic() as t:
            stored = _chatbot(t, chatbot_id)
            stored.owners = stored.owners.with_role(creator_id, role)
            return stored.owners

    async def remove_owner(self, chatbot_id: str, creator_id: str) -> ChatbotOwners:
        async with self._session.atomic() as t:
            stored = _chatbot(t, chatbot_id)
            stored.owners = stored.owners.without(creator_id)
            return stored.owners

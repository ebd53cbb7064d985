"""Repository port of chatbots: the live chatbot, its owners and its append-only versions.

Writes are sent at once inside the request's unit of work (see ``application.catalogue.ports``
for the shared semantics). ``Conflict`` codes (stable): ``chatbot-slug-taken``,
``creator-chatbot-exists`` (a creator already has its one CREATOR chatbot),
``creator-chatbot-needs-persona`` (a CREATOR chatbot must have exactly one PRIMARY_OWNER, the
creator it speaks for, when it becomes a CREATOR chatbot), ``already-owner``,
``version-conflict`` (someone else published first), ``missing-reference``. The last
PRIMARY_OWNER rule raises the domain's ``LastKeeperRemoval`` (code ``last-primary-owner``) and
holds under concurrency: owner changes of one chatbot are serialized.
"""

from __future__ import annotations

from typing import Protocol

from domain.chatbots import Chatbot, ChatbotVersion, Publication, VersionHistory
from domain.roles import ChatbotOwnerRole, ChatbotOwners


class ChatbotRepository(Protocol):
    async def add(self, chatbot: Chatbot, first_version: ChatbotVersion) -> None:
        """Stores the chatbot, its owners and its version 1 (``chatbot.current_version_id``
        is normally ``first_version.id``, via ``Chatbot.point_to``)."""
        ...

    async def get(self, chatbot_id: str) -> Chatbot | None: ...

    async def get_by_slug(self, slug: str) -> Chatbot | None: ...

    async def get_creator_chatbot(self, creator_id: str) -> Chatbot | None:
        """The CREATOR chatbot that speaks for ``creator_id``, if it has one."""
        ...

    async def list_for_creator(self, creator_id: str) -> list[Chatbot]:
        """The chatbots ``creator_id`` owns in any role (only those), ordered by slug."""
        ...

    async def save(self, chatbot: Chatbot) -> None:
        """Writes slug, visibility and activity. The type and the current version move only
        through ``append_version``; owners only through the owner methods. NotFound if absent."""
        ...

    async def append_version(self, publication: Publication) -> None:
        """Store a publish or rollback (``VersionHistory.publish``/``rollback``): insert the new
        version, set ``deactivated_at`` on the one it replaced (nothing else of an old version
        is ever written) and point the chatbot at the new one, all at once. Conflict
        ``version-conflict`` if the replaced version is no longer the current one."""
        ...

    async def list_versions(self, chatbot_id: str) -> VersionHistory:
        """Every version, oldest first (empty history for an unknown chatbot)."""
        ...

    async def get_version(self, version_id: str) -> ChatbotVersion | None: ...

    async def add_owner(self, chatbot_id: str, creator_id: str, role: ChatbotOwnerRole) -> ChatbotOwners:
        """Conflict ``already-owner`` / ``missing-reference``. Returns the new roster."""
        ...

    async def change_owner_role(
        self, chatbot_id: str, creator_id: str, role: ChatbotOwnerRole
    ) -> ChatbotOwners:
        """Never demotes the last PRIMARY_OWNER, even when two changes race."""
        ...

    async def remove_owner(self, chatbot_id: str, creator_id: str) -> ChatbotOwners:
        """Never removes the last PRIMARY_OWNER, even when two removals race."""
        ...

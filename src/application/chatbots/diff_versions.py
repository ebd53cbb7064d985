"""DiffChatbotVersions: what changed between two versions of a chatbot."""

from __future__ import annotations

from dataclasses import dataclass

from application.chatbots.ports import ChatbotRepository
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from domain.chatbots import FieldChange


@dataclass(frozen=True, slots=True, kw_only=True)
class DiffChatbotVersionsQuery:
    principal: Principal
    chatbot_id: str
    from_version: int
    to_version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionDiff:
    from_version: int
    to_version: int
    changes: tuple[FieldChange, ...]


class DiffChatbotVersions:
    """Field-by-field differences between any two versions (either order; nested retrieval
    settings as ``rag.top_k``...).

    - Only who may see the configuration (owners of any role, operators) may diff it.
    - Unknown version numbers are ``unknown-version``.
    """

    def __init__(self, authorizer: Authorizer, chatbots: ChatbotRepository) -> None:
        self._authorizer = authorizer
        self._chatbots = chatbots

    async def __call__(self, query: DiffChatbotVersionsQuery) -> VersionDiff:
        await self._authorizer.require(
            query.principal, Action.CHATBOT_VIEW_CONFIG, Resource.chatbot(query.chatbot_id)
        )
        history = await self._chatbots.list_versions(query.chatbot_id)
        changes = history.diff(query.from_version, query.to_version)
        return VersionDiff(from_version=query.from_version, to_version=query.to_version, changes=changes)

"""ResolveChatbotSources: which sources one version of a chatbot answers from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from application.chatbots.ports import ChatbotRepository
from application.chatbots.source_ports import SourceDirectory
from application.errors import NotFound
from domain.chatbots import ChatbotType, ChatbotVersion, RagScope
from domain.roles import ChatbotOwnerRole


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolveChatbotSourcesQuery:
    version_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvedSources:
    """The concrete source set, and for an advisory board whose voice each source is
    (``experts``: creator id -> its sources in the set; empty for other types)."""

    source_ids: frozenset[str]
    experts: Mapping[str, frozenset[str]] = field(default_factory=dict)


class ResolveChatbotSources:
    """The sources a chat turn retrieves from, for the version the conversation is pinned to.

    - SELECTED_SOURCES: exactly the version's list, frozen with the version.
    - ALL_CREATOR_SOURCES: resolved at each call, so a chatbot follows its creators' new
      sources without a new version. A CREATOR chatbot draws on its one PRIMARY_OWNER's
      active sources; other types on every owning creator's (an advisory board's experts).
    - Internal (called by the chat turn after it authorized the conversation): no principal.
    """

    def __init__(self, chatbots: ChatbotRepository, sources: SourceDirectory) -> None:
        self._chatbots = chatbots
        self._sources = sources

    async def __call__(self, query: ResolveChatbotSourcesQuery) -> ResolvedSources:
        version = await self._chatbots.get_version(query.version_id)
        if version is None:
            raise NotFound("chatbot version not found", extra={"resource": "chatbot-version"})
        return await self.resolve(version)

    async def resolve_source_ids(self, version: ChatbotVersion) -> frozenset[str]:
        return (await self.resolve(version)).source_ids

    async def resolve(self, version: ChatbotVersion) -> ResolvedSources:
        config = version.config
        chatbot = await self._chatbots.get(version.chatbot_id)
        if chatbot is None:
            raise NotFound("chatbot not found", extra={"resource": "chatbot"})
        if config.type is ChatbotType.CREATOR:
            voices = [c for c, role in chatbot.owners if role is ChatbotOwnerRole.PRIMARY_OWNER][:1]
        else:
            voices = [c for c, _ in chatbot.owners]
        by_creator = await self._sources.active_sources_by_creator(voices)
        if config.rag.scope is RagScope.SELECTED_SOURCES:
            chosen = config.rag.source_ids
        else:
            chosen = frozenset().union(*by_creator.values()) if by_creator else frozenset()
        experts: dict[str, frozenset[str]] = {}
        if config.type is ChatbotType.ADVISOR_BOARD:
            experts = {c: s & chosen for c, s in by_creator.items() if s & chosen}
        return ResolvedSources(source_ids=frozenset(chosen), experts=experts)

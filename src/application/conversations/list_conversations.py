"""ListConversations: the caller's own conversations, newest first."""

from __future__ import annotations

from dataclasses import dataclass

from application.conversations.ports import ConversationRepository
from application.errors import PermissionDenied
from application.identity.principal import Principal
from domain.conversations import Conversation

MAX_PAGE = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class ListConversationsQuery:
    principal: Principal
    limit: int = 20
    before_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationPage:
    items: list[Conversation]
    next_before_id: str | None


class ListConversations:
    """A signed-in user's conversations, or an anonymous visitor's (by their signed id).

    - Only the caller's own: the query is scoped by the principal, never by a parameter.
    - API keys act for creators and have no conversations (403 ``audience-only``).
    - Keyset pages (``limit`` 1..100): ``next_before_id`` continues the list.
    """

    def __init__(self, conversations: ConversationRepository) -> None:
        self._conversations = conversations

    async def __call__(self, query: ListConversationsQuery) -> ConversationPage:
        limit = max(1, min(query.limit, MAX_PAGE))
        principal = query.principal
        if principal.user_id is not None:
            found = await self._conversations.list_for_user(
                principal.user_id, limit=limit + 1, before_id=query.before_id
            )
        elif principal.is_anonymous and principal.anonymous_id is not None:
            found = await self._conversations.list_for_anonymous(
                principal.anonymous_id, limit=limit + 1, before_id=query.before_id
            )
        else:
            raise PermissionDenied("API keys have no conversations", code="audience-only")
        items = found[:limit]
        return ConversationPage(items=items, next_before_id=items[-1].id if len(found) > limit else None)

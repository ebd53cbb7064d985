"""ListFavorites: the caller's favourite chatbots."""

from __future__ import annotations

from dataclasses import dataclass

from application.chatbots.discovery_ports import ChatbotDiscovery, ListedChatbot
from application.errors import NotAuthenticated
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource


@dataclass(frozen=True, slots=True, kw_only=True)
class ListFavoritesQuery:
    principal: Principal


class ListFavorites:
    """A signed-in user's favourites, newest first; chatbots since unpublished or deactivated
    are left out (they come back if republished)."""

    def __init__(self, authorizer: Authorizer, discovery: ChatbotDiscovery) -> None:
        self._authorizer = authorizer
        self._discovery = discovery

    async def __call__(self, query: ListFavoritesQuery) -> list[ListedChatbot]:
        user_id = query.principal.user_id
        if user_id is None:
            raise NotAuthenticated("sign in to see your favourites", code="login-required")
        await self._authorizer.require(query.principal, Action.ACCOUNT_VIEW, Resource.user(user_id))
        return await self._discovery.favorites(user_id)

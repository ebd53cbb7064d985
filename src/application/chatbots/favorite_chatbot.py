"""FavoriteChatbot: add a chatbot to (or remove it from) the caller's favourites."""

from __future__ import annotations

from dataclasses import dataclass

from application.chatbots.discovery_ports import ChatbotDiscovery
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.uow import UnitOfWork


@dataclass(frozen=True, slots=True, kw_only=True)
class FavoriteChatbotCommand:
    principal: Principal
    chatbot_id: str
    favorite: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class FavoriteResult:
    chatbot_id: str
    favorite: bool
    changed: bool


class FavoriteChatbot:
    """Favourites belong to an account.

    - Signed-in users favourite chatbots they can see (anonymous visitors are asked to sign in).
    - Idempotent: favouriting twice, or removing what is not there, changes nothing.
    """

    def __init__(self, authorizer: Authorizer, discovery: ChatbotDiscovery, uow: UnitOfWork) -> None:
        self._authorizer = authorizer
        self._discovery = discovery
        self._uow = uow

    async def __call__(self, command: FavoriteChatbotCommand) -> FavoriteResult:
        p = command.principal
        await self._authorizer.require(p, Action.CHATBOT_FAVORITE, Resource.chatbot(command.chatbot_id))
        assert p.user_id is not None  # the matrix grants chatbot.favorite to signed-in users only
        if command.favorite:
            changed = await self._discovery.add_favorite(p.user_id, command.chatbot_id)
        else:
            changed = await self._discovery.remove_favorite(p.user_id, command.chatbot_id)
        await self._uow.commit()
        return FavoriteResult(chatbot_id=command.chatbot_id, favorite=command.favorite, changed=changed)

"""UpdateChatbot: change a chatbot's configuration by publishing a new version."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from application.chatbots._loading import load_chatbot
from application.chatbots.config_input import REVENUE_FIELDS, apply_changes
from application.chatbots.ports import ChatbotRepository
from application.chatbots.views import ChatbotDetails
from application.errors import InvalidInput
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateChatbotCommand:
    principal: Principal
    chatbot_id: str
    changes: Mapping[str, Any]  # see config_input.FIELDS; only the fields present change


class UpdateChatbot:
    """Every configuration change is a new immutable version.

    - Owners who may edit the configuration (PRIMARY_OWNER, CO_OWNER) may change it; price and
      currency also need the right to change revenue settings (PRIMARY_OWNER only).
    - The new version becomes current (``activated_at``), the previous one is closed
      (``deactivated_at``); conversations already running keep the version they started on.
    - A change that changes nothing is refused (``no-changes``): versions mean something.
    - Two concurrent changes cannot both win: the second is Conflict ``version-conflict``.
    """

    def __init__(
        self, authorizer: Authorizer, chatbots: ChatbotRepository, clock: Clock, uow: UnitOfWork
    ) -> None:
        self._authorizer = authorizer
        self._chatbots = chatbots
        self._clock = clock
        self._uow = uow

    async def __call__(self, command: UpdateChatbotCommand) -> ChatbotDetails:
        p, resource = command.principal, Resource.chatbot(command.chatbot_id)
        await self._authorizer.require(p, Action.CHATBOT_UPDATE_CONFIG, resource)
        if REVENUE_FIELDS & set(command.changes):
            await self._authorizer.require(p, Action.CHATBOT_CHANGE_REVENUE_SETTINGS, resource)
        if p.user_id is None:
            raise InvalidInput("versions are authored by a signed-in user", errors={"principal": "sign in"})
        chatbot = await load_chatbot(self._chatbots, command.chatbot_id)
        history = await self._chatbots.list_versions(chatbot.id)
        current = history.current
        config = apply_changes(current.config if current else None, command.changes)
        if current is not None and replace(config, changelog=None) == replace(current.config, changelog=None):
            raise InvalidInput(
                "nothing would change", errors={"changes": "change at least one setting"}, code="no-changes"
            )
        publication = history.publish(config, at=self._clock.now(), by=p.user_id)
        await self._chatbots.append_version(publication)
        await self._uow.commit()
        chatbot.point_to(publication.version)
        return ChatbotDetails(chatbot=chatbot, current=publication.version)

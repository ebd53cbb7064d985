"""DefineIntakeQuestion: add a question a chatbot asks before it answers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from application.chatbots.intake import CHOICE_TYPES, IntakeQuestion, IntakeType
from application.chatbots.intake_ports import IntakeRepository
from application.errors import InvalidInput
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.uow import UnitOfWork
from domain.ids import new_id

_SLUG = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")


@dataclass(frozen=True, slots=True, kw_only=True)
class DefineIntakeQuestionCommand:
    principal: Principal
    chatbot_id: str
    slug: str
    text: str
    type: str
    display_order: int = 0
    required: bool = False
    helper_text: str | None = None
    options: Sequence[str] = ()


class DefineIntakeQuestion:
    """Adds an intake question.

    - Who may edit the chatbot's configuration (PRIMARY_OWNER, CO_OWNER) defines its questions.
    - Types: TEXT, NUMBER, SELECT, MULTI_SELECT, FILE, DATE, BOOLEAN. SELECT and MULTI_SELECT
      need 2..50 distinct options; the other types take none.
    - The slug (the user-context key) is unique per chatbot; the same slug on several
      chatbots is how one reusable answer serves several frameworks.
    """

    def __init__(self, authorizer: Authorizer, intake: IntakeRepository, uow: UnitOfWork) -> None:
        self._authorizer = authorizer
        self._intake = intake
        self._uow = uow

    async def __call__(self, command: DefineIntakeQuestionCommand) -> IntakeQuestion:
        await self._authorizer.require(
            command.principal, Action.CHATBOT_UPDATE_CONFIG, Resource.chatbot(command.chatbot_id)
        )
        errors: dict[str, str] = {}
        if not _SLUG.fullmatch(command.slug) or len(command.slug) > 64:
            errors["slug"] = "must be 1-64 lowercase letters and digits, words joined by - or _"
        text = command.text.strip()
        if not 1 <= len(text) <= 1000:
            errors["text"] = "must be 1 to 1000 characters"
        try:
            kind = IntakeType(command.type)
        except ValueError:
            errors["type"] = f"must be one of {', '.join(t.value for t in IntakeType)}"
            kind = IntakeType.TEXT
        options = tuple(o.strip() for o in command.options)
        if kind in CHOICE_TYPES and (
            not 2 <= len(options) <= 50 or len(set(options)) != len(options) or not all(options)
        ):
            errors["options"] = "a choice question needs 2 to 50 distinct, non-empty options"
        if kind not in CHOICE_TYPES and options:
            errors["options"] = f"a {kind.value} question takes no options"
        if type(command.display_order) is not int or not 0 <= command.display_order <= 10_000:
            errors["display_order"] = "must be 0 to 10000"
        if errors:
            raise InvalidInput("the intake question is not valid", errors=errors)
        question = IntakeQuestion(
            id=new_id(),
            chatbot_id=command.chatbot_id,
            slug=command.slug,
            text=text,
            type=kind,
            display_order=command.display_order,
            required=command.required,
            helper_text=command.helper_text,
            options=options,
        )
        await self._intake.add_question(question)
        await self._uow.commit()
        return question

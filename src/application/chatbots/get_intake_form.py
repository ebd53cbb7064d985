"""GetIntakeForm: the questions a chatbot asks, prefilled with the user's reusable answers."""

from __future__ import annotations

from dataclasses import dataclass

from application.chatbots.intake import IntakeForm
from application.chatbots.intake_ports import IntakeRepository
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource


@dataclass(frozen=True, slots=True, kw_only=True)
class GetIntakeFormQuery:
    principal: Principal
    chatbot_id: str


class GetIntakeForm:
    """The intake form of a chatbot the caller can see, questions in display order.

    - For a signed-in user, answers they allowed to be reused (from any chatbot asking the same
      slug) are offered as prefilled values, so a framework does not ask twice.
    """

    def __init__(self, authorizer: Authorizer, intake: IntakeRepository) -> None:
        self._authorizer = authorizer
        self._intake = intake

    async def __call__(self, query: GetIntakeFormQuery) -> IntakeForm:
        await self._authorizer.require(
            query.principal, Action.CHATBOT_VIEW, Resource.chatbot(query.chatbot_id)
        )
        questions = await self._intake.questions(query.chatbot_id)
        prefilled = {}
        if query.principal.user_id is not None and questions:
            prefilled = await self._intake.reusable_answers(
                query.principal.user_id, [q.slug for q in questions]
            )
        return IntakeForm(questions=questions, prefilled=prefilled)

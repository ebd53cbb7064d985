"""SubmitIntake: a user's answers to a chatbot's intake questions."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from application.chatbots.intake import IntakeAnswer, check_answer
from application.chatbots.intake_ports import IntakeRepository
from application.errors import InvalidInput, NotAuthenticated
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.uow import UnitOfWork


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitIntakeCommand:
    principal: Principal
    chatbot_id: str
    answers: Mapping[str, object]  # question slug -> raw answer
    reusable: Collection[str] = field(default_factory=frozenset)  # slugs the user lets others reuse


class SubmitIntake:
    """Validates and stores intake answers.

    - Signed-in users answer intake for chatbots they can see (answers become their context).
    - Every answer is checked against its question's type (and options); every required
      question needs an answer, from this submission or a reusable earlier one; unknown slugs
      are refused; a FILE answer must name a file the user uploaded. All problems are
      reported at once, and nothing is stored unless all pass.
    - Stored as intake responses and as user context (source INTAKE_FORM); answers marked
      reusable are kept globally so other frameworks asking the same slug can reuse them.
    """

    def __init__(self, authorizer: Authorizer, intake: IntakeRepository, uow: UnitOfWork) -> None:
        self._authorizer = authorizer
        self._intake = intake
        self._uow = uow

    async def __call__(self, command: SubmitIntakeCommand) -> list[IntakeAnswer]:
        p = command.principal
        await self._authorizer.require(p, Action.CHATBOT_VIEW, Resource.chatbot(command.chatbot_id))
        if p.user_id is None:
            raise NotAuthenticated("sign in to answer intake questions", code="login-required")
        questions = {q.slug: q for q in await self._intake.questions(command.chatbot_id)}
        errors: dict[str, str] = {}
        answers: list[IntakeAnswer] = []
        for slug, raw in command.answers.items():
            question = questions.get(slug)
            if question is None:
                errors[f"answers.{slug}"] = "is not a question of this chatbot"
                continue
            try:
                value, file_id = check_answer(question, raw)
            except ValueError as exc:
                errors[f"answers.{slug}"] = str(exc)
                continue
            answers.append(
                IntakeAnswer(
                    question=question, value=value, file_id=file_id, reusable=slug in command.reusable
                )
            )
        files = {a.file_id: a.question.slug for a in answers if a.file_id is not None}
        owned = await self._intake.files_owned_by(p.user_id, list(files)) if files else set()
        for file_id, slug in files.items():
            if file_id not in owned:
                errors[f"answers.{slug}"] = "is not a file you uploaded"
        missing = [s for s, q in questions.items() if q.required and s not in command.answers]
        if missing:
            earlier = await self._intake.reusable_answers(p.user_id, missing)
            for slug in missing:
                if slug not in earlier:
                    errors[f"answers.{slug}"] = "is required"
        if errors:
            raise InvalidInput("some intake answers are not valid", errors=errors)
        await self._intake.save_answers(p.user_id, command.chatbot_id, answers)
        await self._uow.commit()
        return answers

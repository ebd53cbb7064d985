"""Intake questions, responses and the user context they write (``IntakeRepository``)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence import enums
from adapters.persistence.models import File, IntakeResponse, UserContext
from adapters.persistence.models import IntakeQuestion as QuestionRow
from adapters.persistence.repositories._support import atomic, execute_update
from application.chatbots.intake import IntakeAnswer, IntakeQuestion, IntakeType
from application.errors import Conflict
from domain.ids import new_id

_CODES = {"uq_intake_question_chatbot_id_slug": "intake-slug-taken"}


def _question(row: QuestionRow) -> IntakeQuestion:
    return IntakeQuestion(
        id=row.id,
        chatbot_id=row.chatbot_id,
        slug=row.slug,
        text=row.question_text,
        type=IntakeType(row.response_type.value),
        display_order=row.display_order,
        required=row.is_required,
        helper_text=row.helper_text,
        options=tuple(row.options or ()),
    )


class SqlIntakeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_question(self, question: IntakeQuestion) -> None:
        try:
            async with atomic(self._session):
                self._session.add(
                    QuestionRow(
                        id=question.id,
                        chatbot_id=question.chatbot_id,
                        slug=question.slug,
                        question_text=question.text,
                        helper_text=question.helper_text,
                        response_type=enums.IntakeResponseType(question.type.value),
                        display_order=question.display_order,
                        is_required=question.required,
                        options=list(question.options) or None,
                    )
                )
                await self._session.flush()
        except Conflict as exc:
            if exc.extra.get("constraint") in _CODES:
                raise Conflict(
                    "this chatbot already asks a question with this slug", code="intake-slug-taken"
                ) from exc
            raise

    async def questions(self, chatbot_id: str) -> list[IntakeQuestion]:
        rows = await self._session.scalars(
            select(QuestionRow)
            .where(QuestionRow.chatbot_id == chatbot_id)
            .order_by(QuestionRow.display_order, QuestionRow.slug)
        )
        return [_question(r) for r in rows]

    async def files_owned_by(self, user_id: str, file_ids: Collection[str]) -> set[str]:
        if not file_ids:
            return set()
        rows = await self._session.scalars(
            select(File.id).where(File.id.in_(list(file_ids)), File.owner_user_id == user_id)
        )
        return set(rows)

    async def save_answers(self, user_id: str, chatbot_id: str, answers: Collection[IntakeAnswer]) -> None:
        for answer in answers:
            async with atomic(self._session):
                self._session.add(
                    IntakeResponse(
                        id=new_id(),
                        intake_question_id=answer.question.id,
                        user_id=user_id,
                        chatbot_id=chatbot_id,
                        file_id=answer.file_id,
                        value=answer.value,
                        reusable_across_frameworks=answer.reusable,
                    )
                )
                await self._session.flush()
            await self._remember(
                user_id, None if answer.reusable else chatbot_id, answer.question.slug, answer.value
            )

    async def _remember(self, user_id: str, chatbot_id: str | None, key: str, value: Any) -> None:
        scope = (
            UserContext.chatbot_id.is_(None) if chatbot_id is None else UserContext.chatbot_id == chatbot_id
        )
        change = (
            update(UserContext)
            .where(UserContext.user_id == user_id, UserContext.key == key, scope)
            .values(value=value, source=enums.ContextSource.INTAKE_FORM)
        )
        if await execute_update(self._session, change):
            return
        try:
            async with atomic(self._session):
                self._session.add(
                    UserContext(
                        id=new_id(),
                        user_id=user_id,
                        chatbot_id=chatbot_id,
                        key=key,
                        value=value,
                        source=enums.ContextSource.INTAKE_FORM,
                    )
                )
                await self._session.flush()
        except Conflict:
            # Inserted concurrently by another request of the same user: the newest answer wins.
            await execute_update(self._session, change)

    async def reusable_answers(self, user_id: str, slugs: Collection[str]) -> dict[str, Any]:
        if not slugs:
            return {}
        rows = await self._session.execute(
            select(UserContext.key, UserContext.value).where(
                UserContext.user_id == user_id,
                UserContext.chatbot_id.is_(None),
                UserContext.key.in_(list(slugs)),
                UserContext.source == enums.ContextSource.INTAKE_FORM,
            )
        )
        return {str(key): value for key, value in rows}

"""In-memory ``IntakeRepository``: the fake the intake use-case tests run on.

It keeps what the SQL tables hold: questions, one response row per answer, and the user
context an answer writes (global when reusable, else per chatbot)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from application.chatbots.intake import IntakeAnswer, IntakeQuestion
from application.errors import Conflict


@dataclass
class InMemoryIntakeRepository:
    question_rows: dict[str, IntakeQuestion] = field(default_factory=dict)
    responses: list[dict[str, Any]] = field(default_factory=list)
    # (user_id, chatbot_id or None, key) -> value
    context: dict[tuple[str, str | None, str], Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # file id -> owner user id

    async def add_question(self, question: IntakeQuestion) -> None:
        if any(
            q.chatbot_id == question.chatbot_id and q.slug == question.slug
            for q in self.question_rows.values()
        ):
            raise Conflict("this chatbot already asks a question with this slug", code="intake-slug-taken")
        self.question_rows[question.id] = question

    async def questions(self, chatbot_id: str) -> list[IntakeQuestion]:
        found = [q for q in self.question_rows.values() if q.chatbot_id == chatbot_id]
        return sorted(found, key=lambda q: (q.display_order, q.slug))

    async def save_answers(self, user_id: str, chatbot_id: str, answers: Collection[IntakeAnswer]) -> None:
        for answer in answers:
            self.responses.append(
                {
                    "question_id": answer.question.id,
                    "user_id": user_id,
                    "chatbot_id": chatbot_id,
                    "file_id": answer.file_id,
                    "value": answer.value,
                    "reusable": answer.reusable,
                }
            )
            scope = None if answer.reusable else chatbot_id
            self.context[(user_id, scope, answer.question.slug)] = answer.value

    async def files_owned_by(self, user_id: str, file_ids: Collection[str]) -> set[str]:
        return {f for f in file_ids if self.files.get(f) == user_id}

    async def reusable_answers(self, user_id: str, slugs: Collection[str]) -> dict[str, Any]:
        wanted = set(slugs)
        return {k: v for (u, c, k), v in self.context.items() if u == user_id and c is None and k in wanted}

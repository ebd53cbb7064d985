"""Port of intake questions, answers (``Intake_Response``) and the user context they feed."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol

from application.chatbots.intake import IntakeAnswer, IntakeQuestion


class IntakeRepository(Protocol):
    async def add_question(self, question: IntakeQuestion) -> None:
        """Conflict ``intake-slug-taken`` if the chatbot already asks a question with this slug."""
        ...

    async def questions(self, chatbot_id: str) -> list[IntakeQuestion]:
        """The chatbot's questions in display order (then slug)."""
        ...

    async def save_answers(self, user_id: str, chatbot_id: str, answers: Collection[IntakeAnswer]) -> None:
        """Stores each answer as an intake response AND as user context (source INTAKE_FORM,
        key = the question's slug): global when reusable, else for this chatbot. A later answer
        replaces the earlier context value under the same key."""
        ...

    async def files_owned_by(self, user_id: str, file_ids: Collection[str]) -> set[str]:
        """Which of ``file_ids`` are files this user uploaded (a FILE answer names only those)."""
        ...

    async def reusable_answers(self, user_id: str, slugs: Collection[str]) -> dict[str, Any]:
        """The user's reusable (global) intake answers for these slugs."""
        ...

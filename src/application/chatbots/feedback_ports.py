"""Port of ratings and reports: both always pin the chatbot AND the version they are about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class NewRating:
    id: str
    user_id: str
    conversation_id: str
    chatbot_id: str
    chatbot_version_id: str
    stars: int
    comment: str | None
    hours_saved: int | None
    trigger: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class NewReport:
    id: str
    reporter_user_id: str
    chatbot_id: str
    chatbot_version_id: str
    conversation_id: str | None
    message_id: str | None
    reason: str
    description: str
    at: datetime


class FeedbackRepository(Protocol):
    async def rating_for(self, conversation_id: str, user_id: str) -> str | None:
        """The id of the rating this user gave this conversation, if any."""
        ...

    async def add_rating(self, rating: NewRating) -> None:
        """Conflict ``missing-reference`` if the conversation, chatbot or version is gone."""
        ...

    async def add_report(self, report: NewReport) -> None:
        """Conflict ``missing-reference`` if a referenced row does not exist."""
        ...

"""Ratings and reports over SQLAlchemy (``FeedbackRepository``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence import enums
from adapters.persistence.models import Rating, Report
from adapters.persistence.repositories._support import atomic
from application.chatbots.feedback_ports import NewRating, NewReport


class SqlFeedbackRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def rating_for(self, conversation_id: str, user_id: str) -> str | None:
        return await self._session.scalar(
            select(Rating.id)
            .where(Rating.conversation_id == conversation_id, Rating.user_id == user_id)
            .limit(1)
        )

    async def add_rating(self, rating: NewRating) -> None:
        async with atomic(self._session):
            self._session.add(
                Rating(
                    id=rating.id,
                    user_id=rating.user_id,
                    conversation_id=rating.conversation_id,
                    chatbot_id=rating.chatbot_id,
                    chatbot_version_id=rating.chatbot_version_id,
                    rating=rating.stars,
                    comment=rating.comment,
                    hours_saved=rating.hours_saved,
                    trigger=enums.ReviewTriggerType(rating.trigger),
                    created_at=rating.at,
                )
            )
            await self._session.flush()

    async def add_report(self, report: NewReport) -> None:
        async with atomic(self._session):
            self._session.add(
                Report(
                    id=report.id,
                    reporter_user_id=report.reporter_user_id,
                    chatbot_id=report.chatbot_id,
                    chatbot_version_id=report.chatbot_version_id,
                    conversation_id=report.conversation_id,
                    message_id=report.message_id,
                    description=report.description,
                    reason=enums.ReportReason(report.reason),
                    created_at=report.at,
                )
            )
            await self._session.flush()

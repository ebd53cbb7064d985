"""RateConversation: stars (and a comment) for a conversation, pinned to its chatbot version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from application.chatbots.feedback_ports import FeedbackRepository, NewRating
from application.conversations.ports import ConversationRepository
from application.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork
from domain.ids import new_id

TRIGGERS: Final = frozenset(
    {
        "INLINE_RATING",
        "HIGH_RATING_FOLLOWUP",
        "NATURAL_ENDING",
        "GOAL_ACHIEVED",
        "OUTPUT_DOWNLOADED",
        "INACTIVITY_PROMPT",
        "MESSAGE_LIMIT",
        "TIME_EXPIRED",
        "RETURN_PROMPT",
        "EMAIL_FOLLOWUP",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RateConversationCommand:
    principal: Principal
    conversation_id: str
    stars: int
    comment: str | None = None
    hours_saved: int | None = None
    trigger: str = "INLINE_RATING"


@dataclass(frozen=True, slots=True, kw_only=True)
class RatingResult:
    id: str
    chatbot_id: str
    chatbot_version_id: str


class RateConversation:
    """A rating of 1 to 5 stars by the user who had the conversation.

    - Only the conversation's owner rates it, and only as a signed-in user (a rating names its
      author; an anonymous visitor is asked to sign in and claim the conversation first).
    - The rating pins the conversation's chatbot AND the version the conversation ran on, so a
      later version never inherits (or loses) it.
    - One rating per user per conversation (Conflict ``already-rated``).
    """

    def __init__(
        self,
        authorizer: Authorizer,
        conversations: ConversationRepository,
        feedback: FeedbackRepository,
        clock: Clock,
        uow: UnitOfWork,
    ) -> None:
        self._authorizer = authorizer
        self._conversations = conversations
        self._feedback = feedback
        self._clock = clock
        self._uow = uow

    async def __call__(self, command: RateConversationCommand) -> RatingResult:
        p = command.principal
        resource = Resource.conversation(command.conversation_id)
        await self._authorizer.require(p, Action.CONVERSATION_GIVE_FEEDBACK, resource)
        if p.user_id is None:
            raise NotAuthenticated("sign in to rate a conversation", code="login-required")
        errors: dict[str, str] = {}
        if type(command.stars) is not int or not 1 <= command.stars <= 5:
            errors["stars"] = "must be 1 to 5"
        if command.comment is not None and len(command.comment) > 5000:
            errors["comment"] = "must be at most 5000 characters"
        if command.hours_saved is not None and not 0 <= command.hours_saved <= 10_000:
            errors["hours_saved"] = "must be 0 to 10000"
        if command.trigger not in TRIGGERS:
            errors["trigger"] = f"must be one of {', '.join(sorted(TRIGGERS))}"
        if errors:
            raise InvalidInput("the rating is not valid", errors=errors)
        conversation = await self._conversations.get(command.conversation_id)
        if conversation is None:
            raise NotFound("conversation not found", extra={"resource": "conversation"})
        if await self._feedback.rating_for(conversation.id, p.user_id) is not None:
            raise Conflict("you already rated this conversation", code="already-rated")
        rating = NewRating(
            id=new_id(),
            user_id=p.user_id,
            conversation_id=conversation.id,
            chatbot_id=conversation.chatbot_id,
            chatbot_version_id=conversation.version_id,
            stars=command.stars,
            comment=command.comment.strip() if command.comment and command.comment.strip() else None,
            hours_saved=command.hours_saved,
            trigger=command.trigger,
            at=self._clock.now(),
        )
        await self._feedback.add_rating(rating)
        await self._uow.commit()
        return RatingResult(
            id=rating.id, chatbot_id=rating.chatbot_id, chatbot_version_id=rating.chatbot_version_id
        )

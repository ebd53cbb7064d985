"""ReportChatbot: a user reports a chatbot (or one conversation with it) for moderation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from application.chatbots._loading import load_chatbot
from application.chatbots.feedback_ports import FeedbackRepository, NewReport
from application.chatbots.ports import ChatbotRepository
from application.conversations.ports import ConversationRepository
from application.errors import Conflict, InvalidInput
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork
from domain.ids import new_id

REASONS: Final = frozenset(
    {
        "INCORRECT_INFORMATION",
        "HALLUCINATION",
        "INAPPROPRIATE_CONTENT",
        "OFF_TOPIC",
        "HARMFUL_CONTENT",
        "COPYRIGHT_VIOLATION",
        "OTHER",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportChatbotCommand:
    principal: Principal
    chatbot_id: str
    reason: str
    description: str
    conversation_id: str | None = None
    message_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportResult:
    id: str
    chatbot_id: str
    chatbot_version_id: str
    status: str = "PENDING"


class ReportChatbot:
    """A report for the operators' moderation queue.

    - Signed-in users report chatbots they can see (a report names its reporter).
    - About a conversation: it must be the reporter's own and of this chatbot; the report pins
      the version that conversation ran on. Otherwise it pins the chatbot's current version.
    - A reason from the fixed list and a description (1..5000 characters) are required.
    """

    def __init__(
        self,
        authorizer: Authorizer,
        chatbots: ChatbotRepository,
        conversations: ConversationRepository,
        feedback: FeedbackRepository,
        clock: Clock,
        uow: UnitOfWork,
    ) -> None:
        self._authorizer = authorizer
        self._chatbots = chatbots
        self._conversations = conversations
        self._feedback = feedback
        self._clock = clock
        self._uow = uow

    async def __call__(self, command: ReportChatbotCommand) -> ReportResult:
        p = command.principal
        await self._authorizer.require(p, Action.CHATBOT_REPORT, Resource.chatbot(command.chatbot_id))
        assert p.user_id is not None  # the matrix grants chatbot.report to signed-in users only
        errors: dict[str, str] = {}
        if command.reason not in REASONS:
            errors["reason"] = f"must be one of {', '.join(sorted(REASONS))}"
        description = command.description.strip()
        if not 1 <= len(description) <= 5000:
            errors["description"] = "must be 1 to 5000 characters"
        if errors:
            raise InvalidInput("the report is not valid", errors=errors)
        chatbot = await load_chatbot(self._chatbots, command.chatbot_id)
        version_id = chatbot.current_version_id
        if command.conversation_id is not None:
            await self._authorizer.require(
                p, Action.CONVERSATION_VIEW, Resource.conversation(command.conversation_id)
            )
            conversation = await self._conversations.get(command.conversation_id)
            if conversation is None or conversation.chatbot_id != chatbot.id:
                raise InvalidInput(
                    "that conversation is not with this chatbot",
                    errors={"conversation_id": "is not a conversation with this chatbot"},
                )
            version_id = conversation.version_id
        if version_id is None:
            raise Conflict("this chatbot has no version to report", code="no-live-version")
        report = NewReport(
            id=new_id(),
            reporter_user_id=p.user_id,
            chatbot_id=chatbot.id,
            chatbot_version_id=version_id,
            conversation_id=command.conversation_id,
            message_id=command.message_id,
            reason=command.reason,
            description=description,
            at=self._clock.now(),
        )
        await self._feedback.add_report(report)
        await self._uow.commit()
        return ReportResult(id=report.id, chatbot_id=chatbot.id, chatbot_version_id=version_id)

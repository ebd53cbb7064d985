"""The ORM models (SQLAlchemy 2 typed declarative), one module per area.

They are persistence records, not domain objects: repositories in ``adapters.persistence`` map
them to and from the domain. Relationships are deliberately absent; repositories join or load
by id explicitly, so no query ever lazy-loads behind an ``await``.
Importing this package registers every table on ``Base.metadata`` (Alembic relies on it).
"""

from adapters.persistence.models.analytics import (
    ChatbotAudienceProfile,
    ChunkPerformance,
    ContentGap,
    QuestionClusterAggregate,
    SourcePerformance,
)
from adapters.persistence.models.base import NAMING_CONVENTION, Base, utcnow
from adapters.persistence.models.catalogue import (
    Chunk,
    File,
    Source,
    SourceCreator,
    SourceCreatorShareHistory,
)
from adapters.persistence.models.chat import (
    Conversation,
    ConversationFeedback,
    ConversationFile,
    ConversationSourceUsage,
    DailyTokenUsage,
    Message,
    MessageAnalysis,
    MessageFeedback,
    Rating,
    Report,
    UserContext,
)
from adapters.persistence.models.chatbots import (
    Category,
    Chatbot,
    ChatbotCategory,
    ChatbotCreator,
    ChatbotVersion,
    FavoritedChatbot,
    IntakeQuestion,
    IntakeResponse,
)
from adapters.persistence.models.enterprise import (
    EnterpriseAllocation,
    EnterpriseSubscription,
    EnterpriseUser,
)
from adapters.persistence.models.identity import AnonymousClaim, ApiKey, Creator, CreatorUser, User
from adapters.persistence.models.money import (
    Chargeback,
    CreatorPayoutAccount,
    CreatorRevenueSummary,
    Payout,
    Purchase,
    Refund,
    RevenuePerConversation,
)
from adapters.persistence.models.ops import (
    AiCallCost,
    AppendOnlyViolation,
    AuditLog,
    JobRun,
    OutboxMessage,
    WebhookEvent,
)

__all__ = [
    "NAMING_CONVENTION",
    "AiCallCost",
    "AnonymousClaim",
    "ApiKey",
    "AppendOnlyViolation",
    "AuditLog",
    "Base",
    "Category",
    "Chargeback",
    "Chatbot",
    "ChatbotAudienceProfile",
    "ChatbotCategory",
    "ChatbotCreator",
    "ChatbotVersion",
    "Chunk",
    "ChunkPerformance",
    "ContentGap",
    "Conversation",
    "ConversationFeedback",
    "ConversationFile",
    "ConversationSourceUsage",
    "Creator",
    "CreatorPayoutAccount",
    "CreatorRevenueSummary",
    "CreatorUser",
    "DailyTokenUsage",
    "EnterpriseAllocation",
    "EnterpriseSubscription",
    "EnterpriseUser",
    "FavoritedChatbot",
    "File",
    "IntakeQuestion",
    "IntakeResponse",
    "JobRun",
    "Message",
    "MessageAnalysis",
    "MessageFeedback",
    "OutboxMessage",
    "Payout",
    "Purchase",
    "QuestionClusterAggregate",
    "Rating",
    "Refund",
    "Report",
    "RevenuePerConversation",
    "Source",
    "SourceCreator",
    "SourceCreatorShareHistory",
    "SourcePerformance",
    "User",
    "UserContext",
    "WebhookEvent",
    "utcnow",
]

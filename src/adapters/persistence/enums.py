"""The enumerations stored in the database (values are what is written to the column).

The seed's enums keep their names and values; values added by this project are marked. They are
``StrEnum`` so a plain string with the same value compares equal, which lets repositories map
to and from domain enums by value.
"""

from __future__ import annotations

from enum import StrEnum


class SourceType(StrEnum):
    BOOK = "BOOK"
    ARTICLE = "ARTICLE"
    PODCAST = "PODCAST"
    VIDEO = "VIDEO"
    DOCUMENT = "DOCUMENT"
    OTHER = "OTHER"


class FileStatus(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    READY = "READY"
    FAILED = "FAILED"


class CreatorRole(StrEnum):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"


class ChatbotOwnerRole(StrEnum):
    PRIMARY_OWNER = "PRIMARY_OWNER"
    CO_OWNER = "CO_OWNER"
    CONTRIBUTOR = "CONTRIBUTOR"


class ChatbotType(StrEnum):
    CREATOR = "CREATOR"
    FRAMEWORK = "FRAMEWORK"
    DEEP_DIVE = "DEEP_DIVE"
    ADVISOR_BOARD = "ADVISOR_BOARD"


class MessageRole(StrEnum):
    USER = "USER"
    AI = "AI"
    SYSTEM = "SYSTEM"


class ReportReason(StrEnum):
    INCORRECT_INFORMATION = "INCORRECT_INFORMATION"
    HALLUCINATION = "HALLUCINATION"
    INAPPROPRIATE_CONTENT = "INAPPROPRIATE_CONTENT"
    OFF_TOPIC = "OFF_TOPIC"
    HARMFUL_CONTENT = "HARMFUL_CONTENT"
    COPYRIGHT_VIOLATION = "COPYRIGHT_VIOLATION"
    OTHER = "OTHER"


class ReportStatus(StrEnum):
    PENDING = "PENDING"
    REVIEWED = "REVIEWED"
    RESOLVED = "RESOLVED"
    DISMISSED = "DISMISSED"


class IntakeResponseType(StrEnum):
    TEXT = "TEXT"
    NUMBER = "NUMBER"
    SELECT = "SELECT"
    MULTI_SELECT = "MULTI_SELECT"
    FILE = "FILE"
    DATE = "DATE"
    BOOLEAN = "BOOLEAN"


class CategoryType(StrEnum):
    ROLE = "ROLE"
    CHALLENGE = "CHALLENGE"
    STAGE = "STAGE"


class ConversationStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    EXPIRED = "EXPIRED"
    ATTRIBUTED = "ATTRIBUTED"
    ARCHIVED = "ARCHIVED"


class ReviewTriggerType(StrEnum):
    INLINE_RATING = "INLINE_RATING"
    HIGH_RATING_FOLLOWUP = "HIGH_RATING_FOLLOWUP"
    NATURAL_ENDING = "NATURAL_ENDING"
    GOAL_ACHIEVED = "GOAL_ACHIEVED"
    OUTPUT_DOWNLOADED = "OUTPUT_DOWNLOADED"
    INACTIVITY_PROMPT = "INACTIVITY_PROMPT"
    MESSAGE_LIMIT = "MESSAGE_LIMIT"
    TIME_EXPIRED = "TIME_EXPIRED"
    RETURN_PROMPT = "RETURN_PROMPT"
    EMAIL_FOLLOWUP = "EMAIL_FOLLOWUP"


class PurchaseStatus(StrEnum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"  # added
    DISPUTED = "DISPUTED"  # added
    FAILED = "FAILED"


class PayoutStatus(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class PaymentProcessor(StrEnum):
    STRIPE = "STRIPE"
    PADDLE = "PADDLE"
    LEMON_SQUEEZY = "LEMON_SQUEEZY"
    PAYPAL = "PAYPAL"
    SANDBOX = "SANDBOX"  # added: the offline processor of the embedded deployment


class ContextSource(StrEnum):
    USER_PROVIDED = "USER_PROVIDED"
    INFERRED = "INFERRED"
    INTAKE_FORM = "INTAKE_FORM"
    PLATFORM_SYNC = "PLATFORM_SYNC"


class SubscriptionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class EnterpriseRole(StrEnum):
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"


# ---- added by this project -------------------------------------------------------------


class PlatformRole(StrEnum):
    """A user's role on the platform itself (not towards a creator)."""

    OPERATOR = "OPERATOR"


class RevenueKind(StrEnum):
    """What a revenue_per_conversation row is: a conversation's attribution from a purchase,
    its attribution from an enterprise subscription's monthly amount, a reversal of one of
    those (after a refund or a lost dispute), or a reinstatement giving reversed money back
    (a dispute won after it was lost)."""

    ATTRIBUTION = "ATTRIBUTION"
    ENTERPRISE = "ENTERPRISE"
    REVERSAL = "REVERSAL"
    REINSTATEMENT = "REINSTATEMENT"


class RefundStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class ChargebackStatus(StrEnum):
    OPEN = "OPEN"
    WON = "WON"
    LOST = "LOST"


class WebhookEventStatus(StrEnum):
    RECEIVED = "RECEIVED"
    PROCESSED = "PROCESSED"
    IGNORED = "IGNORED"
    FAILED = "FAILED"


class JobStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class AllocationStatus(StrEnum):
    PENDING = "PENDING"
    ALLOCATED = "ALLOCATED"


class ActorKind(StrEnum):
    USER = "USER"
    API_KEY = "API_KEY"
    SYSTEM = "SYSTEM"

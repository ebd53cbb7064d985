"""Conversations: a bought allowance of messages with one chatbot version, and its lifecycle.

    ACTIVE --last message of the allowance--> COMPLETED --+
    ACTIVE --expires_at reached-------------> EXPIRED ----+--attributed--> ATTRIBUTED
    ACTIVE | COMPLETED | EXPIRED | ATTRIBUTED --user archives--> ARCHIVED

Design choices (see also ``docs/revenue-rules.md``):

- ``ended_at`` records when the conversation stopped taking messages: the completing message,
  ``expires_at`` itself (not the moment a sweep noticed, so the refund window never depends
  on job timing), or the archive time when an ACTIVE conversation is archived (the user gave
  up the rest of the allowance; capped at ``expires_at``).
- Archiving is a user-facing filing action and never stops attribution: an ARCHIVED
  conversation that ended and is not yet attributed is attributed like any other, keeping
  status ARCHIVED and gaining ``attributed_at``. ATTRIBUTED -> ARCHIVED is allowed because
  the user's list should not depend on payout timing. "Attributed" is ``attributed_at is not
  None``; the status records the last lifecycle step.
- A message after ``expires_at`` is refused even if no sweep has marked the conversation
  EXPIRED yet; callers run ``expire_if_due(now)`` and save that.
- Every other move raises ``IllegalTransition`` and leaves the conversation unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.errors import AllowanceExhausted, IllegalTransition, InvalidValue
from domain.ids import new_id
from domain.revenue import refund_window_closed


class ConversationStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    EXPIRED = "EXPIRED"
    ATTRIBUTED = "ATTRIBUTED"
    ARCHIVED = "ARCHIVED"


def _aware(moment: object, what: str) -> None:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise InvalidValue(f"{what} must be a timezone-aware datetime", code="invalid-datetime")


def _count(value: object, what: str, *, minimum: int = 0) -> None:
    if type(value) is not int or value < minimum:
        raise InvalidValue(f"{what} must be an integer >= {minimum}", code="invalid-value")


@dataclass(frozen=True, slots=True)
class MessageAllowance:
    """How many user messages were bought and how many are used."""

    allowance: int
    used: int = 0

    def __post_init__(self) -> None:
        _count(self.allowance, "message allowance", minimum=1)
        _count(self.used, "messages used")
        if self.used > self.allowance:
            raise InvalidValue("more messages used than allowed", code="invalid-value")

    @property
    def remaining(self) -> int:
        return self.allowance - self.used

    @property
    def is_exhausted(self) -> bool:
        return self.used == self.allowance

    def consume(self) -> MessageAllowance:
        if self.is_exhausted:
            raise AllowanceExhausted(f"all {self.allowance} messages have been used")
        return MessageAllowance(self.allowance, self.used + 1)


_ENDED = (ConversationStatus.COMPLETED, ConversationStatus.EXPIRED)
_A = ConversationStatus


@dataclass(slots=True, kw_only=True)
class Conversation:
    id: str
    chatbot_id: str
    version_id: str
    user_id: str | None
    anonymous_id: str | None
    allowance: MessageAllowance
    started_at: datetime
    expires_at: datetime
    purchase_id: str | None = None
    status: ConversationStatus = ConversationStatus.ACTIVE
    completed_at: datetime | None = None
    ended_at: datetime | None = None
    archived_at: datetime | None = None
    attributed_at: datetime | None = None
    input_tokens: int = 0
    output_tokens: int = 0

    def __post_init__(self) -> None:
        if (self.user_id is None) == (self.anonymous_id is None):
            raise InvalidValue("a conversation belongs to a user or an anonymous id", code="invalid-owner")
        if not isinstance(self.allowance, MessageAllowance) or not isinstance(
            self.status, ConversationStatus
        ):
            raise InvalidValue("allowance and status have the wrong type", code="invalid-value")
        _aware(self.started_at, "started_at")
        _aware(self.expires_at, "expires_at")
        for name in ("completed_at", "ended_at", "archived_at", "attributed_at"):
            if getattr(self, name) is not None:
                _aware(getattr(self, name), name)
        if self.expires_at <= self.started_at:
            raise InvalidValue("a conversation expires after it starts", code="invalid-value")
        _count(self.input_tokens, "input tokens")
        _count(self.output_tokens, "output tokens")
        self._check_status_fields()

    def _check_status_fields(self) -> None:
        s = self.status
        expected = {
            # status: (completed_at set?, ended_at set?, archived_at set?, attributed_at set?) None = either
            _A.ACTIVE: (False, False, False, False),
            _A.COMPLETED: (True, True, False, False),
            _A.EXPIRED: (False, True, False, False),
            _A.ATTRIBUTED: (None, True, False, True),
            _A.ARCHIVED: (None, True, True, None),
        }[s]
        actual = (self.completed_at, self.ended_at, self.archived_at, self.attributed_at)
        for want, value in zip(expected, actual, strict=True):
            if want is not None and want != (value is not None):
                raise InvalidValue(f"timestamps do not fit status {s}", code="invalid-conversation")
        if (s is _A.ACTIVE and self.is_exhausted) or (s is _A.COMPLETED and not self.is_exhausted):
            raise InvalidValue(f"message count does not fit status {s}", code="invalid-conversation")

    @classmethod
    def start(
        cls,
        *,
        chatbot_id: str,
        version_id: str,
        allowance: int,
        started_at: datetime,
        lifetime: timedelta,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        purchase_id: str | None = None,
        conversation_id: str | None = None,
    ) -> Conversation:
        _aware(started_at, "started_at")
        return cls(
            id=conversation_id or new_id(),
            chatbot_id=chatbot_id,
            version_id=version_id,
            user_id=user_id,
            anonymous_id=anonymous_id,
            allowance=MessageAllowance(allowance),
            started_at=started_at,
            expires_at=started_at + lifetime,
            purchase_id=purchase_id,
        )

    # queries ----------------------------------------------------------------------------
    @property
    def messages_used(self) -> int:
        return self.allowance.used

    @property
    def is_exhausted(self) -> bool:
        return self.allowance.is_exhausted

    @property
    def is_attributed(self) -> bool:
        return self.attributed_at is not None

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def is_due_for_attribution(self, now: datetime, refund_window: timedelta) -> bool:
        """Ended, not yet attributed, and the refund window has closed."""
        return (
            self.ended_at is not None
            and self.attributed_at is None
            and refund_window_closed(self.ended_at, now, refund_window)
        )

    # transitions ------------------------------------------------------------------------
    def _refuse(self, action: str, code: str = "illegal-transition") -> IllegalTransition:
        return IllegalTransition(f"cannot {action} a conversation that is {self.status}", code=code)

    def consume_message(self, at: datetime) -> None:
        """Count one user message; the last one of the allowance completes the conversation."""
        _aware(at, "at")
        if self.status is not _A.ACTIVE:
            raise self._refuse("send a message in")
        if at >= self.expires_at:
            raise IllegalTransition("the conversation has expired", code="conversation-expired")
        self.allowance = self.allowance.consume()
        if self.allowance.is_exhausted:
            self.status = _A.COMPLETED
            self.completed_at = self.ended_at = at

    def record_tokens(self, *, input_tokens: int, output_tokens: int) -> None:
        """Add an answer's token usage. Allowed until attribution (the final answer streams
        after the last message completed the conversation), never after."""
        _count(input_tokens, "input tokens")
        _count(output_tokens, "output tokens")
        if self.is_attributed:
            raise self._refuse("record usage in", code="conversation-attributed")
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens

    def expire(self, now: datetime) -> None:
        """ACTIVE -> EXPIRED once ``now`` reaches ``expires_at``."""
        _aware(now, "now")
        if self.status is not _A.ACTIVE or now < self.expires_at:
            raise self._refuse("expire")
        self.status = _A.EXPIRED
        self.ended_at = self.expires_at

    def expire_if_due(self, now: datetime) -> bool:
        """Expire if ACTIVE and due; True when it changed anything (then save it)."""
        _aware(now, "now")
        if self.status is _A.ACTIVE and now >= self.expires_at:
            self.expire(now)
            return True
        return False

    def archive(self, at: datetime) -> None:
        """The user files the conversation away. Archiving an ACTIVE one ends it."""
        _aware(at, "at")
        if self.status is _A.ARCHIVED:
            raise self._refuse("archive")
        if self.status is _A.ACTIVE:
            self.ended_at = min(at, self.expires_at)
        self.status = _A.ARCHIVED
        self.archived_at = at

    def mark_attributed(self, at: datetime) -> None:
        """Record that revenue was attributed. Once only, and only after the end."""
        _aware(at, "at")
        if self.is_attributed or self.ended_at is None:
            raise self._refuse("attribute")
        if at < self.ended_at:
            raise IllegalTransition("attribution cannot precede the end", code="illegal-transition")
        if self.status in _ENDED:
            self.status = _A.ATTRIBUTED
        self.attributed_at = at

"""Repository port of conversations.

Conversations are the hottest rows in the system: a user may send from two tabs, a stream may
still be recording tokens while a sweep expires the conversation. So nothing here is a blind
"write the whole object back": every write is guarded and says whether it won.

- ``reserve_message`` takes one message atomically (the last one completes the conversation,
  as ``Conversation.consume_message`` does), only if the conversation is open, unexpired, has a
  message left and belongs to the caller; it hands back the conversation as it then is.
- ``save`` writes a lifecycle change only if status, count and attribution are still what the
  caller loaded (``ConversationGuard.of`` taken before changing the object).
- ``add_tokens`` adds usage as an increment, so concurrent answers never lose tokens; token
  totals are written by nothing else.

Writes are sent at once inside the request's unit of work (see ``application.catalogue.ports``).
``Conflict`` code: ``conversation-needs-participant``, ``missing-reference``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from application.errors import InvalidInput
from domain.conversations import Conversation, ConversationStatus

DEFAULT_PAGE = 50
MAX_PAGE = 200


def page_size(limit: int) -> int:
    """Every list is bounded: ``limit`` is clamped to 1..MAX_PAGE."""
    return max(1, min(limit, MAX_PAGE))


def check_token_counts(input_tokens: int, output_tokens: int) -> None:
    """Token usage is a non-negative integer count (a negative one would un-count usage)."""
    for name, value in (("input_tokens", input_tokens), ("output_tokens", output_tokens)):
        if type(value) is not int or value < 0:
            raise InvalidInput(
                "token counts are non-negative integers", errors={name: "must be an integer >= 0"}
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationGuard:
    """What a guarded ``save`` expects the stored row still to hold."""

    status: ConversationStatus
    messages_used: int
    attributed: bool

    @classmethod
    def of(cls, conversation: Conversation) -> ConversationGuard:
        return cls(
            status=conversation.status,
            messages_used=conversation.messages_used,
            attributed=conversation.is_attributed,
        )


class ConversationRepository(Protocol):
    async def add(self, conversation: Conversation) -> None: ...

    async def get(self, conversation_id: str) -> Conversation | None: ...

    async def get_for_update(self, conversation_id: str) -> Conversation | None:
        """Like ``get``, and no other transaction can change the conversation until this one
        ends (a row lock on PostgreSQL; SQLite transactions are serialized already)."""
        ...

    async def reserve_message(
        self, conversation_id: str, *, user_id: str | None, anonymous_id: str | None, at: datetime
    ) -> Conversation | None:
        """Take one message, in one guarded write that applies by itself, if the conversation
        is ACTIVE, not expired at ``at``, has a message left, and belongs to the caller: held by
        ``user_id``, or held by nobody yet and opened under ``anonymous_id`` (the owner rule of
        ``application.identity.principal.conversation_roles``). The last message completes it
        (status COMPLETED, ``completed_at = ended_at = at``). Returns the conversation as it is
        after the reservation, or None when nothing was taken (missing, not the caller's,
        closed, expired or used up: read it to tell which). Concurrent calls for the last
        message: exactly one gets it."""
        ...

    async def save(self, conversation: Conversation, *, guard: ConversationGuard) -> bool:
        """Write the lifecycle fields (status, messages used, completed/ended/archived/
        attributed times) if the row still matches ``guard``. True if written, False if
        another transaction changed it first (reload and decide again)."""
        ...

    async def add_tokens(self, conversation_id: str, *, input_tokens: int, output_tokens: int) -> bool:
        """Add usage to the running totals unless the conversation is already attributed.
        Negative counts are ``InvalidInput``."""
        ...

    async def list_for_user(
        self, user_id: str, *, limit: int = DEFAULT_PAGE, before_id: str | None = None
    ) -> list[Conversation]:
        """``user_id``'s conversations (only those), newest first; ``before_id`` pages on
        (keyset: pass the last id of the previous page). ``limit`` is clamped to 1..200."""
        ...

    async def list_for_anonymous(
        self, anonymous_id: str, *, limit: int = DEFAULT_PAGE, before_id: str | None = None
    ) -> list[Conversation]:
        """The conversations started under ``anonymous_id`` (only those), newest first."""
        ...

    async def list_due_to_expire(self, now: datetime, *, limit: int = DEFAULT_PAGE) -> list[Conversation]:
        """ACTIVE conversations whose ``expires_at`` has passed (for the expiry sweep)."""
        ...

    async def list_ended_unattributed(
        self, ended_before: datetime, *, limit: int = DEFAULT_PAGE
    ) -> list[Conversation]:
        """Conversations that ended before ``ended_before`` and are not attributed yet, oldest
        end first (for the attribution job: pass ``now - refund window``)."""
        ...

"""Ports a chat turn needs beyond the conversation repository: the conversation's transcript,
what the platform knows about the user, the files attached to it, and the ledger rows a turn
writes (source usage, the AI call's cost, the user's daily tokens).

Writes happen inside the request's unit of work like every repository's; only the use case
commits. Reads return plain dataclasses.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Protocol

MessageRole = Literal["USER", "AI", "SYSTEM"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredMessage:
    id: str
    conversation_id: str
    role: MessageRole
    content: str
    token_count: int
    created_at: datetime
    attribution: Mapping[str, Any] | None = None
    context: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ContextEntry:
    """One visible, unexpired User_Context entry (global when ``chatbot_id`` is None)."""

    key: str
    value: Any
    source: str
    chatbot_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachedFile:
    """A user's own file given to one conversation; its text is read directly into the prompt
    (never embedded into the shared index). ``text`` is None when it cannot be read as text."""

    file_id: str
    file_name: str
    mime_type: str
    text: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceUsage:
    """What one answer used of one source: the tokens of its chunks placed in the context."""

    source_id: str
    tokens: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceUsageTotal:
    """A conversation's running use of one source (the Conversation_Source_Usage row)."""

    source_id: str
    total_tokens: int
    message_count: int
    first_used_at: datetime
    last_used_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AiCall:
    message_id: str | None
    conversation_id: str
    purpose: str
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_micros: int
    currency: str = "USD"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewMessage:
    id: str
    role: MessageRole
    content: str
    token_count: int
    sender_user_id: str | None = None
    attribution: Mapping[str, Any] | None = None
    context: Mapping[str, Any] | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceOwners:
    """The creators with a share in a source, largest share first (the first is named in
    ``attribution.sourcesUsed[].creatorId``), and the source's title for citations."""

    source_id: str
    title: str | None
    creator_ids: tuple[str, ...] = field(default_factory=tuple)
    creator_name: str | None = None


class ChatLog(Protocol):
    async def recent_messages(self, conversation_id: str, *, limit: int) -> list[StoredMessage]:
        """The last ``limit`` messages (newest by ``created_at``, then id), oldest first (the
        caller trims them to a token budget), without ``attribution`` and ``context``: a
        prompt's history needs role, content and token count, and an answer's context document
        is large."""
        ...

    async def messages_page(
        self, conversation_id: str, *, limit: int, after_id: str | None = None
    ) -> list[StoredMessage]:
        """Messages oldest first, ``after_id`` pages on (keyset over UUIDv7 ids)."""
        ...

    async def add_messages(self, conversation_id: str, messages: Sequence[NewMessage]) -> None: ...

    async def record_source_usage(
        self, conversation_id: str, usages: Sequence[SourceUsage], *, at: datetime
    ) -> None:
        """Upserts one Conversation_Source_Usage row per source: tokens added, message count + 1,
        ``last_used_at`` moved (first use sets ``first_used_at``). Concurrent upserts add up."""
        ...

    async def source_usage(self, conversation_id: str) -> list[SourceUsageTotal]:
        """The conversation's usage rows, by source id."""
        ...

    async def record_ai_call(self, call: AiCall) -> None: ...

    async def add_daily_tokens(
        self, subject: str, day: date, *, input_tokens: int, output_tokens: int
    ) -> None:
        """Adds to the (subject, day) row with one upsert, creating it on first use."""
        ...

    async def daily_tokens(self, subject: str, day: date) -> int:
        """Input plus output tokens the subject used on ``day`` (0 if none)."""
        ...

    async def release_message(self, conversation_id: str, *, reserved_used: int) -> bool:
        """Undo one reserved message (a failed or cancelled answer): only if the count is still
        ``reserved_used`` and the conversation is not attributed; a conversation that the
        reservation completed becomes ACTIVE again. True if released."""
        ...


class UserKnowledge(Protocol):
    async def visible_context(self, user_id: str, chatbot_id: str, *, now: datetime) -> list[ContextEntry]:
        """The user's visible, unexpired entries: global ones and this chatbot's (the chatbot's
        entry wins over a global one with the same key)."""
        ...


class ConversationFiles(Protocol):
    async def attach(self, conversation_id: str, file_id: str, *, owner_user_id: str) -> None:
        """Attaches the user's own file. NotFound ``file-not-found`` unless the file exists and
        belongs to ``owner_user_id``; attaching twice is harmless."""
        ...

    async def attached(self, conversation_id: str) -> list[AttachedFile]: ...


class SourceDirectory(Protocol):
    async def owners(self, source_ids: Sequence[str]) -> dict[str, SourceOwners]:
        """Title and creators of each known source (unknown ids are left out)."""
        ...

    async def creator_source_ids(self, chatbot_id: str) -> list[str]:
        """The sources of every creator that owns the chatbot (ALL_CREATOR_SOURCES scope)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptMaterial:
    """What a turn's prompt is built from besides the question and the passages' text: the
    history, what the user told us, their attached files, and of the passages' sources which
    files may answer (active and READY, see ``application.ingestion.visible_index``) and who
    wrote them."""

    history: list[StoredMessage]
    user_context: list[ContextEntry]
    files: list[AttachedFile]
    searchable_file_ids: frozenset[str] = frozenset()
    owners: Mapping[str, SourceOwners] = field(default_factory=dict)


class SearchableFiles(Protocol):
    async def searchable_file_ids(self, source_ids: Collection[str]) -> set[str]:
        """The files of ``source_ids`` whose chunks may be answered with: active and READY
        (``IngestionStore`` provides it)."""
        ...


class PromptReader(Protocol):
    async def prompt_material(
        self,
        conversation_id: str,
        *,
        user_id: str | None,
        chatbot_id: str,
        now: datetime,
        history_limit: int,
        passage_source_ids: Collection[str] = (),
    ) -> PromptMaterial:
        """The conversation's last ``history_limit`` messages (as ``ChatLog.recent_messages``),
        the user's visible context for the chatbot (as ``UserKnowledge.visible_context``; none
        without a user), the attached files (as ``ConversationFiles.attached``), and of
        ``passage_source_ids`` the searchable files (as ``IngestionStore.searchable_file_ids``)
        and the owners (as ``SourceDirectory.owners``), read together: the SQL adapter reads
        them all in one statement, a chat turn's one read besides its reservation."""
        ...


class SeparatePromptReads:
    """``PromptReader`` over the five ports, one read each: the reference the one-statement
    adapter is held to, and what a backend without one uses."""

    def __init__(
        self,
        chat_log: ChatLog,
        knowledge: UserKnowledge,
        files: ConversationFiles,
        directory: SourceDirectory,
        searchable: SearchableFiles,
    ) -> None:
        self._log = chat_log
        self._knowledge = knowledge
        self._files = files
        self._directory = directory
        self._searchable = searchable

    async def prompt_material(
        self,
        conversation_id: str,
        *,
        user_id: str | None,
        chatbot_id: str,
        now: datetime,
        history_limit: int,
        passage_source_ids: Collection[str] = (),
    ) -> PromptMaterial:
        sources = sorted(set(passage_source_ids))
        searchable = await self._searchable.searchable_file_ids(sources) if sources else set()
        return PromptMaterial(
            history=await self._log.recent_messages(conversation_id, limit=history_limit),
            user_context=(
                await self._knowledge.visible_context(user_id, chatbot_id, now=now) if user_id else []
            ),
            files=await self._files.attached(conversation_id),
            searchable_file_ids=frozenset(searchable),
            owners=await self._directory.owners(sources) if sources else {},
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PurchaseInfo:
    id: str
    purchaser_user_id: str
    chatbot_id: str
    status: str  # PurchaseStatus value: only COMPLETED opens a conversation


class PurchaseLookup(Protocol):
    async def get(self, purchase_id: str) -> PurchaseInfo | None: ...

    async def conversation_of(self, purchase_id: str) -> str | None:
        """The conversation already opened from this purchase, if any (idempotent opening)."""
        ...

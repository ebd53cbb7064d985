"""Chatbots and their append-only version history.

Every conversation, rating and payout references the exact version it ran on, so a published
version's configuration is never changed: publishing appends a new version and closes the
previous one (its ``deactivated_at`` is the only thing that is ever set afterwards), and a
rollback appends a copy of an old configuration rather than reviving the old row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from domain.errors import InvalidValue, RuleViolation
from domain.ids import new_id
from domain.money import Money
from domain.roles import ChatbotOwners
from domain.slug import Slug

TOP_K_MAX: Final = 100
TITLE_MAX: Final = 200


class ChatbotType(StrEnum):
    CREATOR = "CREATOR"  # general Q&A over all of one creator's work (one per creator)
    FRAMEWORK = "FRAMEWORK"  # a focused transformation or curriculum
    DEEP_DIVE = "DEEP_DIVE"  # questions about one specific work
    ADVISOR_BOARD = "ADVISOR_BOARD"  # several experts' perspectives


class RagScope(StrEnum):
    ALL_CREATOR_SOURCES = "ALL_CREATOR_SOURCES"  # whatever the owning creators have published
    SELECTED_SOURCES = "SELECTED_SOURCES"  # exactly ``source_ids``


def _aware(moment: object, what: str) -> None:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise InvalidValue(f"{what} must be a timezone-aware datetime", code="invalid-datetime")


def _positive_int(value: object, what: str, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if type(value) is not int or value < 1:
        raise InvalidValue(f"{what} must be a positive integer", code="invalid-config")


def _text(value: object, what: str, *, optional: bool = False, required: bool = False, limit: int) -> None:
    if optional and value is None:
        return
    if not isinstance(value, str) or len(value) > limit or (required and not value.strip()):
        raise InvalidValue(f"{what} must be text of at most {limit} characters", code="invalid-config")


@dataclass(frozen=True, slots=True, kw_only=True)
class RagSettings:
    """How many chunks to retrieve and from which sources."""

    top_k: int = 8
    scope: RagScope = RagScope.ALL_CREATOR_SOURCES
    source_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if type(self.top_k) is not int or not 1 <= self.top_k <= TOP_K_MAX:
            raise InvalidValue(f"top_k must be an integer 1..{TOP_K_MAX}", code="invalid-config")
        if not isinstance(self.scope, RagScope):
            raise InvalidValue("scope must be a RagScope", code="invalid-config")
        ids = frozenset(self.source_ids)
        if any(not isinstance(s, str) or not s.strip() for s in ids):
            raise InvalidValue("source ids must be non-empty strings", code="invalid-config")
        if self.scope is RagScope.ALL_CREATOR_SOURCES and ids:
            raise InvalidValue("'all creator sources' takes no source list", code="invalid-config")
        if self.scope is RagScope.SELECTED_SOURCES and not ids:
            raise InvalidValue("selected sources need at least one source id", code="invalid-config")
        object.__setattr__(self, "source_ids", ids)

    @classmethod
    def selected(cls, source_ids: Iterable[str], *, top_k: int = 8) -> RagSettings:
        return cls(top_k=top_k, scope=RagScope.SELECTED_SOURCES, source_ids=frozenset(source_ids))

    @classmethod
    def all_creator_sources(cls, *, top_k: int = 8) -> RagSettings:
        return cls(top_k=top_k)

    def resolve(self, creator_source_ids: Iterable[str]) -> frozenset[str]:
        """The concrete source set: the selection, or the owning creators' sources."""
        if self.scope is RagScope.SELECTED_SOURCES:
            return self.source_ids
        return frozenset(creator_source_ids)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatbotConfig:
    """Everything a version freezes. ``expiry`` is how long a bought conversation stays open;
    the token caps bound one answer, one conversation and one user's day (None: no cap)."""

    title: str
    system_prompt: str
    model_provider: str
    model_name: str
    price: Money
    type: ChatbotType
    description: str | None = None
    rag: RagSettings = RagSettings()
    message_allowance: int = 20
    expiry: timedelta = timedelta(days=30)
    allow_anonymous: bool = False
    notes: str | None = None
    changelog: str | None = None
    max_output_tokens: int = 1024
    conversation_token_cap: int | None = None
    daily_user_token_cap: int | None = None

    def __post_init__(self) -> None:
        _text(self.title, "title", required=True, limit=TITLE_MAX)
        _text(self.system_prompt, "system prompt", limit=100_000)
        _text(self.model_provider, "model provider", required=True, limit=100)
        _text(self.model_name, "model name", required=True, limit=200)
        _text(self.description, "description", optional=True, limit=10_000)
        _text(self.notes, "notes", optional=True, limit=10_000)
        _text(self.changelog, "changelog", optional=True, limit=10_000)
        if not isinstance(self.price, Money) or self.price.is_negative():
            raise InvalidValue("price must be a non-negative Money", code="invalid-config")
        if not isinstance(self.type, ChatbotType):
            raise InvalidValue("type must be a ChatbotType", code="invalid-config")
        if not isinstance(self.rag, RagSettings):
            raise InvalidValue("rag must be RagSettings", code="invalid-config")
        _positive_int(self.message_allowance, "message allowance")
        _positive_int(self.max_output_tokens, "max output tokens")
        _positive_int(self.conversation_token_cap, "conversation token cap", optional=True)
        _positive_int(self.daily_user_token_cap, "daily user token cap", optional=True)
        if not isinstance(self.expiry, timedelta) or self.expiry <= timedelta(0):
            raise InvalidValue("expiry must be a positive duration", code="invalid-config")
        if not isinstance(self.allow_anonymous, bool):
            raise InvalidValue("allow_anonymous must be a bool", code="invalid-config")


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str  # dotted for nested settings: "rag.top_k"
    before: object
    after: object


_NESTED: Final = (RagSettings,)


def diff_configs(a: ChatbotConfig, b: ChatbotConfig) -> tuple[FieldChange, ...]:
    """Field-level differences from ``a`` to ``b``, in declaration order."""
    return _diff(a, b, "")


def _diff(
    a: ChatbotConfig | RagSettings, b: ChatbotConfig | RagSettings, prefix: str
) -> tuple[FieldChange, ...]:
    changes: list[FieldChange] = []
    for f in fields(a):
        before, after = getattr(a, f.name), getattr(b, f.name)
        if before == after:
            continue
        if isinstance(before, _NESTED):
            changes.extend(_diff(before, after, f"{prefix}{f.name}."))
        else:
            changes.append(FieldChange(f"{prefix}{f.name}", before, after))
    return tuple(changes)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatbotVersion:
    """An immutable snapshot. Live from ``activated_at`` until ``deactivated_at`` (None: now)."""

    id: str
    chatbot_id: str
    version_number: int
    config: ChatbotConfig
    created_by: str
    created_at: datetime
    activated_at: datetime | None = None
    deactivated_at: datetime | None = None

    def __post_init__(self) -> None:
        _positive_int(self.version_number, "version number")
        _aware(self.created_at, "created_at")
        if self.activated_at is not None:
            _aware(self.activated_at, "activated_at")
        if self.deactivated_at is not None:
            _aware(self.deactivated_at, "deactivated_at")
            if self.activated_at is None or self.deactivated_at < self.activated_at:
                raise InvalidValue("a version is deactivated after it was activated", code="invalid-version")

    @property
    def is_current(self) -> bool:
        return self.activated_at is not None and self.deactivated_at is None


@dataclass(frozen=True, slots=True)
class Publication:
    """What a publish or rollback changed: a new version, and the one it replaced (to save)."""

    version: ChatbotVersion
    deactivated: ChatbotVersion | None


class VersionHistory:
    """The versions of one chatbot, oldest first. Exactly one is current (the newest) once
    anything is published; numbers run 1, 2, 3... without gaps."""

    __slots__ = ("_versions", "chatbot_id")

    def __init__(self, chatbot_id: str, versions: Iterable[ChatbotVersion] = ()) -> None:
        ordered = sorted(versions, key=lambda v: v.version_number)
        for expected, version in enumerate(ordered, start=1):
            if version.chatbot_id != chatbot_id:
                raise RuleViolation("a version belongs to another chatbot", code="invalid-version-history")
            if version.version_number != expected:
                raise RuleViolation("version numbers must run 1, 2, 3...", code="invalid-version-history")
            if version.is_current != (expected == len(ordered)):
                raise RuleViolation("exactly the newest version is current", code="invalid-version-history")
        self.chatbot_id = chatbot_id
        self._versions: list[ChatbotVersion] = ordered

    @property
    def versions(self) -> tuple[ChatbotVersion, ...]:
        return tuple(self._versions)

    @property
    def current(self) -> ChatbotVersion | None:
        return self._versions[-1] if self._versions else None

    def get(self, version_number: int) -> ChatbotVersion:
        if type(version_number) is int and 1 <= version_number <= len(self._versions):
            return self._versions[version_number - 1]
        raise RuleViolation(f"there is no version {version_number!r}", code="unknown-version")

    def publish(
        self, config: ChatbotConfig, *, at: datetime, by: str, version_id: str | None = None
    ) -> Publication:
        """Append ``config`` as the new current version and close the previous one."""
        _aware(at, "at")
        if not isinstance(config, ChatbotConfig):
            raise InvalidValue("config must be a ChatbotConfig", code="invalid-config")
        previous = self.current
        if previous is not None and previous.activated_at is not None and at < previous.activated_at:
            raise RuleViolation("cannot publish before the current version went live", code="clock-went-back")
        closed = replace(previous, deactivated_at=at) if previous is not None else None
        version = ChatbotVersion(
            id=version_id or new_id(),
            chatbot_id=self.chatbot_id,
            version_number=len(self._versions) + 1,
            config=config,
            created_by=by,
            created_at=at,
            activated_at=at,
        )
        if closed is not None:
            self._versions[-1] = closed
        self._versions.append(version)
        return Publication(version, closed)

    def rollback(
        self, to_version_number: int, *, at: datetime, by: str, version_id: str | None = None
    ) -> Publication:
        """Publish a copy of an earlier version's configuration as a new version."""
        target = self.get(to_version_number)
        if target.is_current:
            raise RuleViolation(f"version {to_version_number} is already current", code="already-current")
        config = replace(target.config, changelog=f"Rollback to version {to_version_number}")
        return self.publish(config, at=at, by=by, version_id=version_id)

    def diff(self, a: int, b: int) -> tuple[FieldChange, ...]:
        return diff_configs(self.get(a).config, self.get(b).config)

    def __len__(self) -> int:
        return len(self._versions)


@dataclass(slots=True, kw_only=True)
class Chatbot:
    """The live chatbot: a stable slug pointing at its current version."""

    id: str
    slug: Slug
    type: ChatbotType
    owners: ChatbotOwners
    is_public: bool = False
    is_active: bool = True
    current_version_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.slug, Slug) or not isinstance(self.owners, ChatbotOwners):
            raise InvalidValue("a chatbot needs a Slug and ChatbotOwners", code="invalid-chatbot")
        if self.is_public and self.current_version_id is None:
            raise RuleViolation("a chatbot is public only with a live version", code="no-live-version")

    def point_to(self, version: ChatbotVersion) -> None:
        """Follow a publish or rollback: the version must be this chatbot's and current."""
        if version.chatbot_id != self.id or not version.is_current:
            raise RuleViolation("only this chatbot's current version can be live", code="invalid-version")
        self.current_version_id = version.id
        self.type = version.config.type

    def make_public(self) -> None:
        if self.current_version_id is None:
            raise RuleViolation("publish a version before making the chatbot public", code="no-live-version")
        self.is_public = True

    def make_private(self) -> None:
        self.is_public = False

    @property
    def is_available(self) -> bool:
        """Whether new conversations can be started."""
        return self.is_active and self.current_version_id is not None

"""The catalogue: users, creators, their sources and the files those sources are read from."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Final
from urllib.parse import urlsplit

from domain.errors import IllegalTransition, InvalidValue
from domain.roles import CreatorMembers
from domain.shares import ShareSet
from domain.slug import Slug

_EMAIL_RE: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
FAILURE_REASON_MAX: Final = 2000


def _text(value: object, what: str, *, limit: int, optional: bool = False) -> None:
    if optional and value is None:
        return
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidValue(
            f"{what} must be non-empty text of at most {limit} characters", code="invalid-value"
        )


def check_url(url: str, what: str = "url") -> str:
    """An absolute http(s) URL with a host, returned unchanged."""
    parts = urlsplit(url) if isinstance(url, str) else None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or any(c.isspace() for c in url)
    ):
        raise InvalidValue(f"{what} must be an absolute http(s) URL", code="invalid-url")
    return url


def normalize_isbn(text: str) -> str:
    """An ISBN-10 or ISBN-13 without hyphens or spaces, its check digit verified."""
    digits = re.sub(r"[\s-]", "", text).upper() if isinstance(text, str) else ""
    if re.fullmatch(r"[0-9]{9}[0-9X]", digits):
        total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(digits))
        valid = total % 11 == 0
    elif re.fullmatch(r"97[89][0-9]{10}", digits):
        valid = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(digits)) % 10 == 0
    else:
        valid = False
    if not valid:
        raise InvalidValue(f"{text!r} is not a valid ISBN-10 or ISBN-13", code="invalid-isbn")
    return digits


@dataclass(slots=True, kw_only=True)
class User:
    """A person, mirrored from the identity provider (``external_id`` is its user id)."""

    id: str
    external_id: str
    email: str
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None

    def __post_init__(self) -> None:
        _text(self.external_id, "external id", limit=255)
        if not isinstance(self.email, str) or not _EMAIL_RE.fullmatch(self.email) or len(self.email) > 320:
            raise InvalidValue(f"{self.email!r} is not an email address", code="invalid-email")
        for name in ("username", "first_name", "last_name", "phone"):
            _text(getattr(self, name), name, limit=255, optional=True)

    @property
    def display_name(self) -> str:
        full = " ".join(p for p in (self.first_name, self.last_name) if p)
        return full or self.username or self.email.split("@", 1)[0]


@dataclass(slots=True, kw_only=True)
class Creator:
    """A creator profile (a person or an estate) that owns sources and earns revenue."""

    id: str
    name: str
    slug: Slug
    members: CreatorMembers
    bio: str | None = None
    avatar_url: str | None = None
    social_links: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _text(self.name, "name", limit=200)
        _text(self.bio, "bio", limit=10_000, optional=True)
        if not isinstance(self.slug, Slug) or not isinstance(self.members, CreatorMembers):
            raise InvalidValue("a creator needs a Slug and CreatorMembers", code="invalid-creator")
        if self.avatar_url is not None:
            check_url(self.avatar_url, "avatar url")
        links = dict(self.social_links)
        for network, url in links.items():
            _text(network, "social network name", limit=50)
            check_url(url, f"{network} link")
        self.social_links = links  # a private copy; plain dict so entities deep-copy


class SourceType(StrEnum):
    BOOK = "BOOK"
    ARTICLE = "ARTICLE"
    PODCAST = "PODCAST"
    VIDEO = "VIDEO"
    DOCUMENT = "DOCUMENT"
    OTHER = "OTHER"


@dataclass(slots=True, kw_only=True)
class Source:
    """A work (book, episode, article...). Its ``shares`` decide who is paid when it answers."""

    id: str
    title: str
    type: SourceType
    created_by: str
    shares: ShareSet
    author: str | None = None
    publisher: str | None = None
    publication_date: date | None = None
    isbn: str | None = None
    url: str | None = None
    description: str | None = None
    metadata: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _text(self.title, "title", limit=500)
        if not isinstance(self.type, SourceType) or not isinstance(self.shares, ShareSet):
            raise InvalidValue("a source needs a SourceType and a ShareSet", code="invalid-source")
        _text(self.author, "author", limit=500, optional=True)
        _text(self.publisher, "publisher", limit=500, optional=True)
        _text(self.description, "description", limit=20_000, optional=True)
        if self.publication_date is not None and not isinstance(self.publication_date, date):
            raise InvalidValue("publication date must be a date", code="invalid-source")
        if self.isbn is not None:
            self.isbn = normalize_isbn(self.isbn)
        if self.url is not None:
            check_url(self.url)
        self.metadata = dict(self.metadata)

    @property
    def creator_ids(self) -> tuple[str, ...]:
        return self.shares.creator_ids

    def set_shares(self, shares: ShareSet) -> None:
        """Replace the co-creator split. Attributions already made keep their old split."""
        if not isinstance(shares, ShareSet):
            raise InvalidValue("shares must be a ShareSet", code="invalid-source")
        self.shares = shares


class FileStatus(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    READY = "READY"
    FAILED = "FAILED"


# PENDING -> FAILED covers files rejected before work starts (unsupported or corrupt);
# FAILED -> PENDING is a retry; READY -> PENDING re-ingests (say, for a new embedding model).
FILE_TRANSITIONS: Final[Mapping[FileStatus, frozenset[FileStatus]]] = MappingProxyType(
    {
        FileStatus.PENDING: frozenset({FileStatus.PROCESSING, FileStatus.FAILED}),
        FileStatus.PROCESSING: frozenset({FileStatus.READY, FileStatus.FAILED}),
        FileStatus.READY: frozenset({FileStatus.PENDING}),
        FileStatus.FAILED: frozenset({FileStatus.PENDING}),
    }
)


@dataclass(slots=True, kw_only=True)
class SourceFile:
    """An uploaded file. Creator files belong to a source and get indexed; a user's own
    context files have no source. A replaced file stays (inactive) for the record."""

    id: str
    owner_user_id: str
    file_name: str
    mime_type: str
    size_bytes: int
    storage_key: str
    source_id: str | None = None
    creator_id: str | None = None
    status: FileStatus = FileStatus.PENDING
    failure_reason: str | None = None
    is_active: bool = True
    replaced_by_file_id: str | None = None

    def __post_init__(self) -> None:
        _text(self.file_name, "file name", limit=1000)
        _text(self.mime_type, "mime type", limit=255)
        _text(self.storage_key, "storage key", limit=2000)
        if type(self.size_bytes) is not int or self.size_bytes < 0:
            raise InvalidValue("size must be a non-negative integer", code="invalid-file")
        if not isinstance(self.status, FileStatus):
            raise InvalidValue("status must be a FileStatus", code="invalid-file")
        if (self.status is FileStatus.FAILED) != (self.failure_reason is not None):
            raise InvalidValue("a failure reason goes with FAILED, and only with it", code="invalid-file")
        if self.replaced_by_file_id is not None and (self.is_active or self.replaced_by_file_id == self.id):
            raise InvalidValue("a replaced file is inactive and replaced by another", code="invalid-file")

    def _move(self, target: FileStatus, *, needs_active: bool = False) -> None:
        if target not in FILE_TRANSITIONS[self.status] or (needs_active and not self.is_active):
            raise IllegalTransition(
                f"file cannot go from {self.status} to {target}" + ("" if self.is_active else " (inactive)")
            )
        self.status = target

    def start_processing(self) -> None:
        self._move(FileStatus.PROCESSING, needs_active=True)

    def mark_ready(self) -> None:
        self._move(FileStatus.READY)

    def mark_failed(self, reason: str) -> None:
        _text(reason, "failure reason", limit=FAILURE_REASON_MAX)
        self._move(FileStatus.FAILED)
        self.failure_reason = reason.strip()

    def retry(self) -> None:
        """FAILED -> PENDING (forgetting the old reason) or READY -> PENDING (re-ingest)."""
        self._move(FileStatus.PENDING, needs_active=True)
        self.failure_reason = None

    def replace_with(self, new_file_id: str) -> None:
        """Retire this file in favour of ``new_file_id`` (a better copy of the same source)."""
        if not self.is_active:
            raise IllegalTransition("an inactive file cannot be replaced again", code="file-inactive")
        if not isinstance(new_file_id, str) or not new_file_id.strip() or new_file_id == self.id:
            raise InvalidValue("a file is replaced by another file", code="invalid-file")
        self.is_active = False
        self.replaced_by_file_id = new_file_id

    def deactivate(self) -> None:
        """Withdraw the file without a replacement (its chunks leave the index)."""
        self.is_active = False

"""Users, creators and the credentials that act for them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from adapters.persistence.enums import CreatorRole, PlatformRole
from adapters.persistence.models.base import Base, Timestamps, enum_column, fk, id_column, utcnow
from adapters.persistence.types import JSONType, UTCDateTime


class User(Timestamps, Base):
    """Everyone: audience members and the people who run creators. ``clerk_id`` (the seed's
    name) holds the external identity provider's subject; it is unique."""

    __tablename__ = "user"

    id: Mapped[str] = id_column()
    clerk_id: Mapped[str] = mapped_column(String(255), unique=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    username: Mapped[str | None] = mapped_column(String(255))
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(64))
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONType)
    # Added: NULL for everyone but the people who operate the platform.
    platform_role: Mapped[PlatformRole | None] = enum_column(PlatformRole, "platform_role", nullable=True)


class Creator(Timestamps, Base):
    """The author (or brand) whose work the chatbots answer from and who is paid for it."""

    __tablename__ = "creator"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(Text)
    slug: Mapped[str] = mapped_column(String(255), unique=True)
    avatar_url: Mapped[str | None] = mapped_column(Text)
    bio: Mapped[str | None] = mapped_column(Text)
    social_links: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class CreatorUser(Timestamps, Base):
    """A user's membership of a creator (an assistant may run a creator's account)."""

    __tablename__ = "creator_user"
    __table_args__ = (
        UniqueConstraint("creator_id", "user_id"),
        Index(None, "creator_id"),
        Index(None, "user_id"),
    )

    id: Mapped[str] = id_column()
    creator_id: Mapped[str] = fk("creator.id", ondelete="CASCADE")
    user_id: Mapped[str] = fk("user.id", ondelete="CASCADE")
    role: Mapped[CreatorRole] = enum_column(CreatorRole, "role", default=CreatorRole.MEMBER)


class ApiKey(Base):
    """A creator's API key. Only a hash of the secret is stored; ``prefix`` is the visible,
    unique part shown in listings and used to find the row before the hash is compared."""

    __tablename__ = "api_key"

    id: Mapped[str] = id_column()
    creator_id: Mapped[str] = fk("creator.id", ondelete="CASCADE", index=True)
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    permissions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_by_user_id: Mapped[str | None] = fk("user.id", ondelete="SET NULL", nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AnonymousClaim(Base):
    """An anonymous visitor id claimed by a signed-in user. The unique ``anonymous_id`` makes a
    claim exactly-once: a second claim (even a concurrent one) fails on insert, so an anonymous
    visitor's conversations can never be moved to two accounts."""

    __tablename__ = "anonymous_claim"

    id: Mapped[str] = id_column()
    anonymous_id: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = fk("user.id", ondelete="CASCADE", index=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

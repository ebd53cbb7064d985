"""Request bodies and response shapes of the catalogue routes, and the mapping from domain
objects to them (kept apart so the route module stays about its handlers)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from application.catalogue.ports import ShareSetVersion
from application.ingestion.store import FileRecord
from domain.catalogue import Creator, Source, SourceFile
from domain.roles import CreatorMembers

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Text500 = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Bio = Annotated[str, msgspec.Meta(max_length=10_000)]
Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Slug = Annotated[str, msgspec.Meta(min_length=2, max_length=64, pattern="^[a-z0-9]+(-[a-z0-9]+)*$")]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Share = Annotated[str, msgspec.Meta(pattern=r"^(0(\.[0-9]{1,4})?|1(\.0{1,4})?)$")]
Links = Annotated[
    dict[Annotated[str, msgspec.Meta(min_length=1, max_length=50)], Url], msgspec.Meta(max_length=20)
]
Shares = Annotated[dict[Id, Share], msgspec.Meta(min_length=1, max_length=100)]
RoleName = Annotated[str, msgspec.Meta(pattern="^(OWNER|ADMIN|MEMBER)$")]
SourceTypeName = Annotated[str, msgspec.Meta(pattern="^(BOOK|ARTICLE|PODCAST|VIDEO|DOCUMENT|OTHER)$")]


# ---- bodies ------------------------------------------------------------------------------------


class NewCreator(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    slug: Slug | None = None
    bio: Bio | None = None
    avatar_url: Url | None = None
    social_links: Links = msgspec.field(default_factory=dict)


class ProfileChange(msgspec.Struct, forbid_unknown_fields=True):
    """Fields left out are unchanged; an empty bio or avatar_url clears it."""

    name: Name | None = None
    slug: Slug | None = None
    bio: Bio | None = None
    avatar_url: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    social_links: Links | None = None


class NewMember(msgspec.Struct, forbid_unknown_fields=True):
    user_id: Id
    role: RoleName


class RoleChange(msgspec.Struct, forbid_unknown_fields=True):
    role: RoleName


class NewSource(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    type: SourceTypeName
    shares: Shares | None = None
    author: Text500 | None = None
    publisher: Text500 | None = None
    publication_date: date | None = None
    isbn: Annotated[str, msgspec.Meta(min_length=10, max_length=17)] | None = None
    url: Url | None = None
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)] | None = None


class SharesChange(msgspec.Struct, forbid_unknown_fields=True):
    shares: Shares


# ---- responses ---------------------------------------------------------------------------------


class MemberOut(msgspec.Struct):
    user_id: str
    role: str


class CreatorOut(msgspec.Struct):
    id: str
    name: str
    slug: str
    bio: str | None
    avatar_url: str | None
    social_links: dict[str, str]
    members: list[MemberOut] | None = None
    my_role: str | None = None


class ShareVersionOut(msgspec.Struct):
    shares: dict[str, str]
    effective_from: datetime
    changed_by: str | None


class SourceOut(msgspec.Struct):
    id: str
    title: str
    type: str
    shares: dict[str, str]
    created_by: str
    author: str | None
    publisher: str | None
    publication_date: date | None
    isbn: str | None
    url: str | None
    description: str | None


class FileOut(msgspec.Struct):
    id: str
    source_id: str | None
    file_name: str
    mime_type: str
    size_bytes: int
    status: str
    failure_reason: str | None
    is_active: bool
    replaced_by_file_id: str | None
    checksum_sha256: str | None = None
    page_count: int | None = None
    chunk_count: int | None = None
    token_count: int | None = None
    ingested_at: datetime | None = None


class SourceDetailsOut(msgspec.Struct):
    source: SourceOut
    share_history: list[ShareVersionOut]
    files: list[FileOut]


class SourcePageOut(msgspec.Struct):
    items: list[SourceOut]
    next_cursor: str | None


class RosterOut(msgspec.Struct):
    creator_id: str
    members: list[MemberOut]


def roster_out(members: CreatorMembers) -> list[MemberOut]:
    return [MemberOut(user_id=u, role=r.value) for u, r in members]


def creator_out(c: Creator, *, members: bool, my_role: str | None = None) -> CreatorOut:
    return CreatorOut(
        id=c.id,
        name=c.name,
        slug=c.slug.value,
        bio=c.bio,
        avatar_url=c.avatar_url,
        social_links=dict(c.social_links),
        members=roster_out(c.members) if members else None,
        my_role=my_role,
    )


def shares_out(version: Source | ShareSetVersion) -> dict[str, str]:
    return {cid: str(share) for cid, share in version.shares}


def source_out(s: Source) -> SourceOut:
    return SourceOut(
        id=s.id,
        title=s.title,
        type=s.type.value,
        shares=shares_out(s),
        created_by=s.created_by,
        author=s.author,
        publisher=s.publisher,
        publication_date=s.publication_date,
        isbn=s.isbn,
        url=s.url,
        description=s.description,
    )


def file_out(f: SourceFile, record: FileRecord | None = None, checksum: str | None = None) -> FileOut:
    out = FileOut(
        id=f.id,
        source_id=f.source_id,
        file_name=f.file_name,
        mime_type=f.mime_type,
        size_bytes=f.size_bytes,
        status=f.status.value,
        failure_reason=f.failure_reason,
        is_active=f.is_active,
        replaced_by_file_id=f.replaced_by_file_id,
        checksum_sha256=checksum,
    )
    if record is not None:
        out.checksum_sha256 = record.checksum_sha256
        out.page_count = record.page_count
        out.chunk_count = record.chunk_count
        out.token_count = record.token_count
        out.ingested_at = record.ingested_at
    return out

"""Creators, their members, sources with revenue shares, and file uploads over HTTP.

Uploads are the raw request body (any content type; the type is sniffed from the bytes), read as
a stream and stopped at the configured limit, so a large file never sits in memory whole.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Request, delete, get, patch, post, put
from litestar.params import JSONBody, QueryParameter

from application.catalogue.change_source_shares import ChangeSourceShares, ChangeSourceSharesCommand
from application.catalogue.create_creator import CreateCreator, CreateCreatorCommand
from application.catalogue.create_source import CreateSource, CreateSourceCommand
from application.catalogue.get_creator import GetCreator, GetCreatorQuery
from application.catalogue.get_source import GetSource, GetSourceQuery
from application.catalogue.get_source_file import GetSourceFile, GetSourceFileQuery
from application.catalogue.list_creator_sources import ListCreatorSources, ListCreatorSourcesQuery
from application.catalogue.list_my_creators import ListMyCreators, ListMyCreatorsQuery
from application.catalogue.manage_creator_members import (
    ManageCreatorMember,
    ManageCreatorMemberCommand,
    MemberChange,
)
from application.catalogue.ports import ShareSetVersion
from application.catalogue.update_creator_profile import UpdateCreatorProfile, UpdateCreatorProfileCommand
from application.catalogue.upload_source_file import UploadSourceFile, UploadSourceFileCommand
from application.identity.principal import Principal
from application.ingestion.store import FileRecord
from domain.catalogue import Creator, Source, SourceFile, SourceType
from domain.roles import CreatorMembers, CreatorRole

TAGS = ["catalogue"]
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


def _roster(members: CreatorMembers) -> list[MemberOut]:
    return [MemberOut(user_id=u, role=r.value) for u, r in members]


def _creator(c: Creator, *, members: bool, my_role: str | None = None) -> CreatorOut:
    return CreatorOut(
        id=c.id,
        name=c.name,
        slug=c.slug.value,
        bio=c.bio,
        avatar_url=c.avatar_url,
        social_links=dict(c.social_links),
        members=_roster(c.members) if members else None,
        my_role=my_role,
    )


def _shares(version: Source | ShareSetVersion) -> dict[str, str]:
    return {cid: str(share) for cid, share in version.shares}


def _source(s: Source) -> SourceOut:
    return SourceOut(
        id=s.id,
        title=s.title,
        type=s.type.value,
        shares=_shares(s),
        created_by=s.created_by,
        author=s.author,
        publisher=s.publisher,
        publication_date=s.publication_date,
        isbn=s.isbn,
        url=s.url,
        description=s.description,
    )


def _file(f: SourceFile, record: FileRecord | None = None, checksum: str | None = None) -> FileOut:
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


# ---- creators ----------------------------------------------------------------------------------


@post("/v1/creators", tags=TAGS, summary="Create a creator profile", status_code=201)
@inject
async def create_creator(
    data: JSONBody[NewCreator], principal: FromDishka[Principal], uc: FromDishka[CreateCreator]
) -> CreatorOut:
    creator = await uc(
        CreateCreatorCommand(
            principal=principal,
            name=data.name,
            slug=data.slug,
            bio=data.bio,
            avatar_url=data.avatar_url,
            social_links=data.social_links,
        )
    )
    return _creator(creator, members=True, my_role=CreatorRole.OWNER.value)


@get("/v1/me/creators", tags=TAGS, summary="The creators I belong to")
@inject
async def my_creators(principal: FromDishka[Principal], uc: FromDishka[ListMyCreators]) -> list[CreatorOut]:
    memberships = await uc(ListMyCreatorsQuery(principal=principal))
    return [_creator(m.creator, members=False, my_role=m.role.value) for m in memberships]


@get("/v1/creators/{creator_id:str}", tags=TAGS, summary="A creator's profile")
@inject
async def get_creator(
    creator_id: str, principal: FromDishka[Principal], uc: FromDishka[GetCreator]
) -> CreatorOut:
    view = await uc(GetCreatorQuery(principal=principal, creator_id=creator_id))
    return _creator(view.creator, members=view.members_visible)


@patch("/v1/creators/{creator_id:str}", tags=TAGS, summary="Edit a creator's profile")
@inject
async def update_creator(
    creator_id: str,
    data: JSONBody[ProfileChange],
    principal: FromDishka[Principal],
    uc: FromDishka[UpdateCreatorProfile],
) -> CreatorOut:
    creator = await uc(
        UpdateCreatorProfileCommand(
            principal=principal,
            creator_id=creator_id,
            name=data.name,
            slug=data.slug,
            bio=data.bio,
            avatar_url=data.avatar_url,
            social_links=data.social_links,
        )
    )
    return _creator(creator, members=True)


@post("/v1/creators/{creator_id:str}/members", tags=TAGS, summary="Add a member", status_code=201)
@inject
async def add_member(
    creator_id: str,
    data: JSONBody[NewMember],
    principal: FromDishka[Principal],
    uc: FromDishka[ManageCreatorMember],
) -> RosterOut:
    roster = await uc(
        ManageCreatorMemberCommand(
            principal=principal,
            creator_id=creator_id,
            user_id=data.user_id,
            change=MemberChange.ADD,
            role=CreatorRole(data.role),
        )
    )
    return RosterOut(creator_id=creator_id, members=_roster(roster))


@patch("/v1/creators/{creator_id:str}/members/{user_id:str}", tags=TAGS, summary="Change a member's role")
@inject
async def change_member_role(
    creator_id: str,
    user_id: str,
    data: JSONBody[RoleChange],
    principal: FromDishka[Principal],
    uc: FromDishka[ManageCreatorMember],
) -> RosterOut:
    roster = await uc(
        ManageCreatorMemberCommand(
            principal=principal,
            creator_id=creator_id,
            user_id=user_id,
            change=MemberChange.CHANGE_ROLE,
            role=CreatorRole(data.role),
        )
    )
    return RosterOut(creator_id=creator_id, members=_roster(roster))


@delete(
    "/v1/creators/{creator_id:str}/members/{user_id:str}",
    tags=TAGS,
    summary="Remove a member",
    status_code=200,
)
@inject
async def remove_member(
    creator_id: str, user_id: str, principal: FromDishka[Principal], uc: FromDishka[ManageCreatorMember]
) -> RosterOut:
    roster = await uc(
        ManageCreatorMemberCommand(
            principal=principal, creator_id=creator_id, user_id=user_id, change=MemberChange.REMOVE
        )
    )
    return RosterOut(creator_id=creator_id, members=_roster(roster))


# ---- sources -----------------------------------------------------------------------------------


@post("/v1/creators/{creator_id:str}/sources", tags=TAGS, summary="Add a source", status_code=201)
@inject
async def create_source(
    creator_id: str, data: JSONBody[NewSource], principal: FromDishka[Principal], uc: FromDishka[CreateSource]
) -> SourceOut:
    source = await uc(
        CreateSourceCommand(
            principal=principal,
            creator_id=creator_id,
            title=data.title,
            type=SourceType(data.type),
            shares={k: Decimal(v) for k, v in data.shares.items()} if data.shares else None,
            author=data.author,
            publisher=data.publisher,
            publication_date=data.publication_date,
            isbn=data.isbn,
            url=data.url,
            description=data.description,
        )
    )
    return _source(source)


@get("/v1/creators/{creator_id:str}/sources", tags=TAGS, summary="A creator's sources")
@inject
async def list_sources(
    creator_id: str,
    principal: FromDishka[Principal],
    uc: FromDishka[ListCreatorSources],
    limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
) -> SourcePageOut:
    page = await uc(
        ListCreatorSourcesQuery(principal=principal, creator_id=creator_id, limit=limit, cursor=cursor)
    )
    return SourcePageOut(items=[_source(s) for s in page.items], next_cursor=page.next_cursor)


@get("/v1/sources/{source_id:str}", tags=TAGS, summary="A source, its share history and its files")
@inject
async def get_source(
    source_id: str, principal: FromDishka[Principal], uc: FromDishka[GetSource]
) -> SourceDetailsOut:
    details = await uc(GetSourceQuery(principal=principal, source_id=source_id))
    return SourceDetailsOut(
        source=_source(details.source),
        share_history=[
            ShareVersionOut(shares=_shares(v), effective_from=v.effective_from, changed_by=v.changed_by)
            for v in details.history
        ],
        files=[_file(f) for f in details.files],
    )


@put("/v1/sources/{source_id:str}/shares", tags=TAGS, summary="Change a source's revenue shares")
@inject
async def change_shares(
    source_id: str,
    data: JSONBody[SharesChange],
    principal: FromDishka[Principal],
    uc: FromDishka[ChangeSourceShares],
) -> list[ShareVersionOut]:
    history = await uc(
        ChangeSourceSharesCommand(
            principal=principal, source_id=source_id, shares={k: Decimal(v) for k, v in data.shares.items()}
        )
    )
    return [
        ShareVersionOut(shares=_shares(v), effective_from=v.effective_from, changed_by=v.changed_by)
        for v in history
    ]


# ---- files -------------------------------------------------------------------------------------


def _disposition_name(header: str) -> str:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "filename" and value.strip('"'):
            return value.strip('"')
    return "upload"


async def _body(request: Request[Any, Any, Any]) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        yield chunk


@post(
    "/v1/sources/{source_id:str}/files",
    tags=TAGS,
    summary="Upload a file of a source (the raw request body)",
    status_code=201,
    request_max_body_size=None,  # the use case streams the body and enforces the upload limit
)
@inject
async def upload_file(
    source_id: str,
    request: Request[Any, Any, Any],
    principal: FromDishka[Principal],
    uc: FromDishka[UploadSourceFile],
    file_name: Annotated[str | None, QueryParameter(min_length=1, max_length=255)] = None,
) -> FileOut:
    """Send the file's bytes as the request body and its name as ``file_name`` (or in a
    ``Content-Disposition`` header's ``filename``); ``Content-Type``
    is checked against what the bytes are. The file is stored, its SHA-256 recorded, and its
    ingestion queued: follow it with ``GET /v1/sources/{source_id}/files/{file_id}``. A file that
    cannot be ingested (empty, unsupported, mislabelled) is answered with status FAILED and the
    reason; one over the size limit is refused (413) and nothing is kept."""
    uploaded = await uc(
        UploadSourceFileCommand(
            principal=principal,
            source_id=source_id,
            file_name=file_name or _disposition_name(request.headers.get("content-disposition", "")),
            content=_body(request),
            declared_type=request.headers.get("content-type"),
        )
    )
    return _file(uploaded.file, checksum=uploaded.checksum_sha256)


@get("/v1/sources/{source_id:str}/files/{file_id:str}", tags=TAGS, summary="A file's ingestion status")
@inject
async def get_file(
    source_id: str, file_id: str, principal: FromDishka[Principal], uc: FromDishka[GetSourceFile]
) -> FileOut:
    details = await uc(GetSourceFileQuery(principal=principal, source_id=source_id, file_id=file_id))
    return _file(details.file, details.record)


HANDLERS = [
    create_creator,
    my_creators,
    get_creator,
    update_creator,
    add_member,
    change_member_role,
    remove_member,
    create_source,
    list_sources,
    get_source,
    change_shares,
    upload_file,
    get_file,
]

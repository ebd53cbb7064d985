"""Creators, their members, sources with revenue shares, and file uploads over HTTP.

Uploads are the raw request body (any content type; the type is sniffed from the bytes), read as
a stream and stopped at the configured limit, so a large file never sits in memory whole.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Annotated, Any

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
from application.catalogue.retry_source_file import RetrySourceFile, RetrySourceFileCommand
from application.catalogue.update_creator_profile import UpdateCreatorProfile, UpdateCreatorProfileCommand
from application.catalogue.upload_source_file import UploadSourceFile, UploadSourceFileCommand
from application.identity.principal import Principal
from domain.catalogue import SourceType
from domain.roles import CreatorRole
from entrypoints.http.multipart_upload import first_file_part, is_multipart
from entrypoints.http.routes.catalogue_schemas import (
    CreatorOut,
    FileOut,
    NewCreator,
    NewMember,
    NewSource,
    ProfileChange,
    RoleChange,
    RosterOut,
    SharesChange,
    ShareVersionOut,
    SourceDetailsOut,
    SourceOut,
    SourcePageOut,
    creator_out,
    file_out,
    roster_out,
    shares_out,
    source_out,
)

TAGS = ["catalogue"]


def _doc(use_case: type) -> str:
    """The use case's docstring (its business rules) as the operation's description."""
    return inspect.cleandoc(use_case.__doc__ or "")


# ---- creators ----------------------------------------------------------------------------------


@post(
    "/v1/creators",
    tags=TAGS,
    summary="Create a creator profile",
    description=_doc(CreateCreator),
    status_code=201,
)
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
    return creator_out(creator, members=True, my_role=CreatorRole.OWNER.value)


@get("/v1/me/creators", tags=TAGS, summary="The creators I belong to", description=_doc(ListMyCreators))
@inject
async def my_creators(principal: FromDishka[Principal], uc: FromDishka[ListMyCreators]) -> list[CreatorOut]:
    memberships = await uc(ListMyCreatorsQuery(principal=principal))
    return [creator_out(m.creator, members=False, my_role=m.role.value) for m in memberships]


@get("/v1/creators/{creator_id:str}", tags=TAGS, summary="A creator's profile", description=_doc(GetCreator))
@inject
async def get_creator(
    creator_id: str, principal: FromDishka[Principal], uc: FromDishka[GetCreator]
) -> CreatorOut:
    view = await uc(GetCreatorQuery(principal=principal, creator_id=creator_id))
    return creator_out(view.creator, members=view.members_visible)


@patch(
    "/v1/creators/{creator_id:str}",
    tags=TAGS,
    summary="Edit a creator's profile",
    description=_doc(UpdateCreatorProfile),
)
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
    return creator_out(creator, members=True)


@post(
    "/v1/creators/{creator_id:str}/members",
    tags=TAGS,
    summary="Add a member",
    status_code=201,
    description=_doc(ManageCreatorMember),
)
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
    return RosterOut(creator_id=creator_id, members=roster_out(roster))


@patch(
    "/v1/creators/{creator_id:str}/members/{user_id:str}",
    tags=TAGS,
    summary="Change a member's role",
    description=_doc(ManageCreatorMember),
)
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
    return RosterOut(creator_id=creator_id, members=roster_out(roster))


@delete(
    "/v1/creators/{creator_id:str}/members/{user_id:str}",
    tags=TAGS,
    summary="Remove a member",
    description=_doc(ManageCreatorMember),
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
    return RosterOut(creator_id=creator_id, members=roster_out(roster))


# ---- sources -----------------------------------------------------------------------------------


@post(
    "/v1/creators/{creator_id:str}/sources",
    tags=TAGS,
    summary="Add a source",
    status_code=201,
    description=_doc(CreateSource),
)
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
    return source_out(source)


@get(
    "/v1/creators/{creator_id:str}/sources",
    tags=TAGS,
    summary="A creator's sources",
    description=_doc(ListCreatorSources),
)
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
    return SourcePageOut(items=[source_out(s) for s in page.items], next_cursor=page.next_cursor)


@get(
    "/v1/sources/{source_id:str}",
    tags=TAGS,
    summary="A source, its share history and its files",
    description=_doc(GetSource),
)
@inject
async def get_source(
    source_id: str, principal: FromDishka[Principal], uc: FromDishka[GetSource]
) -> SourceDetailsOut:
    details = await uc(GetSourceQuery(principal=principal, source_id=source_id))
    return SourceDetailsOut(
        source=source_out(details.source),
        share_history=[
            ShareVersionOut(shares=shares_out(v), effective_from=v.effective_from, changed_by=v.changed_by)
            for v in details.history
        ],
        files=[file_out(f) for f in details.files],
    )


@put(
    "/v1/sources/{source_id:str}/shares",
    tags=TAGS,
    summary="Change a source's revenue shares",
    description=_doc(ChangeSourceShares),
)
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
        ShareVersionOut(shares=shares_out(v), effective_from=v.effective_from, changed_by=v.changed_by)
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
    summary="Upload a file of a source (the raw request body, or a multipart form's file part)",
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
    ``Content-Disposition`` header's ``filename``); ``Content-Type`` is checked against what the bytes
    are. A ``multipart/form-data`` body (a browser form, ``curl -F file=@book.pdf``) works too: its
    first file part is the file (streamed, not buffered), named by the part's filename, typed by the
    part's ``Content-Type``. The file is stored, its SHA-256 recorded, and its ingestion queued: follow
    it with ``GET /v1/sources/{source_id}/files/{file_id}``. A file that cannot be ingested (empty,
    unsupported, mislabelled) is answered with status FAILED and the reason; one over the size limit is
    refused (413) and nothing is kept."""
    declared = request.headers.get("content-type")
    if is_multipart(declared):
        part = await first_file_part(_body(request), declared or "")
        name, content, declared = file_name or part.file_name or "upload", part.content, part.content_type
    else:
        name = file_name or _disposition_name(request.headers.get("content-disposition", ""))
        content = _body(request)
    uploaded = await uc(
        UploadSourceFileCommand(
            principal=principal, source_id=source_id, file_name=name, content=content, declared_type=declared
        )
    )
    return file_out(uploaded.file, checksum=uploaded.checksum_sha256)


@get(
    "/v1/sources/{source_id:str}/files/{file_id:str}",
    tags=TAGS,
    summary="A file's ingestion status",
    description=_doc(GetSourceFile),
)
@inject
async def get_file(
    source_id: str, file_id: str, principal: FromDishka[Principal], uc: FromDishka[GetSourceFile]
) -> FileOut:
    details = await uc(GetSourceFileQuery(principal=principal, source_id=source_id, file_id=file_id))
    return file_out(details.file, details.record)


@post(
    "/v1/sources/{source_id:str}/files/{file_id:str}/retry",
    tags=TAGS,
    summary="Ingest a file again",
    status_code=202,
    description=_doc(RetrySourceFile),
)
@inject
async def retry_file(
    source_id: str, file_id: str, principal: FromDishka[Principal], uc: FromDishka[RetrySourceFile]
) -> FileOut:
    file = await uc(RetrySourceFileCommand(principal=principal, source_id=source_id, file_id=file_id))
    return file_out(file)


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
    retry_file,
]

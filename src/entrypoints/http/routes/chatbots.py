"""Chatbots over HTTP: create, configure (each change a version), publish, owners, versions.

Handlers are thin: a body Struct in, a command to the use case, a Struct out. Who may do what
is decided in the use cases (the role matrix); the configuration is only shown to who may see it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import delete, get, patch, post, put
from litestar.params import JSONBody, QueryParameter

from application.chatbots.add_owner import AddChatbotOwner, AddChatbotOwnerCommand
from application.chatbots.change_owner_role import ChangeChatbotOwnerRole, ChangeChatbotOwnerRoleCommand
from application.chatbots.config_input import config_as_fields
from application.chatbots.create_chatbot import CreateChatbot, CreateChatbotCommand
from application.chatbots.diff_versions import DiffChatbotVersions, DiffChatbotVersionsQuery, VersionDiff
from application.chatbots.get_chatbot import GetChatbot, GetChatbotQuery
from application.chatbots.list_versions import ListChatbotVersions, ListChatbotVersionsQuery
from application.chatbots.remove_owner import RemoveChatbotOwner, RemoveChatbotOwnerCommand
from application.chatbots.rollback_chatbot import RollbackChatbot, RollbackChatbotCommand
from application.chatbots.set_activity import SetChatbotActivity, SetChatbotActivityCommand
from application.chatbots.set_visibility import SetChatbotVisibility, SetChatbotVisibilityCommand
from application.chatbots.update_chatbot import UpdateChatbot, UpdateChatbotCommand
from application.chatbots.views import ChatbotDetails
from application.identity.principal import Principal
from domain.chatbots import ChatbotVersion
from domain.roles import ChatbotOwners

TAGS = ["chatbots"]
Text200 = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
LongText = Annotated[str, msgspec.Meta(max_length=100_000)]
Note = Annotated[str, msgspec.Meta(max_length=10_000)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Positive = Annotated[int, msgspec.Meta(ge=1)]
TopK = Annotated[int, msgspec.Meta(ge=1, le=100)]
Cents = Annotated[int, msgspec.Meta(ge=0)]
Currency = Annotated[str, msgspec.Meta(pattern="^[A-Za-z]{3}$")]
ChatbotTypeName = Annotated[str, msgspec.Meta(pattern="^(CREATOR|FRAMEWORK|DEEP_DIVE|ADVISOR_BOARD)$")]
OwnerRoleName = Annotated[str, msgspec.Meta(pattern="^(PRIMARY_OWNER|CO_OWNER|CONTRIBUTOR)$")]
SourceIds = Annotated[
    list[Annotated[str, msgspec.Meta(min_length=1, max_length=64)]], msgspec.Meta(min_length=1)
]
Slug = Annotated[str, msgspec.Meta(min_length=2, max_length=64, pattern="^[a-z0-9]+(-[a-z0-9]+)*$")]


class ConfigFields(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Every configurable setting; fields left out keep their value. ``source_ids`` null: all of
    the owning creators' active sources (following new ones)."""

    title: Text200 | msgspec.UnsetType = msgspec.UNSET
    description: Note | msgspec.UnsetType | None = msgspec.UNSET
    system_prompt: LongText | msgspec.UnsetType = msgspec.UNSET
    model_provider: Name | msgspec.UnsetType = msgspec.UNSET
    model_name: Name | msgspec.UnsetType = msgspec.UNSET
    top_k: TopK | msgspec.UnsetType = msgspec.UNSET
    source_ids: SourceIds | msgspec.UnsetType | None = msgspec.UNSET
    price_cents: Cents | msgspec.UnsetType = msgspec.UNSET
    currency: Currency | msgspec.UnsetType = msgspec.UNSET
    message_allowance: Positive | msgspec.UnsetType = msgspec.UNSET
    expiry_seconds: Positive | msgspec.UnsetType = msgspec.UNSET
    allow_anonymous: bool | msgspec.UnsetType = msgspec.UNSET
    type: ChatbotTypeName | msgspec.UnsetType = msgspec.UNSET
    notes: Note | msgspec.UnsetType | None = msgspec.UNSET
    changelog: Note | msgspec.UnsetType | None = msgspec.UNSET
    max_output_tokens: Positive | msgspec.UnsetType = msgspec.UNSET
    conversation_token_cap: Positive | msgspec.UnsetType | None = msgspec.UNSET
    daily_user_token_cap: Positive | msgspec.UnsetType | None = msgspec.UNSET


class NewChatbotBody(ConfigFields, forbid_unknown_fields=True, omit_defaults=True):
    slug: Slug | msgspec.UnsetType = msgspec.UNSET


class RollbackBody(msgspec.Struct, forbid_unknown_fields=True):
    to_version: Positive


class NewOwnerBody(msgspec.Struct, forbid_unknown_fields=True):
    creator_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    role: OwnerRoleName


class OwnerRoleBody(msgspec.Struct, forbid_unknown_fields=True):
    role: OwnerRoleName


class OwnerOut(msgspec.Struct):
    creator_id: str
    role: str


class ConfigOut(msgspec.Struct):
    title: str
    description: str | None
    system_prompt: str
    model_provider: str
    model_name: str
    top_k: int
    source_ids: list[str] | None
    price_cents: int
    currency: str
    message_allowance: int
    expiry_seconds: int
    allow_anonymous: bool
    type: str
    notes: str | None
    changelog: str | None
    max_output_tokens: int
    conversation_token_cap: int | None
    daily_user_token_cap: int | None


class VersionOut(msgspec.Struct):
    id: str
    version_number: int
    created_by_user_id: str
    created_at: datetime
    activated_at: datetime | None
    deactivated_at: datetime | None
    config: ConfigOut


class ChatbotOut(msgspec.Struct):
    id: str
    slug: str
    type: str
    title: str | None
    description: str | None
    price_cents: int | None
    currency: str | None
    allow_anonymous: bool | None
    is_public: bool
    is_active: bool
    current_version_id: str | None
    current_version_number: int | None
    owners: list[OwnerOut]
    config: ConfigOut | None = None  # only for owners and operators


class FieldChangeOut(msgspec.Struct):
    field: str
    before: Any
    after: Any


class DiffOut(msgspec.Struct):
    from_version: int
    to_version: int
    changes: list[FieldChangeOut]


def changes_of(body: ConfigFields) -> dict[str, Any]:
    return {
        f: getattr(body, f) for f in ConfigFields.__struct_fields__ if getattr(body, f) is not msgspec.UNSET
    }


def owners_out(owners: ChatbotOwners) -> list[OwnerOut]:
    return [OwnerOut(creator_id=c, role=r.value) for c, r in owners]


def version_out(version: ChatbotVersion) -> VersionOut:
    return VersionOut(
        id=version.id,
        version_number=version.version_number,
        created_by_user_id=version.created_by,
        created_at=version.created_at,
        activated_at=version.activated_at,
        deactivated_at=version.deactivated_at,
        config=ConfigOut(**config_as_fields(version.config)),
    )


def chatbot_out(details: ChatbotDetails) -> ChatbotOut:
    chatbot, current = details.chatbot, details.current
    config = current.config if current is not None else None
    return ChatbotOut(
        id=chatbot.id,
        slug=chatbot.slug.value,
        type=chatbot.type.value,
        title=config.title if config else None,
        description=config.description if config else None,
        price_cents=config.price.minor if config else None,
        currency=config.price.currency.code if config else None,
        allow_anonymous=config.allow_anonymous if config else None,
        is_public=chatbot.is_public,
        is_active=chatbot.is_active,
        current_version_id=chatbot.current_version_id,
        current_version_number=current.version_number if current else None,
        owners=owners_out(chatbot.owners),
        config=ConfigOut(**config_as_fields(config)) if config and details.can_view_config else None,
    )


def _json(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(value)
    if hasattr(value, "value") and not isinstance(value, int | str):  # enums
        return value.value
    if hasattr(value, "minor") and hasattr(value, "currency"):  # Money
        return {"minor": value.minor, "currency": value.currency.code}
    if hasattr(value, "total_seconds"):
        return int(value.total_seconds())
    return value


def diff_out(diff: VersionDiff) -> DiffOut:
    return DiffOut(
        from_version=diff.from_version,
        to_version=diff.to_version,
        changes=[
            FieldChangeOut(field=c.field, before=_json(c.before), after=_json(c.after)) for c in diff.changes
        ],
    )


@post("/v1/creators/{creator_id:str}/chatbots", tags=TAGS, summary="Create a chatbot", status_code=201)
@inject
async def create_chatbot(
    creator_id: str,
    data: JSONBody[NewChatbotBody],
    principal: FromDishka[Principal],
    uc: FromDishka[CreateChatbot],
) -> ChatbotOut:
    changes = changes_of(data)
    slug = data.slug if isinstance(data.slug, str) else None
    made = await uc(
        CreateChatbotCommand(principal=principal, creator_id=creator_id, settings=changes, slug=slug)
    )
    return chatbot_out(made)


@get("/v1/chatbots/{chatbot_id:str}", tags=TAGS, summary="Show a chatbot (by id or slug)")
@inject
async def show_chatbot(
    chatbot_id: str, principal: FromDishka[Principal], uc: FromDishka[GetChatbot]
) -> ChatbotOut:
    return chatbot_out(await uc(GetChatbotQuery(principal=principal, id_or_slug=chatbot_id)))


@patch("/v1/chatbots/{chatbot_id:str}", tags=TAGS, summary="Change settings (publishes a new version)")
@inject
async def update_chatbot(
    chatbot_id: str,
    data: JSONBody[ConfigFields],
    principal: FromDishka[Principal],
    uc: FromDishka[UpdateChatbot],
) -> ChatbotOut:
    return chatbot_out(
        await uc(UpdateChatbotCommand(principal=principal, chatbot_id=chatbot_id, changes=changes_of(data)))
    )


async def _visibility(
    uc: SetChatbotVisibility, principal: Principal, chatbot_id: str, public: bool
) -> ChatbotOut:
    return chatbot_out(
        await uc(SetChatbotVisibilityCommand(principal=principal, chatbot_id=chatbot_id, public=public))
    )


@post("/v1/chatbots/{chatbot_id:str}/publish", tags=TAGS, summary="Make public", status_code=200)
@inject
async def publish(
    chatbot_id: str, principal: FromDishka[Principal], uc: FromDishka[SetChatbotVisibility]
) -> ChatbotOut:
    return await _visibility(uc, principal, chatbot_id, True)


@post(
    "/v1/chatbots/{chatbot_id:str}/unpublish",
    tags=TAGS,
    summary="Take off the public listing",
    status_code=200,
)
@inject
async def unpublish(
    chatbot_id: str, principal: FromDishka[Principal], uc: FromDishka[SetChatbotVisibility]
) -> ChatbotOut:
    return await _visibility(uc, principal, chatbot_id, False)


async def _activity(
    uc: SetChatbotActivity, principal: Principal, chatbot_id: str, active: bool
) -> ChatbotOut:
    return chatbot_out(
        await uc(SetChatbotActivityCommand(principal=principal, chatbot_id=chatbot_id, active=active))
    )


@post("/v1/chatbots/{chatbot_id:str}/activate", tags=TAGS, summary="Activate", status_code=200)
@inject
async def activate(
    chatbot_id: str, principal: FromDishka[Principal], uc: FromDishka[SetChatbotActivity]
) -> ChatbotOut:
    return await _activity(uc, principal, chatbot_id, True)


@post(
    "/v1/chatbots/{chatbot_id:str}/deactivate",
    tags=TAGS,
    summary="Deactivate (no new conversations)",
    status_code=200,
)
@inject
async def deactivate(
    chatbot_id: str, principal: FromDishka[Principal], uc: FromDishka[SetChatbotActivity]
) -> ChatbotOut:
    return await _activity(uc, principal, chatbot_id, False)


@post("/v1/chatbots/{chatbot_id:str}/rollback", tags=TAGS, summary="Roll back to a version", status_code=200)
@inject
async def rollback(
    chatbot_id: str,
    data: JSONBody[RollbackBody],
    principal: FromDishka[Principal],
    uc: FromDishka[RollbackChatbot],
) -> ChatbotOut:
    return chatbot_out(
        await uc(
            RollbackChatbotCommand(principal=principal, chatbot_id=chatbot_id, to_version=data.to_version)
        )
    )


@get("/v1/chatbots/{chatbot_id:str}/versions", tags=TAGS, summary="Version history")
@inject
async def list_versions(
    chatbot_id: str, principal: FromDishka[Principal], uc: FromDishka[ListChatbotVersions]
) -> list[VersionOut]:
    return [
        version_out(v) for v in await uc(ListChatbotVersionsQuery(principal=principal, chatbot_id=chatbot_id))
    ]


@get("/v1/chatbots/{chatbot_id:str}/diff", tags=TAGS, summary="Differences between two versions")
@inject
async def diff_versions(
    chatbot_id: str,
    principal: FromDishka[Principal],
    uc: FromDishka[DiffChatbotVersions],
    from_version: Annotated[int, QueryParameter(name="from", ge=1)],
    to_version: Annotated[int, QueryParameter(name="to", ge=1)],
) -> DiffOut:
    diff = await uc(
        DiffChatbotVersionsQuery(
            principal=principal, chatbot_id=chatbot_id, from_version=from_version, to_version=to_version
        )
    )
    return diff_out(diff)


@post("/v1/chatbots/{chatbot_id:str}/owners", tags=TAGS, summary="Add an owning creator", status_code=201)
@inject
async def add_owner(
    chatbot_id: str,
    data: JSONBody[NewOwnerBody],
    principal: FromDishka[Principal],
    uc: FromDishka[AddChatbotOwner],
) -> list[OwnerOut]:
    roster = await uc(
        AddChatbotOwnerCommand(
            principal=principal, chatbot_id=chatbot_id, creator_id=data.creator_id, role=data.role
        )
    )
    return owners_out(roster)


@put("/v1/chatbots/{chatbot_id:str}/owners/{creator_id:str}", tags=TAGS, summary="Change an owner's role")
@inject
async def change_owner_role(
    chatbot_id: str,
    creator_id: str,
    data: JSONBody[OwnerRoleBody],
    principal: FromDishka[Principal],
    uc: FromDishka[ChangeChatbotOwnerRole],
) -> list[OwnerOut]:
    roster = await uc(
        ChangeChatbotOwnerRoleCommand(
            principal=principal, chatbot_id=chatbot_id, creator_id=creator_id, role=data.role
        )
    )
    return owners_out(roster)


@delete(
    "/v1/chatbots/{chatbot_id:str}/owners/{creator_id:str}",
    tags=TAGS,
    summary="Remove an owner",
    status_code=200,
)
@inject
async def remove_owner(
    chatbot_id: str, creator_id: str, principal: FromDishka[Principal], uc: FromDishka[RemoveChatbotOwner]
) -> list[OwnerOut]:
    roster = await uc(
        RemoveChatbotOwnerCommand(principal=principal, chatbot_id=chatbot_id, creator_id=creator_id)
    )
    return owners_out(roster)


HANDLERS = [
    create_chatbot,
    show_chatbot,
    update_chatbot,
    publish,
    unpublish,
    activate,
    deactivate,
    rollback,
    list_versions,
    diff_versions,
    add_owner,
    change_owner_role,
    remove_owner,
]


def all_handlers() -> list[Any]:
    """This module's handlers and discovery's (one entry in the routes list for the area)."""
    from entrypoints.http.routes import chatbots_discovery, chatbots_feedback, chatbots_intake

    return [*HANDLERS, *chatbots_discovery.HANDLERS, *chatbots_feedback.HANDLERS, *chatbots_intake.HANDLERS]

"""Identity: anonymous ids, the signed-in user, creators' API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Response, delete, get, post
from litestar.datastructures import Cookie
from litestar.params import JSONBody

from application.errors import NotAuthenticated
from application.identity.claim_anonymous_activity import (
    ClaimAnonymousActivity,
    ClaimAnonymousActivityCommand,
)
from application.identity.create_api_key import CreateApiKey, CreateApiKeyCommand
from application.identity.key_ports import ApiKeyInfo
from application.identity.list_api_keys import ListApiKeys, ListApiKeysQuery
from application.identity.ports import AnonymousIdSigner
from application.identity.principal import Principal
from application.identity.revoke_api_key import RevokeApiKey, RevokeApiKeyCommand
from entrypoints.di.identity import ANONYMOUS_COOKIE

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class AnonymousId(msgspec.Struct):
    anonymous_id: str
    header: str = "X-Canon-Anonymous-Id"


class Me(msgspec.Struct):
    kind: str
    user_id: str | None
    is_operator: bool
    anonymous_id: str | None
    creator_id: str | None = None


class NewApiKeyBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    actions: Annotated[list[str], msgspec.Meta(min_length=1, max_length=64)]
    expires_at: datetime | None = None


class ApiKeyOut(msgspec.Struct):
    id: str
    creator_id: str
    name: str
    prefix: str
    actions: list[str]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class CreatedApiKeyOut(msgspec.Struct):
    key: ApiKeyOut
    api_key: str
    note: str = "Shown once: store it now. Send it as the X-API-Key header."


def _key_out(info: ApiKeyInfo) -> ApiKeyOut:
    return ApiKeyOut(
        id=info.id,
        creator_id=info.creator_id,
        name=info.name,
        prefix=info.prefix,
        actions=sorted(a.value for a in info.actions),
        created_at=info.created_at,
        last_used_at=info.last_used_at,
        expires_at=info.expires_at,
        revoked_at=info.revoked_at,
    )


@post("/v1/anonymous-ids", tags=["identity"], summary="Get a signed anonymous id", status_code=201)
@inject
async def issue_anonymous_id(signer: FromDishka[AnonymousIdSigner]) -> Response[AnonymousId]:
    """A visitor who has not signed in gets a signed anonymous id (also set as an HttpOnly cookie).
    Conversations started with it can be claimed by the account that signs in with it later;
    only the holder of the signed id can claim them."""
    signed = signer.issue()
    cookie = Cookie(key=ANONYMOUS_COOKIE, value=signed, httponly=True, samesite="lax", max_age=365 * 86400)
    return Response(AnonymousId(anonymous_id=signed), cookies=[cookie], status_code=201)


@get("/v1/me", tags=["identity"], summary="Who am I")
@inject
async def me(principal: FromDishka[Principal]) -> Me:
    """The caller as the API sees it: a user, an API key (acting for one creator) or an anonymous
    visitor."""
    return Me(
        kind=principal.kind.value,
        user_id=principal.user_id,
        is_operator=principal.is_operator,
        anonymous_id=principal.anonymous_id,
        creator_id=principal.creator_id,
    )


@post(
    "/v1/creators/{creator_id:str}/api-keys", tags=["identity"], summary="Create an API key", status_code=201
)
@inject
async def create_api_key(
    creator_id: str,
    data: JSONBody[NewApiKeyBody],
    principal: FromDishka[Principal],
    uc: FromDishka[CreateApiKey],
) -> CreatedApiKeyOut:
    if principal.user_id is None:
        raise NotAuthenticated("sign in to create API keys", code="login-required")
    created = await uc(
        CreateApiKeyCommand(
            principal=principal,
            creator_id=creator_id,
            name=data.name,
            actions=data.actions,
            expires_at=data.expires_at,
        )
    )
    return CreatedApiKeyOut(key=_key_out(created.info), api_key=created.plaintext)


@get("/v1/creators/{creator_id:str}/api-keys", tags=["identity"], summary="List a creator's API keys")
@inject
async def list_api_keys(
    creator_id: str, principal: FromDishka[Principal], uc: FromDishka[ListApiKeys]
) -> list[ApiKeyOut]:
    return [_key_out(k) for k in await uc(ListApiKeysQuery(principal=principal, creator_id=creator_id))]


@delete(
    "/v1/creators/{creator_id:str}/api-keys/{key_id:str}",
    tags=["identity"],
    summary="Revoke an API key",
    status_code=200,
)
@inject
async def revoke_api_key(
    creator_id: str, key_id: str, principal: FromDishka[Principal], uc: FromDishka[RevokeApiKey]
) -> ApiKeyOut:
    info = await uc(RevokeApiKeyCommand(principal=principal, creator_id=creator_id, key_id=key_id))
    return _key_out(info)


class ClaimOut(msgspec.Struct):
    anonymous_id: str
    conversations_claimed: int


@post("/v1/me/claim", tags=["identity"], summary="Claim what I did before signing in", status_code=200)
@inject
async def claim(principal: FromDishka[Principal], uc: FromDishka[ClaimAnonymousActivity]) -> ClaimOut:
    """Signed in, and still carrying the signed anonymous id (header or cookie) used before:
    the conversations started with it become this account's, exactly once."""
    result = await uc(ClaimAnonymousActivityCommand(principal=principal))
    return ClaimOut(anonymous_id=result.anonymous_id, conversations_claimed=result.conversations_claimed)


HANDLERS = [issue_anonymous_id, me, claim, create_api_key, list_api_keys, revoke_api_key]

"""Authenticate: who is calling, from the credentials a request presents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from application.errors import NotAuthenticated
from application.identity.api_keys import ApiKeyAuthenticator
from application.identity.ports import AnonymousIdSigner, Claims, TokenVerifier
from application.identity.principal import Principal
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork


@dataclass(frozen=True, slots=True, kw_only=True)
class MirroredUser:
    user_id: str
    is_operator: bool


class ApiKeyUsage(Protocol):
    async def touch(self, api_key_id: str, at: datetime) -> None:
        """Records when a key was last used (shown to its creator, to spot stale keys)."""
        ...


class UserMirror(Protocol):
    """Our copy of the identity provider's users (the seed's ``User``, keyed by ``clerkId``)."""

    async def upsert_from_claims(self, claims: Claims) -> MirroredUser:
        """Creates the user on first sight, refreshes email and names when they changed."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    bearer_token: str | None = None
    api_key: str | None = None
    signed_anonymous_id: str | None = None


class Authenticate:
    """Turns presented credentials into a ``Principal``.

    - A bearer token (JWT) wins over an API key, which wins over an anonymous id; a credential
      that is present but wrong is an error (401), never silently ignored.
    - A signed-in user keeps the anonymous id they carried (when valid), so they can claim what
      they did before signing in.
    - The user mirror is created or refreshed from the token's claims on first use, in its own
      short transaction.
    - No credentials at all: ``NotAuthenticated`` (the caller decides whether to offer an
      anonymous id instead).
    """

    def __init__(
        self,
        verifier: TokenVerifier,
        api_keys: ApiKeyAuthenticator,
        anonymous: AnonymousIdSigner,
        users: UserMirror,
        key_usage: ApiKeyUsage,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._verifier = verifier
        self._api_keys = api_keys
        self._anonymous = anonymous
        self._users = users
        self._uow = uow
        self._key_usage = key_usage
        self._clock = clock

    async def __call__(self, credentials: Credentials) -> Principal:
        anonymous_id = None
        if credentials.signed_anonymous_id:
            anonymous_id = self._anonymous.verify(credentials.signed_anonymous_id)
        if credentials.bearer_token:
            claims = await self._verifier.verify(credentials.bearer_token)
            user = await self._users.upsert_from_claims(claims)
            await self._uow.commit()
            return Principal.user(user.user_id, is_operator=user.is_operator, anonymous_id=anonymous_id)
        if credentials.api_key:
            principal = await self._api_keys(credentials.api_key)
            assert principal.api_key_id is not None
            await self._key_usage.touch(principal.api_key_id, self._clock.now())
            await self._uow.commit()
            return principal
        if anonymous_id is not None:
            return Principal.anonymous(anonymous_id)
        raise NotAuthenticated(
            "sign in (Authorization: Bearer), use an API key (X-API-Key) or an anonymous id",
            code="credentials-missing",
        )

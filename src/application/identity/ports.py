"""Ports of identity and access: tokens, API keys, anonymous ids, rate limits, roles.

Failures are application errors with stable codes (``AuthCode``): a bad credential is
``NotAuthenticated`` (401), a caller who may see a resource but not act on it gets
``PermissionDenied`` (403), one who may not even see it gets ``NotFound`` (404).
"""

# The token-* strings below are error codes, not credentials.
# ruff: noqa: S105
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Protocol

from application.identity.permissions import Action, Role
from application.identity.principal import Principal, Resource


class AuthCode:
    """The ``code`` of every identity error. Clients branch on these: never rename one."""

    TOKEN_EXPIRED: Final = "token-expired"
    TOKEN_INVALID: Final = "token-invalid"  # malformed, bad signature, refused algorithm, no kid
    TOKEN_NOT_YET_VALID: Final = "token-not-yet-valid"
    TOKEN_WRONG_AUDIENCE: Final = "token-wrong-audience"  # `aud` or Clerk's `azp`
    TOKEN_WRONG_ISSUER: Final = "token-wrong-issuer"
    TOKEN_UNKNOWN_KEY: Final = "token-unknown-key"
    KEYS_UNAVAILABLE: Final = "token-keys-unavailable"  # the key set cannot be fetched (503)
    API_KEY_INVALID: Final = "api-key-invalid"
    API_KEY_REVOKED: Final = "api-key-revoked"
    API_KEY_EXPIRED: Final = "api-key-expired"
    API_KEY_SCOPE: Final = "api-key-scope-insufficient"  # 403: the key does not carry the action
    ANONYMOUS_ID_INVALID: Final = "anonymous-id-invalid"
    LOGIN_REQUIRED: Final = "login-required"  # an anonymous visitor asked for a signed-in action


# --- tokens -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Claims:
    """What a verified token says. ``subject`` is the identity provider's user id (Clerk's
    ``user_...``), not ours; map it to a user through the user repository."""

    subject: str
    issuer: str
    expires_at: datetime
    issued_at: datetime | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    username: str | None = None
    audience: tuple[str, ...] = ()
    authorized_party: str | None = None
    session_id: str | None = None
    raw: Mapping[str, object] = field(default_factory=dict)


class TokenVerifier(Protocol):
    """Checks a bearer token (a JWT) and returns its claims.

    Raises ``NotAuthenticated`` with a ``token-*`` code for any token it does not accept, and
    ``ServiceUnavailable`` (``token-keys-unavailable``) when it has no keys to check with."""

    async def verify(self, token: str) -> Claims: ...


class TokenIssuer(Protocol):
    """Issues tokens; only the embedded default has one (a hosted deployment uses Clerk's)."""

    def issue(self, subject: str, email: str | None, ttl: timedelta) -> str: ...


# --- API keys -----------------------------------------------------------------------------------


class ApiKeyHasher(Protocol):
    """Turns an API key into what is stored, and checks a presented key against it in constant
    time. The stored form names its scheme, so the secret behind it can rotate."""

    def hash(self, api_key: str) -> str: ...

    def matches(self, api_key: str, stored_hash: str) -> bool: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredApiKey:
    """An API key as stored: never the key itself, only its visible prefix and its hash."""

    id: str
    creator_id: str
    prefix: str
    key_hash: str
    actions: frozenset[Action]
    revoked_at: datetime | None = None
    expires_at: datetime | None = None


class ApiKeyStore(Protocol):
    """Looks API keys up by their visible prefix (unique)."""

    async def find_by_prefix(self, prefix: str) -> StoredApiKey | None: ...


# --- anonymous visitors -------------------------------------------------------------------------


class AnonymousIdSigner(Protocol):
    """Anonymous visitor ids, handed out signed so a visitor cannot adopt someone else's."""

    def issue(self) -> str:
        """A new anonymous id, signed (the value to put in the visitor's cookie)."""
        ...

    def verify(self, signed: str) -> str:
        """The anonymous id inside ``signed``; ``NotAuthenticated(anonymous-id-invalid)`` if it
        was not signed by us or was altered."""
        ...


# --- rate limits --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RateDecision:
    allowed: bool
    remaining: int  # further hits allowed right now
    retry_after_seconds: int  # 0 when allowed; else whole seconds until one hit is allowed


class RateLimiter(Protocol):
    """At most ``limit`` hits per ``window_seconds`` per ``key``, spread evenly (a burst of
    ``limit`` is allowed, then one hit every ``window_seconds / limit``). A denied hit is not
    counted. Raises ``ValueError`` for a limit or window below 1."""

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> RateDecision: ...


# --- roles and authorization --------------------------------------------------------------------


class RoleResolver(Protocol):
    """The caller's roles on one resource, or ``None`` when the resource does not exist.

    Implemented over the database. What to return (the matrix relies on it):

    - creator: the user's ``Creator_User`` role; an API key principal is ``creator-owner`` of its
      own creator; plus ``authenticated``/``anonymous`` for user/anonymous principals (profiles
      are public).
    - source: the user's best membership role in any creator holding a share of the source.
    - chatbot: ``chatbot_role_for(membership, Chatbot_Creator.role)`` for every owning creator the
      user belongs to; ``authenticated``/``anonymous`` only if the chatbot is public and active.
    - conversation: ``conversation-owner`` if it is the user's, or it has no user and the
      principal's anonymous id started it; ``conversation-claimant`` too when that principal is a
      signed-in user.
    - purchase: ``purchaser`` for the buyer. enterprise: the ``Enterprise_User`` role.
    - user: ``account-holder`` for oneself.

    Never add ``operator``: the authorizer adds it from the principal. API keys never get
    ``authenticated``/``anonymous`` (they are not people)."""

    async def roles_on(self, principal: Principal, resource: Resource) -> frozenset[Role] | None: ...


class Authorizer(Protocol):
    """What use cases call before acting."""

    async def require(self, principal: Principal, action: Action, resource: Resource) -> None:
        """Return if allowed. Else raise ``NotFound`` when the caller may not even see the
        resource (or it does not exist), ``NotAuthenticated(login-required)`` when an anonymous
        visitor would be allowed after signing in, ``PermissionDenied`` otherwise."""
        ...

    async def allows(self, principal: Principal, action: Action, resource: Resource) -> bool: ...

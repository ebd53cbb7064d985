"""Identity: who is calling (tokens, API keys, anonymous ids), what they may do, rate limits."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide
from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.identity.anonymous_ids import HmacAnonymousIdSigner
from adapters.identity.api_key_hasher import HmacApiKeyHasher
from adapters.identity.jwt_verifier import JwksTokenVerifier
from adapters.identity.local_issuer import LocalTokenIssuer
from adapters.persistence.repositories.audit import SqlAuditLog
from adapters.persistence.repositories.identity import (
    SqlAnonymousActivity,
    SqlApiKeyRegistry,
    SqlApiKeyStore,
    SqlUserMirror,
)
from adapters.persistence.repositories.roles import SqlRoleResolver
from adapters.ratelimit.memory_limiter import InMemoryRateLimiter
from adapters.ratelimit.redis_limiter import RedisRateLimiter
from application.identity.api_keys import ApiKeyAuthenticator
from application.identity.authenticate import ApiKeyUsage, Authenticate, Credentials, UserMirror
from application.identity.authorizer import MatrixAuthorizer
from application.identity.claim_anonymous_activity import AnonymousActivity, ClaimAnonymousActivity
from application.identity.create_api_key import CreateApiKey
from application.identity.key_ports import ApiKeyRegistry
from application.identity.list_api_keys import ListApiKeys
from application.identity.ports import (
    AnonymousIdSigner,
    ApiKeyHasher,
    ApiKeyStore,
    Authorizer,
    RateLimiter,
    RoleResolver,
    TokenVerifier,
)
from application.identity.principal import Principal
from application.identity.revoke_api_key import RevokeApiKey
from application.ports.audit import AuditLog
from application.ports.clock import Clock
from entrypoints.observability import request_id_var
from entrypoints.settings import Settings

ANONYMOUS_HEADER = "x-canon-anonymous-id"
ANONYMOUS_COOKIE = "canon_anon"
API_KEY_HEADER = "x-api-key"


def credentials_from(request: Request) -> Credentials:
    auth = request.headers.get("authorization", "")
    bearer = None
    if auth:
        scheme, _, value = auth.partition(" ")
        bearer = value.strip() if scheme.lower() == "bearer" else ""
    return Credentials(
        bearer_token=bearer,
        api_key=request.headers.get(API_KEY_HEADER) or None,
        signed_anonymous_id=request.headers.get(ANONYMOUS_HEADER)
        or request.cookies.get(ANONYMOUS_COOKIE)
        or None,
    )


class IdentityProvider(Provider):
    @provide(scope=Scope.APP)
    def local_issuer(self, settings: Settings, clock: Clock) -> LocalTokenIssuer:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return LocalTokenIssuer.from_data_dir(settings.data_dir, clock=clock)

    @provide(scope=Scope.APP)
    def verifier(self, settings: Settings, issuer: LocalTokenIssuer, clock: Clock) -> TokenVerifier:
        if settings.jwks_url:
            return JwksTokenVerifier.for_jwks_url(
                settings.jwks_url,
                issuer=settings.jwt_issuer,
                audiences=tuple(a for a in (settings.jwt_audience,) if a),
                authorized_parties=settings.jwt_authorized_parties,
                clock=clock,
            )
        return issuer.verifier()

    @provide(scope=Scope.APP)
    def anonymous_ids(self, settings: Settings) -> AnonymousIdSigner:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return HmacAnonymousIdSigner.from_data_dir(settings.data_dir)

    @provide(scope=Scope.APP)
    def api_key_hasher(self, settings: Settings) -> ApiKeyHasher:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return HmacApiKeyHasher.from_data_dir(settings.data_dir)

    @provide(scope=Scope.APP)
    async def rate_limiter(self, settings: Settings) -> AsyncIterator[RateLimiter]:
        if settings.rate_limit_backend == "redis":
            limiter = RedisRateLimiter.from_url(settings.redis_url)
            yield limiter
            await limiter.aclose()
        else:
            yield InMemoryRateLimiter()

    user_mirror = provide(SqlUserMirror, scope=Scope.REQUEST, provides=UserMirror)
    role_resolver = provide(SqlRoleResolver, scope=Scope.REQUEST, provides=RoleResolver)

    @provide(scope=Scope.REQUEST)
    def api_key_store(self, session: AsyncSession) -> SqlApiKeyStore:
        return SqlApiKeyStore(session)

    @provide(scope=Scope.REQUEST)
    def api_key_store_port(self, store: SqlApiKeyStore) -> ApiKeyStore:
        return store

    @provide(scope=Scope.REQUEST)
    def api_key_usage(self, store: SqlApiKeyStore) -> ApiKeyUsage:
        return store

    @provide(scope=Scope.REQUEST)
    def api_key_authenticator(
        self, store: ApiKeyStore, hasher: ApiKeyHasher, clock: Clock
    ) -> ApiKeyAuthenticator:
        return ApiKeyAuthenticator(store, hasher, clock)

    authorizer = provide(MatrixAuthorizer, scope=Scope.REQUEST, provides=Authorizer)
    api_key_registry = provide(SqlApiKeyRegistry, scope=Scope.REQUEST, provides=ApiKeyRegistry)
    create_api_key = provide(CreateApiKey, scope=Scope.REQUEST)
    list_api_keys = provide(ListApiKeys, scope=Scope.REQUEST)
    revoke_api_key = provide(RevokeApiKey, scope=Scope.REQUEST)
    anonymous_activity = provide(SqlAnonymousActivity, scope=Scope.REQUEST, provides=AnonymousActivity)
    claim_anonymous_activity = provide(ClaimAnonymousActivity, scope=Scope.REQUEST)

    @provide(scope=Scope.REQUEST)
    def audit_log(self, session: AsyncSession, clock: Clock) -> AuditLog:
        return SqlAuditLog(session, clock, request_id_var.get())

    authenticate = provide(Authenticate, scope=Scope.REQUEST)

    @provide(scope=Scope.REQUEST)
    async def principal(self, request: Request, authenticate: Authenticate) -> Principal:  # type: ignore[type-arg]
        """The caller of this request; 401 problem details when it presents no valid credentials."""
        cached = request.scope.get("state", {}).get("canon_principal")
        if isinstance(cached, Principal):
            return cached
        principal = await authenticate(credentials_from(request))
        request.scope.setdefault("state", {})["canon_principal"] = principal
        return principal

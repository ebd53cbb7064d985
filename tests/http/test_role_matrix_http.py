"""The role matrix, walked over HTTP: every operation of the API, called by every kind of caller.

``OPERATIONS`` names, for each route, the action it performs (the same ``Action`` the use case
checks) and how to fill its path and body. For each operation and each persona of the action's
resource kind, the expected decision comes from the matrix table (``is_allowed``) applied to the
persona's roles, which are written out here by hand; the resolver and the authorizer under test
are not asked. An allowed call must not be refused (401/403/hidden 404); a denied one must be.

A route that is not listed here, in ``OPEN`` or in ``SPECIAL`` fails the completeness test, so
a new operation cannot ship without its place in the matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.models import (
    Chatbot,
    ChatbotCreator,
    ChatbotVersion,
    Conversation,
    Creator,
    CreatorUser,
    EnterpriseSubscription,
    EnterpriseUser,
    Purchase,
    Source,
    SourceCreator,
)
from application.identity.permissions import (
    ACTION_RESOURCE,
    Action,
    ResourceKind,
    Role,
    chatbot_role_for,
    is_allowed,
)
from domain.ids import new_id

Client = AsyncTestClient[Litestar]
DENIAL_CODES = {
    "not-found",
    "permission-denied",
    "login-required",
    "credentials-missing",
    "api-key-scope-insufficient",
}


@dataclass(frozen=True)
class Op:
    method: str
    path: str  # a template with {creator_id}, {chatbot_id}, {source_id}, ...
    action: Action
    body: Callable[[dict[str, str]], Any] | None = None


OPERATIONS: list[Op] = [
    Op("GET", "/v1/creators/{creator_id}/api-keys", Action.CREATOR_MANAGE_API_KEYS),
    Op(
        "POST",
        "/v1/creators/{creator_id}/api-keys",
        Action.CREATOR_MANAGE_API_KEYS,
        body=lambda ids: {"name": "walk", "actions": ["creator.view"]},
    ),
    Op("DELETE", "/v1/creators/{creator_id}/api-keys/{key_id}", Action.CREATOR_MANAGE_API_KEYS),
    # catalogue
    Op("POST", "/v1/creators", Action.CREATOR_CREATE, body=lambda ids: {"name": f"Walk {new_id()[-12:]}"}),
    Op("GET", "/v1/creators/{creator_id}", Action.CREATOR_VIEW),
    Op(
        "PATCH",
        "/v1/creators/{creator_id}",
        Action.CREATOR_UPDATE_PROFILE,
        body=lambda ids: {"bio": "walked"},
    ),
    Op(
        "POST",
        "/v1/creators/{creator_id}/members",
        Action.CREATOR_MANAGE_MEMBERS,
        body=lambda ids: {"user_id": ids["user_id"], "role": "MEMBER"},
    ),
    Op(
        "PATCH",
        "/v1/creators/{creator_id}/members/{user_id}",
        Action.CREATOR_MANAGE_MEMBERS,
        body=lambda ids: {"role": "MEMBER"},
    ),
    Op("DELETE", "/v1/creators/{creator_id}/members/{user_id}", Action.CREATOR_MANAGE_MEMBERS),
    Op(
        "POST",
        "/v1/creators/{creator_id}/sources",
        Action.SOURCE_CREATE,
        body=lambda ids: {"title": "Walked", "type": "BOOK"},
    ),
    Op("GET", "/v1/creators/{creator_id}/sources", Action.SOURCE_CREATE),
    Op("GET", "/v1/sources/{source_id}", Action.SOURCE_VIEW),
    Op(
        "PUT",
        "/v1/sources/{source_id}/shares",
        Action.SOURCE_CHANGE_SHARES,
        body=lambda ids: {"shares": {ids["creator_id"]: "1"}},
    ),
    Op("POST", "/v1/sources/{source_id}/files", Action.SOURCE_UPLOAD_FILE),
    Op("GET", "/v1/sources/{source_id}/files/{file_id}", Action.SOURCE_VIEW),
    Op("POST", "/v1/sources/{source_id}/files/{file_id}/retry", Action.SOURCE_UPDATE),
    Op("POST", "/v1/chatbots/{chatbot_id}/conversations", Action.CONVERSATION_START, body=lambda ids: {}),
    Op("GET", "/v1/conversations/{conversation_id}", Action.CONVERSATION_VIEW),
    Op(
        "POST",
        "/v1/conversations/{conversation_id}/messages",
        Action.CONVERSATION_SEND_MESSAGE,
        body=lambda ids: {"content": "What is remarkable?"},
    ),
    Op(
        "POST",
        "/v1/conversations/{conversation_id}/messages/stream",
        Action.CONVERSATION_SEND_MESSAGE,
        body=lambda ids: {"content": "What is remarkable?"},
    ),
    Op(
        "POST",
        "/v1/conversations/{conversation_id}/files",
        Action.CONVERSATION_SEND_MESSAGE,
        body=lambda ids: {"file_id": ids["key_id"]},
    ),
    Op("POST", "/v1/conversations/{conversation_id}/archive", Action.CONVERSATION_ARCHIVE),
    # money
    Op("POST", "/v1/chatbots/{chatbot_id}/checkout", Action.PURCHASE_CREATE, body=lambda ids: {}),
    Op(
        "POST",
        "/v1/purchases/{purchase_id}/refunds",
        Action.PURCHASE_REFUND,
        body=lambda ids: {"request_key": f"walk-{new_id()}"},
    ),
    Op("GET", "/v1/creators/{creator_id}/statements/2026-11", Action.REVENUE_VIEW_STATEMENTS),
    Op("POST", "/v1/attribution/run", Action.ATTRIBUTION_RUN, body=lambda ids: {}),
    Op("POST", "/v1/payouts/run", Action.PAYOUT_RUN, body=lambda ids: {}),
    Op(
        "PUT",
        "/v1/creators/{creator_id}/payout-account",
        Action.CREATOR_MANAGE_PAYOUT_ACCOUNT,
        body=lambda ids: {"external_account_id": "acct_walk"},
    ),
]

# Open to every caller, or to none in particular (identity plumbing).
OPEN: set[tuple[str, str]] = {
    ("POST", "/v1/anonymous-ids"),
    ("GET", "/v1/me"),
    ("GET", "/v1/me/creators"),  # the caller's own memberships only
}
# Authorized by something other than a role on a resource, with tests of their own.
SPECIAL: dict[tuple[str, str], str] = {
    ("POST", "/v1/me/claim"): "needs the signed anonymous id; tests/http/test_claim_http.py",
    ("GET", "/v1/conversations"): "scoped to the caller; tests/http/test_conversations_http.py",
    ("POST", "/v1/webhooks/{processor}"): (
        "authenticated by the processor's signature on the raw body; tests/http/test_money_webhooks_http.py"
    ),
}


@dataclass
class Persona:
    name: str
    headers: dict[str, str]
    roles: frozenset[Role]


@dataclass
class World:
    ids: dict[str, str] = field(default_factory=dict)
    personas: dict[ResourceKind, list[Persona]] = field(default_factory=dict)


def _normalise(path: str) -> str:
    """Litestar's ``{name:type}`` placeholders -> ``{name}``."""
    out, depth, name = [], 0, ""
    for ch in path:
        if ch == "{":
            depth, name = 1, ""
        elif ch == "}" and depth:
            out.append("{" + name.split(":")[0] + "}")
            depth = 0
        elif depth:
            name += ch
        else:
            out.append(ch)
    return "".join(out)


def api_routes(app: Litestar) -> set[tuple[str, str]]:
    routes: set[tuple[str, str]] = set()
    for route in app.routes:
        if not route.path.startswith("/v1/"):
            continue
        for method in getattr(route, "methods", set()):
            if method not in ("HEAD", "OPTIONS"):
                routes.add((method, _normalise(route.path)))
    return routes


async def build_world(client: Client, sign_in: Any, engine: AsyncEngine) -> World:
    """One of each resource, and one persona per relationship a caller can have to it."""
    w = World()
    users: dict[str, dict[str, str]] = {}
    for name in ("owner", "admin", "member", "stranger", "co", "contributor", "buyer", "eadmin", "emember"):
        users[name] = await sign_in(f"{name}@walk.example")
    operator = await sign_in("operator@walk.example", operator=True)
    anonymous = {"X-Canon-Anonymous-Id": (await client.post("/v1/anonymous-ids")).json()["anonymous_id"]}
    client.cookies.clear()
    anon_id = (await client.get("/v1/me", headers=anonymous)).json()["anonymous_id"]
    uid = {k: v["x-test-user-id"] for k, v in users.items()}

    creator, co_creator, contrib_creator = new_id(), new_id(), new_id()
    source, chatbot, version = new_id(), new_id(), new_id()
    conversation, purchase, enterprise = new_id(), new_id(), new_id()
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        for cid, slug in ((creator, "walk-a"), (co_creator, "walk-b"), (contrib_creator, "walk-c")):
            await conn.execute(Creator.__table__.insert().values(id=cid, name=slug, slug=slug))
        members = [
            (creator, "owner", "OWNER"),
            (creator, "admin", "ADMIN"),
            (creator, "member", "MEMBER"),
            (co_creator, "co", "OWNER"),
            (contrib_creator, "contributor", "OWNER"),
        ]
        for cid, who, role in members:
            await conn.execute(
                CreatorUser.__table__.insert().values(
                    id=new_id(), creator_id=cid, user_id=uid[who], role=role
                )
            )
        await conn.execute(
            Source.__table__.insert().values(
                id=source, title="Walk", type="BOOK", created_by_user_id=uid["owner"]
            )
        )
        await conn.execute(
            SourceCreator.__table__.insert().values(
                id=new_id(),
                source_id=source,
                creator_id=creator,
                added_by_user_id=uid["owner"],
                revenue_share="1.0000",
            )
        )
        common = {
            "title": "Walk bot",
            "system_prompt": "p",
            "model_provider": "offline",
            "model_name": "extractive",
            "pinecone_ns": "ns",
            "vector_namespace": "ns",
            "price_cents": 500,
            "currency": "USD",
            "type": "FRAMEWORK",
        }
        await conn.execute(
            Chatbot.__table__.insert().values(
                id=chatbot, slug="walk-bot", is_public=True, is_active=True, **common
            )
        )
        await conn.execute(
            ChatbotVersion.__table__.insert().values(
                id=version,
                chatbot_id=chatbot,
                version_number=1,
                created_by_user_id=uid["owner"],
                activated_at=now,
                **common,
            )
        )
        await conn.execute(
            Chatbot.__table__.update().where(Chatbot.id == chatbot).values(current_version_id=version)
        )
        for cid, role in (
            (creator, "PRIMARY_OWNER"),
            (co_creator, "CO_OWNER"),
            (contrib_creator, "CONTRIBUTOR"),
        ):
            await conn.execute(
                ChatbotCreator.__table__.insert().values(
                    id=new_id(), chatbot_id=chatbot, creator_id=cid, role=role
                )
            )
        await conn.execute(
            Purchase.__table__.insert().values(
                id=purchase,
                purchaser_user_id=uid["buyer"],
                chatbot_id=chatbot,
                payment_processor="SANDBOX",
                external_payment_id=f"pay_{purchase}",
                processing_fee_cents=45,
                currency="USD",
                amount_cents=500,
                net_amount_cents=455,
                status="COMPLETED",
            )
        )
        await conn.execute(
            Conversation.__table__.insert().values(
                id=conversation,
                chatbot_id=chatbot,
                chatbot_version_id=version,
                user_id=uid["buyer"],
                message_allowance=20,
                expires_at=now + timedelta(days=1),
                purchase_id=purchase,
            )
        )
        await conn.execute(
            EnterpriseSubscription.__table__.insert().values(
                id=enterprise,
                company_name="Walk Inc",
                seats=5,
                amount_cents=100_000,
                currency="USD",
                starts_at=now,
                ends_at=now + timedelta(days=30),
                status="ACTIVE",
                stripe_subscription_id="sub_walk",
            )
        )
        for who, role in (("eadmin", "ADMIN"), ("emember", "MEMBER")):
            await conn.execute(
                EnterpriseUser.__table__.insert().values(
                    id=new_id(), subscription_id=enterprise, user_id=uid[who], role=role
                )
            )
    w.ids = {
        "creator_id": creator,
        "source_id": source,
        "chatbot_id": chatbot,
        "version_id": version,
        "conversation_id": conversation,
        "purchase_id": purchase,
        "subscription_id": enterprise,
        "user_id": uid["buyer"],
        "anonymous_id": anon_id,
        "key_id": new_id(),
        "file_id": new_id(),
    }
    auth, anon, opr = frozenset({Role.AUTHENTICATED}), frozenset({Role.ANONYMOUS}), frozenset({Role.OPERATOR})
    people = [
        Persona("stranger", users["stranger"], auth),
        Persona("operator", operator, auth | opr),
    ]
    w.personas[ResourceKind.PLATFORM] = [*people, Persona("anonymous", anonymous, anon)]
    w.personas[ResourceKind.CREATOR] = [
        Persona("owner", users["owner"], auth | {Role.CREATOR_OWNER}),
        Persona("admin", users["admin"], auth | {Role.CREATOR_ADMIN}),
        Persona("member", users["member"], auth | {Role.CREATOR_MEMBER}),
        *people,
        Persona("anonymous", anonymous, anon),
    ]
    w.personas[ResourceKind.SOURCE] = [
        Persona("owner", users["owner"], frozenset({Role.CREATOR_OWNER})),
        Persona("admin", users["admin"], frozenset({Role.CREATOR_ADMIN})),
        Persona("member", users["member"], frozenset({Role.CREATOR_MEMBER})),
        Persona("stranger", users["stranger"], frozenset()),
        Persona("operator", operator, opr),
        Persona("anonymous", anonymous, frozenset()),
    ]
    primary, co, contrib = Role.CHATBOT_PRIMARY_OWNER, Role.CHATBOT_CO_OWNER, Role.CHATBOT_CONTRIBUTOR
    w.personas[ResourceKind.CHATBOT] = [
        Persona("primary-owner", users["owner"], auth | {chatbot_role_for(Role.CREATOR_OWNER, primary)}),
        Persona("admin-of-primary", users["admin"], auth | {chatbot_role_for(Role.CREATOR_ADMIN, primary)}),
        Persona(
            "member-of-primary", users["member"], auth | {chatbot_role_for(Role.CREATOR_MEMBER, primary)}
        ),
        Persona("co-owner", users["co"], auth | {chatbot_role_for(Role.CREATOR_OWNER, co)}),
        Persona("contributor", users["contributor"], auth | {chatbot_role_for(Role.CREATOR_OWNER, contrib)}),
        *people,
        Persona("anonymous", anonymous, anon),
    ]
    w.personas[ResourceKind.CONVERSATION] = [
        Persona("conversation-owner", users["buyer"], frozenset({Role.CONVERSATION_OWNER})),
        Persona("stranger", users["stranger"], frozenset()),
        Persona("operator", operator, opr),
        Persona("anonymous", anonymous, frozenset()),
    ]
    w.personas[ResourceKind.PURCHASE] = [
        Persona("purchaser", users["buyer"], frozenset({Role.PURCHASER})),
        Persona("stranger", users["stranger"], frozenset()),
        Persona("operator", operator, opr),
    ]
    w.personas[ResourceKind.ENTERPRISE] = [
        Persona("enterprise-admin", users["eadmin"], frozenset({Role.ENTERPRISE_ADMIN})),
        Persona("enterprise-member", users["emember"], frozenset({Role.ENTERPRISE_MEMBER})),
        Persona("stranger", users["stranger"], frozenset()),
        Persona("operator", operator, opr),
    ]
    w.personas[ResourceKind.USER] = [
        Persona("account-holder", users["buyer"], frozenset({Role.ACCOUNT_HOLDER})),
        Persona("stranger", users["stranger"], frozenset()),
        Persona("operator", operator, opr),
    ]
    return w


def _template(path: str) -> str:
    """The route template an operation's path calls (literal path values back to their names)."""
    path = path.split("?")[0]
    return path.replace("/statements/2026-11", "/statements/{month}")


def area_listings() -> set[tuple[str, str]]:
    """Routes listed by the areas' own matrix walks (``test_<area>_matrix_http.py``), which walk
    their operations with this module's world: ``*_OPERATIONS``, ``*_OPEN`` and ``*_SPECIAL``."""
    import importlib.util
    import sys
    from pathlib import Path

    listed: set[tuple[str, str]] = set()
    for path in sorted(Path(__file__).parent.glob("test_*_matrix_http.py")):
        spec = importlib.util.spec_from_file_location(f"area_matrix_{path.stem}", path)
        assert spec is not None
        assert spec.loader is not None
        module = sys.modules.get(spec.name) or importlib.util.module_from_spec(spec)
        if spec.name not in sys.modules:
            sys.modules[spec.name] = module  # dataclasses look their module up while it loads
            spec.loader.exec_module(module)
        for name, value in vars(module).items():
            if name.endswith("_OPERATIONS"):
                listed |= {(op.method, op.path.split("?")[0]) for op in value}
            elif name.endswith(("_OPEN", "_SPECIAL")):
                listed |= set(value)
    return listed


async def test_every_api_route_has_its_place_in_the_matrix(app: Litestar) -> None:
    listed = {(op.method, _template(op.path)) for op in OPERATIONS} | OPEN | set(SPECIAL) | area_listings()
    missing = sorted(api_routes(app) - listed)
    assert not missing, f"routes with no action in the role-matrix walk: {missing}"
    stale = sorted(listed - api_routes(app))
    assert not stale, f"listed routes the app no longer has: {stale}"


async def test_every_operation_against_every_role(client: Client, sign_in: Any, engine: AsyncEngine) -> None:
    world = await build_world(client, sign_in, engine)
    wrong: list[str] = []
    calls = 0
    for op in OPERATIONS:
        kind = ACTION_RESOURCE[op.action]
        for persona in world.personas[kind]:
            path = op.path.format(**world.ids)
            body = op.body(world.ids) if op.body else None
            r = await client.request(op.method, path, headers=persona.headers, json=body)
            calls += 1
            code = (
                r.json().get("code")
                if r.headers.get("content-type", "").startswith("application/problem")
                else None
            )
            refused = r.status_code in (401, 403, 404) and code in DENIAL_CODES
            allowed = is_allowed(op.action, persona.roles)
            if allowed == refused or r.status_code >= 500:
                wrong.append(
                    f"{op.method} {op.path} as {persona.name}: "
                    f"expected {'allow' if allowed else 'deny'}, got {r.status_code} {code}"
                )
    assert calls >= len(OPERATIONS) * 3
    assert not wrong, "\n".join(wrong)

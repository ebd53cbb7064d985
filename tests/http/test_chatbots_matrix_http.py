"""The chatbot routes walked against the role matrix, with the shared walk's world and personas.

``CHATBOT_OPERATIONS`` / ``CHATBOT_OPEN`` / ``CHATBOT_SPECIAL`` are meant to be merged into the
lists of ``test_role_matrix_http.py``; until then this module walks them itself. Order matters:
an operation that hides the bot (unpublish, deactivate) is followed by the one that restores it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from application.identity.permissions import ACTION_RESOURCE, Action, is_allowed
from domain.ids import new_id

Client = AsyncTestClient[Litestar]


def _walk() -> ModuleType:
    name = "role_matrix_walk_for_chatbots"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).with_name("test_role_matrix_http.py")
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


walk = _walk()
Op = walk.Op
A = Action

CHATBOT_OPERATIONS: list[Any] = [
    Op(
        "POST",
        "/v1/creators/{creator_id}/chatbots",
        A.CHATBOT_CREATE,
        body=lambda ids: {"title": f"t {new_id()}"},
    ),
    Op("GET", "/v1/creators/{creator_id}/chatbots", A.CREATOR_VIEW),
    Op("GET", "/v1/chatbots/{chatbot_id}", A.CHATBOT_VIEW),
    Op("PATCH", "/v1/chatbots/{chatbot_id}", A.CHATBOT_UPDATE_CONFIG, body=lambda ids: {"notes": new_id()}),
    Op("GET", "/v1/chatbots/{chatbot_id}/versions", A.CHATBOT_VIEW_CONFIG),
    Op("GET", "/v1/chatbots/{chatbot_id}/diff?from=1&to=1", A.CHATBOT_VIEW_CONFIG),
    Op("POST", "/v1/chatbots/{chatbot_id}/rollback", A.CHATBOT_ROLLBACK, body=lambda ids: {"to_version": 1}),
    Op("POST", "/v1/chatbots/{chatbot_id}/unpublish", A.CHATBOT_PUBLISH),
    Op("POST", "/v1/chatbots/{chatbot_id}/publish", A.CHATBOT_PUBLISH),
    Op("POST", "/v1/chatbots/{chatbot_id}/deactivate", A.CHATBOT_SET_ACTIVE),
    Op("POST", "/v1/chatbots/{chatbot_id}/activate", A.CHATBOT_SET_ACTIVE),
    Op(
        "POST",
        "/v1/chatbots/{chatbot_id}/owners",
        A.CHATBOT_MANAGE_OWNERS,
        body=lambda ids: {"creator_id": ids["creator_id"], "role": "CO_OWNER"},
    ),
    Op(
        "PUT",
        "/v1/chatbots/{chatbot_id}/owners/{creator_id}",
        A.CHATBOT_MANAGE_OWNERS,
        body=lambda ids: {"role": "PRIMARY_OWNER"},
    ),
    Op("DELETE", "/v1/chatbots/{chatbot_id}/owners/{creator_id}", A.CHATBOT_MANAGE_OWNERS),
    Op(
        "PUT",
        "/v1/chatbots/{chatbot_id}/categories/{category_id}",
        A.CHATBOT_UPDATE_CONFIG,
        body=lambda ids: {"relevance": 0.5},
    ),
    Op("DELETE", "/v1/chatbots/{chatbot_id}/categories/{category_id}", A.CHATBOT_UPDATE_CONFIG),
    Op("PUT", "/v1/me/favorites/{chatbot_id}", A.CHATBOT_FAVORITE),
    Op("DELETE", "/v1/me/favorites/{chatbot_id}", A.CHATBOT_FAVORITE),
    Op(
        "POST",
        "/v1/chatbots/{chatbot_id}/reports",
        A.CHATBOT_REPORT,
        body=lambda ids: {"reason": "OTHER", "description": "walk"},
    ),
    Op("GET", "/v1/chatbots/{chatbot_id}/intake", A.CHATBOT_VIEW),
    Op(
        "POST",
        "/v1/chatbots/{chatbot_id}/intake/questions",
        A.CHATBOT_UPDATE_CONFIG,
        body=lambda ids: {"slug": f"q-{new_id()[-12:]}", "text": "Why?", "type": "TEXT"},
    ),
    Op(
        "POST",
        "/v1/conversations/{conversation_id}/rating",
        A.CONVERSATION_GIVE_FEEDBACK,
        body=lambda ids: {"stars": 5},
    ),
]
CHATBOT_OPEN: set[tuple[str, str]] = {
    ("GET", "/v1/chatbots"),
    ("GET", "/v1/categories"),
    ("GET", "/v1/chatbots/{chatbot_id}/json-ld"),
}
CHATBOT_SPECIAL: dict[tuple[str, str], str] = {
    ("GET", "/v1/me/favorites"): "the caller's own account; tests/http/test_chatbots_discovery_http.py",
    ("POST", "/v1/chatbots/{chatbot_id}/intake/answers"): (
        "chatbot.view AND a signed-in user (answers become the user's context); "
        "tests/http/test_chatbots_intake_http.py"
    ),
}


async def test_every_chatbot_route_is_listed(app: Litestar) -> None:
    from entrypoints.http.routes import chatbots

    mine = {
        (method, walk._normalise(path))
        for handler in chatbots.all_handlers()
        for path in handler.paths
        for method in handler.http_methods
    }
    assert mine <= walk.api_routes(app)
    listed = (
        {(op.method, op.path.split("?")[0]) for op in CHATBOT_OPERATIONS}
        | CHATBOT_OPEN
        | set(CHATBOT_SPECIAL)
    )
    assert mine == listed


async def test_chatbot_operations_against_every_role(
    client: Client, sign_in: Any, engine: AsyncEngine
) -> None:
    world = await walk.build_world(client, sign_in, engine)
    world.ids["category_id"] = new_id()  # no such category: an allowed call is a 409, not a refusal
    wrong: list[str] = []
    for op in CHATBOT_OPERATIONS:
        for persona in world.personas[ACTION_RESOURCE[op.action]]:
            body = op.body(world.ids) if op.body else None
            r = await client.request(
                op.method, op.path.format(**world.ids), headers=persona.headers, json=body
            )
            problem = r.headers.get("content-type", "").startswith("application/problem")
            code = r.json().get("code") if problem else None
            refused = r.status_code in (401, 403, 404) and code in walk.DENIAL_CODES
            allowed = is_allowed(op.action, persona.roles)
            if allowed == refused or r.status_code >= 500:
                wrong.append(
                    f"{op.method} {op.path} as {persona.name}: allowed={allowed}, got {r.status_code} {code}"
                )
    assert not wrong, "\n".join(wrong)

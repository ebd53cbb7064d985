"""Conversations over HTTP on SQLite and PostgreSQL: open, stream (SSE), answer as JSON, read,
list with cursors, refusals as problem details, anonymous trials and archive."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from application.retrieval.ports import VectorIndex

if TYPE_CHECKING:
    from tests.application.conversations.chat_turn_rig import ChatRig, Seeded
else:
    _path = Path(__file__).resolve().parents[1] / "application" / "conversations" / "chat_turn_rig.py"
    if "chat_turn_rig" not in sys.modules:
        _spec = importlib.util.spec_from_file_location("chat_turn_rig", _path)
        assert _spec is not None
        assert _spec.loader is not None
        sys.modules["chat_turn_rig"] = importlib.util.module_from_spec(_spec)
        _spec.loader.exec_module(sys.modules["chat_turn_rig"])
    ChatRig = sys.modules["chat_turn_rig"].ChatRig
    Seeded = sys.modules["chat_turn_rig"].Seeded

Client = AsyncTestClient[Litestar]
QUESTION = {"content": "Why is a purple cow remarkable?"}


@pytest.fixture
async def seeded(
    app: Litestar, client: Client, engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
) -> Seeded:
    index = await app.state.dishka_container.get(VectorIndex)
    rig = ChatRig(engine, session_factory, model=None, index=index)  # type: ignore[arg-type]
    return await rig.seed(message_allowance=2, allow_anonymous=True)


def parse_sse(body: str) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    for block in body.split("\r\n\r\n" if "\r\n\r\n" in body else "\n\n"):
        name, data = None, []
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data.append(line[len("data: ") :])
        if name:
            events.append((name, json.loads("\n".join(data))))
    return events


async def test_open_stream_answer_read_and_run_out(client: Client, sign_in: Any, seeded: Seeded) -> None:
    headers = await sign_in("reader@example.com")
    r = await client.post(f"/v1/chatbots/{seeded.chatbot_id}/conversations", json={}, headers=headers)
    assert r.status_code == 201, r.text
    conversation = r.json()
    assert (conversation["status"], conversation["messages_remaining"]) == ("ACTIVE", 2)
    cid = conversation["id"]

    r = await client.post(f"/v1/conversations/{cid}/messages/stream", json=QUESTION, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(r.text)
    names = [name for name, _ in events]
    assert names[0] == "token"
    assert "citation" in names
    assert names[-1] == "done"
    done = events[-1][1]
    assert done["content"] == "".join(data["text"] for name, data in events if name == "token")
    assert done["attribution"]["sourcesUsed"]
    assert done["messages_remaining"] == 1

    r = await client.post(f"/v1/conversations/{cid}/messages", json=QUESTION, headers=headers)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert (answer["status"], answer["messages_remaining"]) == ("COMPLETED", 0)
    assert answer["citations"]
    assert all(c["chunk_id"] in seeded.chunk_ids for c in answer["citations"])

    r = await client.post(f"/v1/conversations/{cid}/messages", json=QUESTION, headers=headers)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "conversation-completed"

    r = await client.get(f"/v1/conversations/{cid}", params={"limit": 3}, headers=headers)
    assert r.status_code == 200
    detail = r.json()
    assert [m["role"] for m in detail["messages"]] == ["USER", "AI", "USER"]
    assert detail["messages"][1]["attribution"]["model"] == "extractive-v1"
    r = await client.get(
        f"/v1/conversations/{cid}", params={"cursor": detail["next_cursor"]}, headers=headers
    )
    assert [m["role"] for m in r.json()["messages"]] == ["AI"]
    assert r.json()["next_cursor"] is None


async def test_refusals_are_problem_details(client: Client, sign_in: Any, seeded: Seeded) -> None:
    owner = await sign_in("owner@example.com")
    stranger = await sign_in("stranger@example.com")
    cid = (
        await client.post(f"/v1/chatbots/{seeded.chatbot_id}/conversations", json={}, headers=owner)
    ).json()["id"]
    r = await client.post(f"/v1/conversations/{cid}/messages", json=QUESTION, headers=stranger)
    assert r.status_code == 404
    r = await client.post(f"/v1/conversations/{cid}/messages", json={"content": ""}, headers=owner)
    assert r.status_code == 422
    r = await client.get("/v1/conversations", params={"cursor": "***"}, headers=owner)
    assert r.status_code == 422
    r = await client.post(f"/v1/conversations/{cid}/archive", headers=owner)
    assert r.status_code == 200
    assert r.json()["status"] == "ARCHIVED"
    r = await client.post(f"/v1/conversations/{cid}/messages/stream", json=QUESTION, headers=owner)
    assert r.status_code == 409
    assert r.json()["code"] == "conversation-archived"


async def test_anonymous_trial_and_scoped_lists(client: Client, sign_in: Any, seeded: Seeded) -> None:
    anon = {"X-Canon-Anonymous-Id": (await client.post("/v1/anonymous-ids")).json()["anonymous_id"]}
    r = await client.post(f"/v1/chatbots/{seeded.chatbot_id}/conversations", json={}, headers=anon)
    assert r.status_code == 201, r.text
    anon_cid = r.json()["id"]
    r = await client.post(f"/v1/conversations/{anon_cid}/messages", json=QUESTION, headers=anon)
    assert r.status_code == 200, r.text

    user = await sign_in("lister@example.com")
    mine = [
        (await client.post(f"/v1/chatbots/{seeded.chatbot_id}/conversations", json={}, headers=user)).json()[
            "id"
        ]
        for _ in range(3)
    ]
    r = await client.get("/v1/conversations", params={"limit": 2}, headers=user)
    page = r.json()
    assert [c["id"] for c in page["items"]] == mine[::-1][:2]
    r = await client.get(
        "/v1/conversations", params={"limit": 2, "cursor": page["next_cursor"]}, headers=user
    )
    assert [c["id"] for c in r.json()["items"]] == [mine[0]]
    r = await client.get("/v1/conversations", headers=anon)
    assert [c["id"] for c in r.json()["items"]] == [anon_cid]

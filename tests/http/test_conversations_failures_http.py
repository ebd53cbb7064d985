"""A failing model over HTTP: the stream ends with one `error` event, the JSON answer is 502,
and the message is given back both times (SQLite and PostgreSQL)."""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.persistence.models import Message
from application.retrieval.ports import VectorIndex

if TYPE_CHECKING:
    from tests.application.conversations.chat_turn_rig import ChatRig
else:
    _path = Path(__file__).resolve().parents[1] / "application" / "conversations" / "chat_turn_rig.py"
    if "chat_turn_rig" not in sys.modules:
        _spec = importlib.util.spec_from_file_location("chat_turn_rig", _path)
        assert _spec is not None
        assert _spec.loader is not None
        sys.modules["chat_turn_rig"] = importlib.util.module_from_spec(_spec)
        _spec.loader.exec_module(sys.modules["chat_turn_rig"])
    ChatRig = sys.modules["chat_turn_rig"].ChatRig


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "llm_provider": "openai",
        "openai_api_key": "test-key",
        "openai_base_url": f"http://127.0.0.1:{_closed_port()}/v1",
        "llm_timeout_seconds": 2.0,
    }


async def test_a_failed_answer_consumes_nothing(
    app: Litestar,
    client: AsyncTestClient[Litestar],
    sign_in: Any,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    index = await app.state.dishka_container.get(VectorIndex)
    seeded = await ChatRig(engine, session_factory, model=None, index=index).seed(message_allowance=1)  # type: ignore[arg-type]
    headers = await sign_in("unlucky@example.com")
    cid = (
        await client.post(f"/v1/chatbots/{seeded.chatbot_id}/conversations", json={}, headers=headers)
    ).json()["id"]
    body = {"content": "Why is a purple cow remarkable?"}

    r = await client.post(f"/v1/conversations/{cid}/messages/stream", json=body, headers=headers)
    assert r.status_code == 200
    blocks = [b for b in r.text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    assert len(blocks) == 1
    assert "event: error" in blocks[0]
    error = json.loads(blocks[0].split("data: ", 1)[1])
    assert error["code"] == "llm-unavailable"

    r = await client.post(f"/v1/conversations/{cid}/messages", json=body, headers=headers)
    assert r.status_code == 502
    assert r.json()["code"] == "llm-unavailable"

    r = await client.get(f"/v1/conversations/{cid}", headers=headers)
    assert (r.json()["conversation"]["status"], r.json()["conversation"]["messages_used"]) == ("ACTIVE", 0)
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(Message)) == 0

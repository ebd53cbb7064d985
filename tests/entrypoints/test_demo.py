"""The demo: loads on the embedded default (SQLite, embedded Qdrant on disk, lexical embedder,
extractive answers), twice without duplicating anything, and a freshly started app answers a
question from the project's own docs with citations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from litestar.testing import AsyncTestClient

from adapters.persistence.migrate import upgrade
from entrypoints.demo import CHATBOT_SLUG, demo_documents, load_demo
from entrypoints.runtime import build_http_app
from entrypoints.settings import load_settings


async def test_demo_loads_once_and_answers_with_citations(tmp_path: Path) -> None:
    settings = load_settings({}, data_dir=tmp_path)
    await upgrade(settings.effective_database_url)
    first = await load_demo(settings)
    second = await load_demo(settings)
    assert "canon-docs" in first
    assert "bought a conversation" in first
    assert "bought conversation" in second
    assert first.splitlines()[:3] == second.splitlines()[:3]
    db = sqlite3.connect(tmp_path / "canon.db")
    statuses = db.execute("select status from file").fetchall()
    assert len(statuses) == len(demo_documents())
    assert {s for (s,) in statuses} == {"READY"}
    assert db.execute("select count(*) from chunk").fetchone()[0] > 20
    assert db.execute("select count(*) from chatbot where slug = ?", (CHATBOT_SLUG,)).fetchone()[0] == 1
    # one sandbox purchase, completed through the signed webhook, with its conversation open
    assert db.execute("select status, amount_cents, processing_fee_cents from purchase").fetchall() == [
        ("COMPLETED", 500, 45)
    ]
    assert db.execute("select count(*) from conversation where purchase_id is not null").fetchone()[0] == 1

    # a new process: the vectors come back from disk
    async with AsyncTestClient(build_http_app(settings)) as client:
        anon = (await client.post("/v1/anonymous-ids")).json()["anonymous_id"]
        headers = {"X-Canon-Anonymous-Id": anon}
        bot = (await client.get(f"/v1/chatbots/{CHATBOT_SLUG}")).json()
        opened = await client.post(f"/v1/chatbots/{bot['id']}/conversations", headers=headers)
        assert opened.status_code == 201, opened.text
        conversation = opened.json()["id"]
        r = await client.post(
            f"/v1/conversations/{conversation}/messages",
            json={"content": "How is a purchase split between sources and co-creators?"},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        answer = r.json()
    assert answer["citations"], answer
    assert "extractive" in answer["content"]
    assert answer["attribution"]["sourcesUsed"]

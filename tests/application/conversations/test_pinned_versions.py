"""The per-process cache of pinned versions' configs: read once, then from memory; bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from application.conversations.pinned_versions import PinnedVersions
from domain.chatbots import ChatbotConfig, ChatbotType, RagSettings, VersionHistory
from domain.money import Money

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def config(title: str) -> ChatbotConfig:
    return ChatbotConfig(
        title=title,
        system_prompt="Answer from the sources.",
        model_provider="scripted",
        model_name="scripted",
        price=Money.of(0, "USD"),
        type=ChatbotType.CREATOR,
        rag=RagSettings.selected(["s1"], top_k=4),
        message_allowance=5,
        expiry=timedelta(days=1),
    )


class CountingVersions:
    """The one method of ``ChatbotRepository`` the cache uses, counting reads."""

    def __init__(self) -> None:
        self.versions: dict[str, Any] = {}
        self.reads: list[str] = []

    def publish(self, title: str) -> str:
        version = VersionHistory("bot").publish(config(title), at=T0, by="u1").version
        self.versions[version.id] = version
        return str(version.id)

    async def get_version(self, version_id: str) -> Any:
        self.reads.append(version_id)
        return self.versions.get(version_id)


async def test_a_config_is_read_once_then_served_from_memory() -> None:
    chatbots = CountingVersions()
    first = chatbots.publish("First")
    cache = PinnedVersions()
    found = [await cache.config_of(first, chatbots) for _ in range(3)]  # type: ignore[arg-type]
    assert [c.title for c in found if c is not None] == ["First"] * 3
    assert chatbots.reads == [first]


async def test_an_unknown_version_is_not_remembered() -> None:
    chatbots = CountingVersions()
    cache = PinnedVersions()
    assert await cache.config_of("missing", chatbots) is None  # type: ignore[arg-type]
    assert await cache.config_of("missing", chatbots) is None  # type: ignore[arg-type]
    assert chatbots.reads == ["missing", "missing"]
    assert len(cache) == 0


async def test_the_least_recently_used_config_goes_first() -> None:
    chatbots = CountingVersions()
    a, b, c = (chatbots.publish(t) for t in ("A", "B", "C"))
    cache = PinnedVersions(capacity=2)
    for version_id in (a, b, a, c):  # b is the least recently used when c arrives
        await cache.config_of(version_id, chatbots)  # type: ignore[arg-type]
    chatbots.reads.clear()
    await cache.config_of(a, chatbots)  # type: ignore[arg-type]
    await cache.config_of(b, chatbots)  # type: ignore[arg-type]
    assert chatbots.reads == [b]
    assert len(cache) == 2


def test_the_capacity_is_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        PinnedVersions(capacity=0)

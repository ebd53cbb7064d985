"""The configs of the chatbot versions conversations are pinned to, kept per process.

Why caching is safe: versions are append-only (``ChatbotRepository``): a version's config is
written once and never changes afterwards; only its ``deactivated_at`` is set later, and a chat
turn does not look at it (a conversation keeps answering from its version after a newer one is
published). So a config read once stays true for as long as the process lives, and every
process may keep its own copy. Only the config is kept, never the version (whose
``deactivated_at`` could be stale). The cache is bounded: the least recently used go first.

Why: every chat turn needs its version's config (prompt, retrieval scope, caps); reading and
mapping the version row is a round trip and a few dozen validated fields on every message.
"""

from __future__ import annotations

from collections import OrderedDict

from application.chatbots.ports import ChatbotRepository
from domain.chatbots import ChatbotConfig

DEFAULT_CAPACITY = 4096


class PinnedVersions:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self._capacity = capacity
        self._configs: OrderedDict[str, ChatbotConfig] = OrderedDict()

    async def config_of(self, version_id: str, chatbots: ChatbotRepository) -> ChatbotConfig | None:
        """The version's config, read through ``chatbots`` the first time; None if no such
        version exists (not remembered: it may be created later)."""
        config = self._configs.get(version_id)
        if config is not None:
            self._configs.move_to_end(version_id)
            return config
        version = await chatbots.get_version(version_id)
        if version is None:
            return None
        self._configs[version_id] = version.config
        if len(self._configs) > self._capacity:
            self._configs.popitem(last=False)
        return version.config

    def __len__(self) -> int:
        return len(self._configs)

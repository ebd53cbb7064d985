"""In-memory ``SourceDirectory``: the fake the chatbot use-case tests run on."""

from __future__ import annotations

from collections.abc import Collection, Mapping


class InMemorySourceDirectory:
    """``active`` maps creator ids to their active source ids; tests change it directly."""

    def __init__(self, active: Mapping[str, Collection[str]] | None = None) -> None:
        self.active: dict[str, set[str]] = {c: set(s) for c, s in (active or {}).items()}

    async def active_sources_by_creator(self, creator_ids: Collection[str]) -> Mapping[str, frozenset[str]]:
        return {c: frozenset(self.active[c]) for c in creator_ids if self.active.get(c)}

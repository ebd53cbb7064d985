"""Pure pieces of a chat turn: the prompt's parts, the history trimmed to a token budget, and the
``attribution`` / ``context`` documents stored with the answer (shapes of the seed's examples).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from application.chat.model_port import ChatTurn, Citation, ContextChunk
from application.conversations.chat_ports import AttachedFile, ContextEntry, SourceOwners, StoredMessage
from application.retrieval.ports import SearchHit
from domain.text.tokens import count_tokens

HISTORY_TOKEN_BUDGET = 2_000
HISTORY_MESSAGES = 20
FILE_TEXT_TOKEN_BUDGET = 4_000


def trim_history(
    messages: Sequence[StoredMessage], budget: int = HISTORY_TOKEN_BUDGET
) -> tuple[ChatTurn, ...]:
    """The newest turns that fit ``budget`` tokens, oldest first, starting with a user turn
    (a model reading an assistant turn first has lost the question it answered)."""
    kept: list[ChatTurn] = []
    used = 0
    for message in reversed(messages):
        if message.role == "SYSTEM" or not message.content.strip():
            continue
        cost = message.token_count or count_tokens(message.content)
        if used + cost > budget:
            break
        used += cost
        kept.append(ChatTurn(role="user" if message.role == "USER" else "assistant", content=message.content))
    kept.reverse()
    while kept and kept[0].role != "user":
        kept.pop(0)
    return tuple(kept)


def system_prompt(base: str, user_context: Sequence[ContextEntry], files: Sequence[AttachedFile]) -> str:
    """The version's system prompt, then what the user chose to tell us, then their files.
    Files are the user's own material, read directly: they are labelled so the model does not
    cite them as the creator's sources."""
    parts = [base.strip()]
    if user_context:
        lines = [f"- {entry.key}: {json.dumps(entry.value, ensure_ascii=False)}" for entry in user_context]
        parts.append("What the user has told us about themselves:\n" + "\n".join(lines))
    budget = FILE_TEXT_TOKEN_BUDGET
    for file in files:
        if not file.text or budget <= 0:
            parts.append(f"The user attached a file “{file.file_name}” ({file.mime_type}).")
            continue
        text = _clip(file.text, budget)
        budget -= count_tokens(text)
        parts.append(
            f"The user attached their own file “{file.file_name}” (not one of the numbered sources):\n{text}"
        )
    return "\n\n".join(part for part in parts if part)


def _clip(text: str, tokens: int) -> str:
    if count_tokens(text) <= tokens:
        return text
    words = text.split()
    low, high = 0, len(words)
    while low < high:  # the longest prefix of words that fits
        middle = (low + high + 1) // 2
        if count_tokens(" ".join(words[:middle])) <= tokens:
            low = middle
        else:
            high = middle - 1
    return " ".join(words[:low]) + " […]"


def context_chunks(hits: Sequence[SearchHit], owners: Mapping[str, SourceOwners]) -> tuple[ContextChunk, ...]:
    return tuple(
        ContextChunk(
            chunk_id=hit.chunk_id,
            source_id=hit.source_id,
            text=hit.text,
            source_title=owners[hit.source_id].title if hit.source_id in owners else None,
            creator_name=owners[hit.source_id].creator_name if hit.source_id in owners else None,
            page=hit.page,
            section=hit.section,
            chapter=hit.chapter,
            start_seconds=hit.start_seconds,
        )
        for hit in hits
    )


@dataclass(frozen=True, slots=True)
class SourceTokens:
    source_id: str
    tokens: int


def tokens_by_source(hits: Sequence[SearchHit]) -> list[SourceTokens]:
    """Each source's share of the context: the token counts of its chunks, in first-hit order."""
    totals: dict[str, int] = {}
    for hit in hits:
        totals[hit.source_id] = totals.get(hit.source_id, 0) + hit.token_count
    return [SourceTokens(source_id, tokens) for source_id, tokens in totals.items()]


def _citation_doc(hit: SearchHit, quote: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {"chunkId": hit.chunk_id, "text": quote if quote is not None else hit.text[:280]}
    if hit.page is not None:
        doc["page"] = hit.page
    if hit.start_seconds is not None:
        doc["timestamp"] = hit.start_seconds
    if hit.section:
        doc["section"] = hit.section
    return doc


def attribution(
    hits: Sequence[SearchHit], owners: Mapping[str, SourceOwners], citations: Sequence[Citation], model: str
) -> dict[str, Any]:
    """``sourcesUsed`` lists every source whose chunks were placed in the context (that is what
    revenue counts), with the citations the answer made of it."""
    by_id = {hit.chunk_id: hit for hit in hits}
    cited: dict[str, list[dict[str, Any]]] = {}
    seen: set[str] = set()
    for citation in citations:
        hit = by_id.get(citation.chunk_id)
        if hit is None or citation.chunk_id in seen:
            continue
        seen.add(citation.chunk_id)
        cited.setdefault(hit.source_id, []).append(_citation_doc(hit, citation.quote))
    sources: list[dict[str, Any]] = []
    for usage in tokens_by_source(hits):
        owner = owners.get(usage.source_id)
        sources.append(
            {
                "sourceId": usage.source_id,
                "creatorId": owner.creator_ids[0] if owner and owner.creator_ids else None,
                "creatorIds": list(owner.creator_ids) if owner else [],
                "tokenCount": usage.tokens,
                "chunkIds": [hit.chunk_id for hit in hits if hit.source_id == usage.source_id],
                "citations": cited.get(usage.source_id, []),
            }
        )
    return {
        "sourcesUsed": sources,
        "totalTokens": sum(source["tokenCount"] for source in sources),
        "model": model,
    }


def generation_context(
    hits: Sequence[SearchHit],
    user_context: Sequence[ContextEntry],
    files: Sequence[AttachedFile],
    *,
    top_k: int,
    source_count: int,
) -> dict[str, Any]:
    """The complete generation context (the seed's ``Message.context``): the analytics truth."""
    return {
        "chunks": [
            {
                "chunkId": hit.chunk_id,
                "sourceId": hit.source_id,
                "text": hit.text,
                "tokenCount": hit.token_count,
                "page": hit.page,
                "section": hit.section,
                "startSeconds": hit.start_seconds,
                "relevanceScore": hit.score,
            }
            for hit in hits
        ],
        "used": {entry.key: {"value": entry.value, "source": entry.source} for entry in user_context},
        "files": [{"fileId": f.file_id, "fileName": f.file_name} for f in files],
        "retrievalMetadata": {"topK": top_k, "sourceCount": source_count},
    }

"""What readers of the vector index may see: only chunks of files that are active and READY.

Why a filter: the index briefly holds vectors that must not answer: those of a file still being
ingested (written before the file may become READY) and those of a file just replaced (deleted
right after the commit that retired it). The database decides what is visible, in one commit
(see ``application.ingestion.store``), so every search is filtered by it; in steady state nothing
is filtered.

A reader asks the index for ``search_width(top_k)`` hits (twice ``top_k``, at most
``MAX_TOP_K``), so that while a source has two versions indexed the visible one still fills the
result, then keeps ``visible_hits``. Which files are searchable is read from the database
(``IngestionStore.searchable_file_ids``); a chat turn reads it in the same statement as the rest
of its prompt material (``PromptReader``), so the filter costs no query of its own there.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from application.retrieval.ports import MAX_TOP_K, SearchHit, check_top_k


def search_width(top_k: int) -> int:
    """How many hits to ask the raw index for, to keep ``top_k`` visible ones."""
    check_top_k(top_k)
    return min(MAX_TOP_K, top_k * 2)


def visible_hits(
    hits: Sequence[SearchHit], searchable_file_ids: Collection[str], top_k: int
) -> list[SearchHit]:
    """The best ``top_k`` of ``hits`` whose file is searchable, in rank order."""
    return [hit for hit in hits if hit.file_id in searchable_file_ids][:top_k]

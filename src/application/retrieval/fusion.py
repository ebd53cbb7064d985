"""Reciprocal rank fusion: one ranking out of several whose scores are not comparable.

A dense cosine (0.83) and a lexical BM25 sum (14.2) cannot be added or compared, but their
ranks can: a chunk near the top of either list is probably relevant, and one near the top of
both more so. RRF (Cormack, Clarke and Büttcher, 2009) scores each chunk by
``sum(1 / (k + rank))`` over the lists it appears in, ranks counted from 1. ``k`` damps the
weight of the very first places so one ranker's favourite does not drown agreement between
rankers; 60 is the value from the paper and the common default.
"""

from __future__ import annotations

from collections.abc import Sequence

RRF_K = 60


def candidate_pool(top_k: int) -> int:
    """How many candidates each ranking contributes before fusion.

    Fusing only the top_k of each list would drop a chunk ranked (top_k + 1) by both rankers,
    which fusion would have placed first; a few times top_k keeps such agreement visible while
    staying cheap.
    """
    return max(top_k * 4, 40)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], *, k: int = RRF_K, limit: int | None = None
) -> list[tuple[str, float]]:
    """Fuse rankings (each a sequence of ids, best first) into ``(id, score)`` pairs, best first.

    An id repeated within one ranking counts at its best rank only. Equal scores are ordered by
    id so the same input always gives the same output.
    """
    if k < 0:
        raise ValueError("k must not be negative")
    scores: dict[str, float] = {}
    for ranking in rankings:
        seen: set[str] = set()
        for position, item in enumerate(ranking, start=1):
            if item in seen:
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + position)
    fused = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))
    return fused if limit is None else fused[:limit]

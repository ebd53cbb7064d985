"""Retrieval latency of the embedded default, beside a brute-force NumPy floor.

    python -m benchmarks.retrieval                          # 5k, 20k and 50k chunks
    python -m benchmarks.retrieval --sizes 5000 --queries 50
    python -m benchmarks.retrieval --sizes 5000 --storage disk

For each size it generates a deterministic corpus (seeded pseudo-words with a Zipf-like
frequency curve and per-source topic words, so lexical scoring behaves as on real prose),
embeds it with the offline `LexicalEmbedder`, writes it to embedded Qdrant on disk and times
searches scoped to a chatbot's few sources, as chat does. The floor scores the very same sparse
vectors with vectorised NumPy (every stored term value visited, IDF applied, top-k taken): the
least time brute force over these vectors can take in this process, so the gap to it is the
embedded store's own overhead. It also reports how often both agree on the top k, and how long
reopening the store takes (embedded Qdrant loads every point at start-up).

Storage: embedded Qdrant searches the same in-memory structures whether or not it persists;
persistence adds one SQLite commit per written point (slow on a busy or slow disk: 1-10 ms a
point) and a full load at start-up. So by default the store is built without persistence
(``:memory:``) to keep the 50k run to a few minutes; ``--storage disk`` builds it on disk as the
application does and adds ingest throughput and reopen time measured on disk.

The corpus helpers (`generate_corpus`, `generate_queries`, `documents`, `embed_chunks`) are
reusable by other benchmarks. Numbers are for the machine it runs on; the closing sentence is
derived from them.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from adapters.embedding.lexical import LexicalEmbedder
from adapters.vectors.memory_index import InMemoryVectorIndex
from adapters.vectors.qdrant_index import MEMORY, QdrantVectorIndex
from application.retrieval.lexical import idf
from application.retrieval.ports import Embedding, IndexedChunk, SparseVector, VectorLayout

DEFAULT_SIZES = (5_000, 20_000, 50_000)
DEFAULT_SEED = 1729
VOCABULARY = 30_000
TOPIC_WORDS = 40
_SYLLABLES = [c + v for c in "bdfghjklmnprstvwz" for v in "aeiou"] + [
    "an",
    "el",
    "is",
    "or",
    "un",
    "ra",
    "ti",
]


# -- corpus -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CorpusChunk:
    chunk_id: str
    source_id: str
    file_id: str
    text: str
    token_count: int
    page: int
    section: str
    chapter: str


@dataclass(frozen=True, slots=True)
class BenchQuery:
    text: str
    source_ids: tuple[str, ...]


def vocabulary(size: int = VOCABULARY) -> list[str]:
    """Deterministic pronounceable pseudo-words, most frequent first (short words are common)."""
    words: list[str] = []
    seen: set[str] = set()
    n = len(_SYLLABLES)
    i = 0
    while len(words) < size:
        parts, k = [], i
        while True:
            parts.append(_SYLLABLES[k % n])
            k //= n
            if k == 0:
                break
        word = "".join(parts)
        if word not in seen:
            seen.add(word)
            words.append(word)
        i += 1
    return words


def generate_corpus(
    size: int, *, seed: int = DEFAULT_SEED, words_per_chunk: tuple[int, int] = (120, 320)
) -> list[CorpusChunk]:
    """`size` chunks spread over about one source per 400 chunks (books, episodes), three files per
    source. The same arguments always give the same corpus."""
    rng = np.random.default_rng(seed)
    vocab = vocabulary()
    ranks = np.arange(1, len(vocab) + 1, dtype=np.float64)
    weights = 1.0 / (ranks + 2.7) ** 1.07
    weights /= weights.sum()
    sources = max(3, size // 400)
    # Topic words sit in the mid-frequency band: frequent within a source, rare across the corpus.
    topics = [rng.choice(np.arange(500, 8000), size=TOPIC_WORDS, replace=False) for _ in range(sources)]
    lengths = rng.integers(words_per_chunk[0], words_per_chunk[1] + 1, size=size)
    drawn = rng.choice(len(vocab), size=int(lengths.sum()), p=weights)
    topical = rng.random(size=drawn.size) < 0.12
    chunks: list[CorpusChunk] = []
    offset = 0
    for i in range(size):
        source = i * sources // size
        n = int(lengths[i])
        ids = drawn[offset : offset + n].copy()
        mask = topical[offset : offset + n]
        ids[mask] = rng.choice(topics[source], size=int(mask.sum()))
        offset += n
        words = [vocab[j] for j in ids]
        sentences = [" ".join(words[k : k + 14]).capitalize() + "." for k in range(0, n, 14)]
        file_no = (i * sources * 3 // size) % 3
        chunks.append(
            CorpusChunk(
                chunk_id=f"chunk-{i:07d}",
                source_id=f"source-{source:04d}",
                file_id=f"file-{source:04d}-{file_no}",
                text=" ".join(sentences),
                token_count=n,
                page=1 + (i % 400) // 2,
                section=f"Section {1 + (i % 400) // 20}",
                chapter=f"Chapter {1 + (i % 400) // 80}",
            )
        )
    return chunks


def generate_queries(
    corpus: Sequence[CorpusChunk], count: int, *, seed: int = DEFAULT_SEED + 1, sources_per_chatbot: int = 3
) -> list[BenchQuery]:
    """Questions of three to six words taken from a chunk of a chatbot's sources, scoped to those
    sources (a chatbot answers from its own few sources, never the whole corpus)."""
    rng = np.random.default_rng(seed)
    all_sources = sorted({c.source_id for c in corpus})
    by_source: dict[str, list[CorpusChunk]] = {}
    for chunk in corpus:
        by_source.setdefault(chunk.source_id, []).append(chunk)
    queries: list[BenchQuery] = []
    for _ in range(count):
        picked = rng.choice(len(all_sources), size=min(sources_per_chatbot, len(all_sources)), replace=False)
        scope = tuple(sorted(all_sources[int(p)] for p in picked))
        pool = by_source[scope[int(rng.integers(len(scope)))]]
        words = pool[int(rng.integers(len(pool)))].text.rstrip(".").lower().replace(".", "").split()
        take = rng.choice(len(words), size=int(rng.integers(3, 7)), replace=False)
        queries.append(BenchQuery(text=" ".join(words[int(t)] for t in sorted(take)), source_ids=scope))
    return queries


@dataclass(frozen=True, slots=True)
class CorpusDocument:
    source_id: str
    file_id: str
    text: str


def documents(corpus: Sequence[CorpusChunk]) -> list[CorpusDocument]:
    """The corpus as whole files (chunk texts joined by blank lines, in order), for benchmarks
    that start from documents and chunk them themselves."""
    parts: dict[tuple[str, str], list[str]] = {}
    for chunk in corpus:
        parts.setdefault((chunk.source_id, chunk.file_id), []).append(chunk.text)
    return [
        CorpusDocument(source_id=s, file_id=f, text="\n\n".join(texts)) for (s, f), texts in parts.items()
    ]


def batches(items: Sequence[CorpusChunk], size: int) -> Iterator[Sequence[CorpusChunk]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def embed_chunks(chunks: Sequence[CorpusChunk], embedder: LexicalEmbedder) -> list[IndexedChunk]:
    embeddings = await embedder.embed_documents([c.text for c in chunks])
    return [
        IndexedChunk(
            chunk_id=c.chunk_id,
            source_id=c.source_id,
            file_id=c.file_id,
            text=c.text,
            token_count=c.token_count,
            page=c.page,
            section=c.section,
            chapter=c.chapter,
            embedding=e,
        )
        for c, e in zip(chunks, embeddings, strict=True)
    ]


# -- the NumPy floor ----------------------------------------------------------------------------------

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float32]


class SparseFloor:
    """The same sparse vectors as flat arrays (row of each stored value, its term, its weight):
    a search visits every stored value with vectorised NumPy, as brute force must."""

    def __init__(self) -> None:
        self._rows: list[Ints] = []
        self._terms: list[Ints] = []
        self._values: list[Floats] = []
        self.ids: list[str] = []
        self._sources: list[str] = []

    def add(self, chunks: Sequence[IndexedChunk]) -> None:
        for chunk in chunks:
            sparse = chunk.embedding.sparse
            assert sparse is not None
            row = len(self.ids)
            self.ids.append(chunk.chunk_id)
            self._sources.append(chunk.source_id)
            self._rows.append(np.full(len(sparse), row, dtype=np.int64))
            self._terms.append(np.asarray(sparse.indices, dtype=np.int64))
            self._values.append(np.asarray(sparse.values, dtype=np.float32))

    def freeze(self) -> None:
        self.rows = np.concatenate(self._rows)
        self.terms = np.concatenate(self._terms)
        self.values = np.concatenate(self._values)
        self.source_codes = {s: i for i, s in enumerate(sorted(set(self._sources)))}
        self.row_source = np.asarray([self.source_codes[s] for s in self._sources], dtype=np.int64)
        unique, counts = np.unique(self.terms, return_counts=True)
        self.df = dict(zip(unique.tolist(), counts.tolist(), strict=True))
        del self._rows, self._terms, self._values

    def search(self, query: SparseVector, source_ids: Sequence[str], top_k: int) -> list[str]:
        n = len(self.ids)
        weights = {i: v * idf(self.df.get(i, 0), n) for i, v in zip(query.indices, query.values, strict=True)}
        query_terms = np.fromiter(weights, dtype=np.int64, count=len(weights))
        hit = np.isin(self.terms, query_terms)
        rows = self.rows[hit]
        term_weight = np.vectorize(weights.__getitem__, otypes=[np.float64])(self.terms[hit])
        scores = np.bincount(rows, weights=term_weight * self.values[hit], minlength=n)
        allowed = np.isin(
            self.row_source, [self.source_codes[s] for s in source_ids if s in self.source_codes]
        )
        matched = np.zeros(n, dtype=bool)
        matched[rows] = True
        candidates = np.flatnonzero(matched & allowed)
        if candidates.size == 0:
            return []
        best = candidates[np.argsort(-scores[candidates], kind="stable")[:top_k]]
        return [self.ids[int(r)] for r in best]


# -- measuring ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SizeResult:
    size: int
    ingest_seconds: float
    search_ms: list[float]
    floor_ms: list[float]
    inverted_ms: list[float]
    agreement: float
    reopen_seconds: float | None


def percentile(samples: Sequence[float], p: float) -> float:
    ordered = sorted(samples)
    rank = max(0, math.ceil(p / 100 * len(ordered)) - 1)
    return ordered[rank]


async def measure(
    size: int,
    *,
    queries: int,
    top_k: int,
    seed: int,
    workdir: Path,
    storage: str = "memory",
    query_seconds: float = 30.0,
) -> SizeResult:
    """Build one corpus and time up to `queries` searches, stopping early (after at least five)
    once `query_seconds` are spent, so the largest size stays a few minutes long."""
    corpus = generate_corpus(size, seed=seed)
    asked = generate_queries(corpus, queries + 2, seed=seed + 1)
    embedder = LexicalEmbedder()
    floor = SparseFloor()
    path = workdir / f"qdrant-{size}" if storage == "disk" else Path(MEMORY)
    index = QdrantVectorIndex(path=path)
    inverted = InMemoryVectorIndex()
    await index.ensure_collection(VectorLayout.of(embedder))
    await inverted.ensure_collection(VectorLayout.of(embedder))
    ingest = 0.0
    for batch in batches(corpus, 1024):
        started = time.perf_counter()
        indexed = await embed_chunks(batch, embedder)
        await index.upsert(indexed)
        ingest += time.perf_counter() - started
        floor.add(indexed)
        await inverted.upsert(indexed)
    floor.freeze()
    del corpus
    embedded: list[tuple[Embedding, BenchQuery]] = [(await embedder.embed_query(q.text), q) for q in asked]
    search_ms: list[float] = []
    floor_ms: list[float] = []
    inverted_ms: list[float] = []
    agree = 0.0
    deadline = time.perf_counter() + query_seconds
    for n, (query, q) in enumerate(embedded):
        if len(search_ms) >= 5 and time.perf_counter() > deadline:
            break
        t0 = time.perf_counter()
        hits = await index.search(query, source_ids=q.source_ids, top_k=top_k)
        t1 = time.perf_counter()
        assert query.sparse is not None
        floor_ids = floor.search(query.sparse, q.source_ids, top_k)
        t2 = time.perf_counter()
        await inverted.search(query, source_ids=q.source_ids, top_k=top_k)
        t3 = time.perf_counter()
        if n < 2:  # warm-up
            continue
        search_ms.append((t1 - t0) * 1000)
        floor_ms.append((t2 - t1) * 1000)
        inverted_ms.append((t3 - t2) * 1000)
        agree += len({h.chunk_id for h in hits} & set(floor_ids)) / max(1, len(floor_ids))
    await index.close()
    reopen: float | None = None
    if storage == "disk":
        started = time.perf_counter()
        reopened = QdrantVectorIndex(path=path)
        assert await reopened.count() == size
        reopen = time.perf_counter() - started
        await reopened.close()
    return SizeResult(size, ingest, search_ms, floor_ms, inverted_ms, agree / max(1, len(search_ms)), reopen)


def conclusion(results: Sequence[SizeResult], budget_ms: float) -> str:
    """Where the embedded default stops fitting: a line through the measured medians (the tail
    on a shared machine mostly measures the neighbours), held against a per-turn budget."""
    sizes = np.asarray([r.size for r in results], dtype=np.float64)
    p50 = np.asarray([percentile(r.search_ms, 50) for r in results], dtype=np.float64)
    per_chunk = float((sizes @ p50) / (sizes @ sizes))  # least squares through the origin
    limit = int(budget_ms / per_chunk) if per_chunk > 0 else 0
    ratios = p50 / sizes
    if len(results) < 2:
        growth = "with the corpus size (one size measured: pass several --sizes to see how)"
    elif ratios.max() / ratios.min() < 1.5:
        growth = "about linearly with the corpus"
    else:
        growth = "faster than linearly" if ratios[-1] > ratios[0] else "less than linearly"
        growth += " with the corpus"
    largest = results[-1]
    books = limit * 220 / 100_000
    return (
        f"Embedded Qdrant's lexical search time grows {growth} (median about "
        f"{per_chunk * 1000:.0f} ms per 1,000 chunks here; {p50[-1]:,.0f} ms at {largest.size:,}), so within "
        f"a {budget_ms:.0f} ms retrieval budget per chat turn it serves up to about {limit:,} chunks "
        f"(~{books:.1f} books of 100k words at ~220 words a chunk). Past that, use a Qdrant server "
        f"through the same adapter (url=) or Pinecone. "
        f"The time is the embedded store's own: at {largest.size:,} chunks vectorised brute force over the "
        f"same vectors takes {percentile(largest.floor_ms, 50):.0f} ms and an inverted index (the in-memory "
        f"adapter) {percentile(largest.inverted_ms, 50):.0f} ms (medians)."
    )


def report(results: Sequence[SizeResult], *, top_k: int, budget_ms: float, storage: str) -> str:
    header = (
        f"{'chunks':>8} {'embed+write/s':>13} {'qdrant p50':>11} {'p99':>8} {'floor p50':>10} {'p99':>7} "
        f"{'inverted p50':>13} {'p99':>7} {f'agree@{top_k}':>9} {'reopen':>7} {'n':>4}"
    )
    lines = [
        f"embedded Qdrant ({storage}), offline lexical embedder, top_k={top_k}, 3 sources per search",
        header,
    ]
    for r in results:
        lines.append(
            f"{r.size:>8,} {r.size / r.ingest_seconds:>13,.0f} {percentile(r.search_ms, 50):>9.1f}ms "
            f"{percentile(r.search_ms, 99):>6.1f}ms {percentile(r.floor_ms, 50):>8.1f}ms "
            f"{percentile(r.floor_ms, 99):>5.1f}ms {percentile(r.inverted_ms, 50):>11.1f}ms "
            f"{percentile(r.inverted_ms, 99):>5.1f}ms {r.agreement:>9.0%} {_seconds(r.reopen_seconds):>7} "
            f"{len(r.search_ms):>4}"
        )
    lines.append("")
    lines.append(conclusion(results, budget_ms))
    return "\n".join(lines)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--queries", type=int, default=40, help="timed queries per size (after 2 warm-ups)")
    parser.add_argument(
        "--query-seconds",
        type=float,
        default=30.0,
        help="stop timing a size after this long (at least 5 queries)",
    )
    parser.add_argument("--top-k", type=int, default=8)
    parser.add_argument("--budget-ms", type=float, default=100.0, help="retrieval budget per chat turn")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--storage", choices=["memory", "disk"], default="memory")
    args = parser.parse_args(argv)
    # Embedded Qdrant warns past 20,000 points; that warning is this benchmark's subject.
    warnings.filterwarnings("ignore", message="Local mode is not recommended")
    workdir = Path(tempfile.mkdtemp(prefix="canon-retrieval-bench-"))
    results: list[SizeResult] = []
    try:
        for size in sorted(args.sizes):
            started = time.perf_counter()
            result = asyncio.run(
                measure(
                    size,
                    queries=args.queries,
                    query_seconds=args.query_seconds,
                    top_k=args.top_k,
                    seed=args.seed,
                    workdir=workdir,
                    storage=args.storage,
                )
            )
            results.append(result)
            print(f"measured {size:,} chunks in {time.perf_counter() - started:.0f}s", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(report(results, top_k=args.top_k, budget_ms=args.budget_ms, storage=args.storage))


if __name__ == "__main__":
    main()

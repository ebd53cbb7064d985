"""Ingestion throughput of the embedded default, and how much the whole pipeline costs beyond
its stages run alone.

    python benchmarks/ingestion.py                        # 2,000 chunks, then the retrieval table
    python benchmarks/ingestion.py --chunks 5000 --skip-retrieval
    python benchmarks/ingestion.py --vector-backend memory

The pipeline, timed: every file of a generated corpus (`benchmarks.retrieval.generate_corpus`,
joined into whole documents) uploaded through `UploadSourceFile` and ingested through
`IngestFile`, with the application's own container on the offline default: a SQLite file, the
local blob store, the real extractors and chunker, the lexical embedder and embedded Qdrant on
disk mirrored in memory (``--vector-backend memory`` swaps in the in-memory index).

The stages alone, on the same files in the same run: extraction + chunking only, embedding only
(the same batches), and upserting only (the same vectors into a fresh index of the same kind).
The last line is ``ratio: X (target 1.3)``: pipeline time / the sum of the stages alone, so it
is what the database writes, blob reads, status transactions and glue cost on top of the work
itself. Then the retrieval latency table (`benchmarks.retrieval`) says where the embedded
default stops being right.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "src")]

from benchmarks import retrieval  # noqa: E402

from adapters.embedding.lexical import LexicalEmbedder  # noqa: E402
from adapters.extraction.reader import ExtractingDocumentReader  # noqa: E402
from adapters.persistence.migrate import upgrade  # noqa: E402
from adapters.vectors.memory_index import InMemoryVectorIndex  # noqa: E402
from adapters.vectors.mirrored_index import MirroredVectorIndex  # noqa: E402
from adapters.vectors.qdrant_index import QdrantVectorIndex  # noqa: E402
from application.catalogue.create_source import CreateSource, CreateSourceCommand  # noqa: E402
from application.catalogue.ports import UserRepository  # noqa: E402
from application.identity.principal import Principal  # noqa: E402
from application.ports.uow import UnitOfWork  # noqa: E402
from application.retrieval.ports import IndexedChunk, VectorIndex, VectorLayout  # noqa: E402
from domain.catalogue import SourceType, User  # noqa: E402
from domain.ids import new_id  # noqa: E402
from domain.text.chunking import ChunkDraft, chunk_segments  # noqa: E402
from entrypoints.catalogue_loading import ensure_creator, ingest_path  # noqa: E402
from entrypoints.di import build_container  # noqa: E402
from entrypoints.settings import load_settings  # noqa: E402

BATCH = 64  # IngestionPolicy.embed_batch


@dataclass(frozen=True, slots=True)
class PipelineRun:
    seconds: float
    files: int
    chunks: int
    tokens: int
    failed: int
    inside: Stages  # the same stages as timed inside the pipeline (IngestFile's report)


@dataclass(frozen=True, slots=True)
class Stages:
    extract: float
    embed: float
    upsert: float

    @property
    def total(self) -> float:
        return self.extract + self.embed + self.upsert


def write_corpus(chunks: int, seed: int, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, doc in enumerate(retrieval.documents(retrieval.generate_corpus(chunks, seed=seed))):
        path = directory / f"doc-{n:04d}.md"
        path.write_text(f"# Document {n}\n\n{doc.text}\n", encoding="utf-8")
        paths.append(path)
    return paths


async def run_pipeline(paths: Sequence[Path], workdir: Path, vector_backend: str) -> PipelineRun:
    settings = load_settings(
        {},
        data_dir=workdir / "data",
        vector_backend=vector_backend,
        log_format="console",
        log_level="WARNING",
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await upgrade(settings.effective_database_url)
    container = build_container(settings)
    try:
        user = User(id=new_id(), external_id="bench|ingestion", email="bench@example.com")
        async with container() as request:
            users: UserRepository = await request.get(UserRepository)
            await users.add(user)
            uow: UnitOfWork = await request.get(UnitOfWork)
            await uow.commit()
        principal = Principal.user(user.id)
        creator_id = await ensure_creator(container, principal=principal, name="Benchmark Author")
        source_ids = []
        for path in paths:
            async with container() as request:
                create: CreateSource = await request.get(CreateSource)
                source = await create(
                    CreateSourceCommand(
                        principal=principal, creator_id=creator_id, title=path.name, type=SourceType.DOCUMENT
                    )
                )
                source_ids.append(source.id)
        index: VectorIndex = await container.get(VectorIndex)
        await index.ensure_collection(
            VectorLayout.of(LexicalEmbedder())
        )  # opening the store is not ingestion
        started = time.perf_counter()
        loaded = [
            await ingest_path(container, principal=principal, source_id=sid, path=path)
            for sid, path in zip(source_ids, paths, strict=True)
        ]
        seconds = time.perf_counter() - started
    finally:
        await container.close()
    reports = [item.report for item in loaded if item.report is not None]
    return PipelineRun(
        seconds=seconds,
        files=len(paths),
        chunks=sum(r.chunk_count for r in reports),
        tokens=sum(r.token_count for r in reports),
        failed=sum(1 for r in reports if r.failure_reason),
        inside=Stages(
            extract=sum(r.extract_seconds for r in reports),
            embed=sum(r.embed_seconds for r in reports),
            upsert=sum(r.index_seconds for r in reports),
        ),
    )


async def run_stages(paths: Sequence[Path], workdir: Path, vector_backend: str) -> tuple[Stages, int]:
    reader = ExtractingDocumentReader()
    started = time.perf_counter()
    drafts: list[tuple[str, ChunkDraft]] = []
    for path in paths:
        document = await reader.read(path.read_bytes(), media_type="text/markdown", file_name=path.name)
        file_id = new_id()
        drafts += [(file_id, d) for d in chunk_segments(document.segments, file_id=file_id)]
    extract = time.perf_counter() - started

    embedder = LexicalEmbedder()
    started = time.perf_counter()
    embeddings = []
    for start in range(0, len(drafts), BATCH):
        embeddings += await embedder.embed_documents([d.text for _, d in drafts[start : start + BATCH]])
    embed = time.perf_counter() - started

    chunks = [
        IndexedChunk(
            chunk_id=d.id,
            source_id=f"source-{file_id}",
            file_id=file_id,
            text=d.text,
            token_count=d.token_count,
            page=d.page,
            section=d.section,
            chapter=d.chapter,
            embedding=e,
        )
        for (file_id, d), e in zip(drafts, embeddings, strict=True)
    ]
    index: VectorIndex
    if vector_backend == "memory":
        index = InMemoryVectorIndex()
    else:
        index = MirroredVectorIndex(QdrantVectorIndex(path=workdir / "stage-qdrant"))
    await index.ensure_collection(VectorLayout.of(embedder))
    started = time.perf_counter()
    for start in range(0, len(chunks), BATCH):
        await index.upsert(chunks[start : start + BATCH])
    upsert = time.perf_counter() - started
    close = getattr(index, "close", None)
    if close is not None:
        await close()
    return Stages(extract=extract, embed=embed, upsert=upsert), len(chunks)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=2000, help="size of the generated corpus, in chunks")
    parser.add_argument("--seed", type=int, default=retrieval.DEFAULT_SEED)
    parser.add_argument("--vector-backend", choices=["qdrant-local", "memory"], default="qdrant-local")
    parser.add_argument("--skip-retrieval", action="store_true", help="skip the retrieval latency table")
    parser.add_argument("--retrieval-sizes", type=int, nargs="+", default=list(retrieval.DEFAULT_SIZES))
    parser.add_argument("--retrieval-query-seconds", type=float, default=4.0)
    parser.add_argument("--repeat", type=int, default=2, help="interleaved runs of each; the best is kept")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message="Local mode is not recommended")
    workdir = Path(tempfile.mkdtemp(prefix="canon-ingestion-bench-"))
    try:
        paths = write_corpus(args.chunks, args.seed, workdir / "corpus")
        megabytes = sum(p.stat().st_size for p in paths) / 1e6
        print(f"corpus: {len(paths)} Markdown files, {megabytes:.1f} MB ({args.chunks:,} generated chunks)")
        # Interleaved repetitions, best of each: on a shared machine the disk and CPU are noisy,
        # and the fastest run of each is the one least disturbed by neighbours.
        pipelines: list[PipelineRun] = []
        staged: list[tuple[Stages, int]] = []
        for rep in range(args.repeat):
            pipelines.append(
                asyncio.run(run_pipeline(paths, workdir / f"pipeline-{rep}", args.vector_backend))
            )
            staged.append(asyncio.run(run_stages(paths, workdir / f"stages-{rep}", args.vector_backend)))
        pipeline = min(pipelines, key=lambda r: r.seconds)
        stages = Stages(
            extract=min(s.extract for s, _ in staged),
            embed=min(s.embed for s, _ in staged),
            upsert=min(s.upsert for s, _ in staged),
        )
        stage_chunks = staged[0][1]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ratio = pipeline.seconds / stages.total
    store = (
        "embedded Qdrant on disk, mirrored in memory"
        if args.vector_backend == "qdrant-local"
        else "in memory"
    )
    print(f"best of {args.repeat} interleaved runs each")
    print(f"offline default: SQLite, local blobs, real extractors, lexical embedder, vectors {store}")
    print(
        f"pipeline (upload + ingest, {pipeline.files} files): {pipeline.chunks:,} chunks, "
        f"{pipeline.tokens:,} tokens in {pipeline.seconds:.2f}s = "
        f"{pipeline.chunks / pipeline.seconds:,.0f} chunks/s"
        + (f" ({pipeline.failed} files FAILED)" if pipeline.failed else "")
    )
    print(
        f"stages alone ({stage_chunks:,} chunks): extract+chunk {stages.extract:.2f}s, "
        f"embed {stages.embed:.2f}s, upsert {stages.upsert:.2f}s, sum {stages.total:.2f}s"
    )
    inside = pipeline.inside
    print(
        f"inside the pipeline: read+extract+chunk {inside.extract:.2f}s, embed {inside.embed:.2f}s, "
        f"upsert+commit {inside.upsert:.2f}s; uploads, status changes and glue "
        f"{pipeline.seconds - inside.total:.2f}s"
    )
    if not args.skip_retrieval:
        print()
        results = []
        retrieval_dir = Path(tempfile.mkdtemp(prefix="canon-retrieval-bench-"))
        try:
            for size in sorted(args.retrieval_sizes):
                results.append(
                    asyncio.run(
                        retrieval.measure(
                            size,
                            queries=40,
                            query_seconds=args.retrieval_query_seconds,
                            top_k=8,
                            seed=args.seed,
                            workdir=retrieval_dir,
                        )
                    )
                )
        finally:
            shutil.rmtree(retrieval_dir, ignore_errors=True)
        print(retrieval.report(results, top_k=8, budget_ms=100.0, storage="memory"))
        largest = results[-1]
        print(
            "The embedded default answers searches from its in-memory mirror (the 'inverted' column: "
            f"{retrieval.percentile(largest.inverted_ms, 50):.0f} ms p50 at {largest.size:,} chunks), so "
            "search stays fast; what stops it being right is the rest: every vector held in one process's "
            f"memory, durable writes at about {pipeline.chunks / pipeline.seconds:,.0f} chunks/s, a full "
            "reload at start-up, and one process only (Qdrant's file lock). Past a few hundred thousand "
            "chunks, or with more than one API process, use a Qdrant server (CANON_VECTOR_BACKEND=qdrant) "
            "or Pinecone."
        )
    print(f"ratio: {ratio:.2f} (target 1.3)")


if __name__ == "__main__":
    main()

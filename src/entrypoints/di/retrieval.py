"""Retrieval adapters chosen from Settings: the embedder and the vector index (APP scope, one of
each per process; other areas reuse them)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide

from application.retrieval.ports import Embedder, VectorIndex, VectorLayout
from entrypoints.settings import Settings


async def _close(adapter: object) -> None:
    close = getattr(adapter, "close", None)
    if close is not None:
        await close()


class RetrievalProvider(Provider):
    scope = Scope.APP

    @provide
    async def embedder(self, settings: Settings) -> AsyncIterator[Embedder]:
        if settings.embedder == "openai":
            from adapters.embedding.openai_embedder import OpenAIEmbedder

            openai = OpenAIEmbedder(
                api_key=settings.openai_api_key,
                model=settings.openai_embedding_model,
                base_url=settings.openai_base_url or None,
            )
            yield openai
            await openai.close()
            return
        from adapters.embedding.lexical import LexicalEmbedder

        yield LexicalEmbedder()

    @provide
    async def vector_index(self, settings: Settings, embedder: Embedder) -> AsyncIterator[VectorIndex]:
        index: VectorIndex
        if settings.vector_backend == "memory":
            from adapters.vectors.memory_index import InMemoryVectorIndex

            index = InMemoryVectorIndex()
        elif settings.vector_backend == "pinecone":
            from adapters.vectors.pinecone_index import PineconeVectorIndex

            # one host: the index that holds what the configured embedder makes
            dense = embedder.dimension is not None
            index = PineconeVectorIndex(
                api_key=settings.pinecone_api_key,
                dense_host=settings.pinecone_host if dense else None,
                sparse_host=None if dense else settings.pinecone_host,
            )
        elif settings.vector_backend == "qdrant":
            from adapters.vectors.qdrant_index import QdrantVectorIndex

            index = QdrantVectorIndex(url=settings.qdrant_url, api_key=settings.qdrant_api_key or None)
        else:
            from adapters.vectors.mirrored_index import MirroredVectorIndex
            from adapters.vectors.qdrant_index import QdrantVectorIndex

            settings.data_dir.mkdir(parents=True, exist_ok=True)
            index = MirroredVectorIndex(QdrantVectorIndex(path=settings.data_dir / "qdrant"))
        # Ready before the first request: the collection exists with this embedder's layout (a
        # mismatch fails start-up rather than a chat turn) and a mirror is warm from disk.
        await index.ensure_collection(VectorLayout.of(embedder))
        yield index
        await _close(index)

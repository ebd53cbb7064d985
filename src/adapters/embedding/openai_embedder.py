"""OpenAI embeddings (dense, semantic) through the official SDK's `AsyncOpenAI`.

Texts are sent in batches that stay under the API's per-request limits (2,048 inputs; about
300,000 tokens, estimated here at four characters a token). The SDK retries rate limits (429),
timeouts and server errors with backoff, honouring ``Retry-After``; what still fails is raised
as `ExternalServiceError`, so a caller (the ingestion job) can retry the whole step later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import openai
from openai import AsyncOpenAI

from application.errors import ExternalServiceError, InvalidInput, ServiceUnavailable
from application.retrieval.ports import Embedding

KNOWN_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
MAX_INPUTS_PER_REQUEST = 2048
# A quarter of the API's 300k-token request cap, estimated from characters, leaves room for
# texts that tokenize worse than four characters a token (code, non-Latin scripts).
MAX_CHARS_PER_REQUEST = 300_000


class OpenAIEmbedder:
    """Dense embeddings from an OpenAI embedding model (default ``text-embedding-3-small``).

    `dimension` defaults to the model's native size; a smaller value is requested from the API
    (``dimensions=``, supported by the text-embedding-3 models), which shortens vectors at a
    small loss of quality. `base_url` points the SDK at a compatible server.
    """

    def __init__(
        self,
        *,
        api_key: str,
        model: str = "text-embedding-3-small",
        dimension: int | None = None,
        base_url: str | None = None,
        batch_size: int = 256,
        max_retries: int = 4,
        timeout_seconds: float = 60.0,
        max_concurrency: int = 4,
    ) -> None:
        if not api_key:
            raise ServiceUnavailable("The OpenAI embedder needs an API key.", code="embedder-not-configured")
        native = KNOWN_DIMENSIONS.get(model)
        if dimension is None and native is None:
            raise ValueError(f"Unknown embedding model {model!r}: pass its dimension explicitly")
        if not 1 <= batch_size <= MAX_INPUTS_PER_REQUEST:
            raise ValueError(f"batch_size must be between 1 and {MAX_INPUTS_PER_REQUEST}")
        self._model = model
        self._dimension = dimension if dimension is not None else native
        # Only ask for a size when it differs from the native one: older models reject the field.
        self._request_dimensions = dimension if dimension is not None and dimension != native else None
        self._batch_size = batch_size
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._client = AsyncOpenAI(
            api_key=api_key, base_url=base_url or None, max_retries=max_retries, timeout=timeout_seconds
        )

    @property
    def name(self) -> str:
        return f"openai:{self._model}:{self._dimension}"

    @property
    def dimension(self) -> int | None:
        return self._dimension

    @property
    def sparse(self) -> bool:
        return False

    async def embed_documents(self, texts: Sequence[str]) -> list[Embedding]:
        for position, text in enumerate(texts):
            if not text.strip():
                raise InvalidInput("Cannot embed an empty text.", errors={f"texts[{position}]": "empty"})
        batches = list(self._batches(texts))
        results = await asyncio.gather(*(self._embed_batch(batch) for batch in batches))
        return [embedding for batch in results for embedding in batch]

    async def embed_query(self, text: str) -> Embedding:
        if not text.strip():
            raise InvalidInput("Cannot embed an empty question.", errors={"text": "empty"})
        [embedding] = await self._embed_batch([text])
        return embedding

    async def close(self) -> None:
        await self._client.close()

    def _batches(self, texts: Sequence[str]) -> list[list[str]]:
        batches: list[list[str]] = []
        current: list[str] = []
        chars = 0
        for text in texts:
            if current and (len(current) >= self._batch_size or chars + len(text) > MAX_CHARS_PER_REQUEST):
                batches.append(current)
                current, chars = [], 0
            current.append(text)
            chars += len(text)
        if current:
            batches.append(current)
        return batches

    async def _embed_batch(self, batch: list[str]) -> list[Embedding]:
        async with self._semaphore:
            try:
                if self._request_dimensions is None:
                    response = await self._client.embeddings.create(model=self._model, input=batch)
                else:
                    response = await self._client.embeddings.create(
                        model=self._model, input=batch, dimensions=self._request_dimensions
                    )
            except openai.APIStatusError as exc:
                raise ExternalServiceError(
                    f"OpenAI embeddings failed with HTTP {exc.status_code}: {exc.message}",
                    code="embedding-failed",
                    extra={"status": exc.status_code},
                ) from exc
            except openai.APIError as exc:
                raise ExternalServiceError(
                    f"OpenAI embeddings failed: {exc}", code="embedding-failed"
                ) from exc
        by_position = sorted(response.data, key=lambda item: item.index)
        if [item.index for item in by_position] != list(range(len(batch))):
            raise ExternalServiceError(
                f"OpenAI returned {len(by_position)} embeddings for {len(batch)} texts.",
                code="embedding-failed",
            )
        embeddings: list[Embedding] = []
        for item in by_position:
            vector = [float(v) for v in item.embedding]
            if len(vector) != self._dimension:
                raise ExternalServiceError(
                    f"OpenAI returned {len(vector)} dimensions, expected {self._dimension}.",
                    code="embedding-failed",
                )
            embeddings.append(Embedding(dense=vector))
        return embeddings

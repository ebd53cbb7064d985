"""OpenAIEmbedder through the real `openai` SDK against a local double of POST /v1/embeddings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from openai_embeddings_double import OpenAIEmbeddingsDouble, fake_vector

from adapters.embedding.openai_embedder import OpenAIEmbedder
from application.errors import ExternalServiceError, InvalidInput, ServiceUnavailable
from application.retrieval.ports import VectorLayout


@pytest.fixture
def double() -> Iterator[OpenAIEmbeddingsDouble]:
    server = OpenAIEmbeddingsDouble().start()
    yield server
    server.stop()


def embedder(double: OpenAIEmbeddingsDouble, **options: object) -> OpenAIEmbedder:
    return OpenAIEmbedder(api_key="sk-test", base_url=double.base_url, **options)  # type: ignore[arg-type]


async def test_documents_are_batched_and_returned_in_order(double: OpenAIEmbeddingsDouble) -> None:
    subject = embedder(double, batch_size=2)
    texts = [f"passage number {i}" for i in range(5)]
    embeddings = await subject.embed_documents(texts)
    assert sorted(len(b["input"]) for b in double.requests) == [1, 2, 2]
    assert all(b["model"] == "text-embedding-3-small" for b in double.requests)
    for text, embedding in zip(texts, embeddings, strict=True):
        assert embedding.sparse is None
        assert embedding.dense == pytest.approx(fake_vector(text, 1536), abs=1e-6)
    assert (subject.dimension, subject.sparse, subject.name) == (
        1536,
        False,
        "openai:text-embedding-3-small:1536",
    )
    assert VectorLayout.of(subject) == VectorLayout(dense_dimension=1536)
    await subject.close()


async def test_a_query_and_a_reduced_dimension(double: OpenAIEmbeddingsDouble) -> None:
    subject = embedder(double, model="text-embedding-3-large", dimension=256)
    query = await subject.embed_query("how do royalties work")
    assert query.dense == pytest.approx(fake_vector("how do royalties work", 256), abs=1e-6)
    assert double.requests[-1]["dimensions"] == 256
    native = embedder(double, model="text-embedding-3-large")
    await native.embed_query("x")
    assert "dimensions" not in double.requests[-1]


async def test_rate_limits_and_server_errors_are_retried(double: OpenAIEmbeddingsDouble) -> None:
    double.fail_next.extend([429, 500])
    [embedding] = await embedder(double, max_retries=3).embed_documents(["retried text"])
    assert embedding.dense is not None
    assert len(double.requests) == 3


async def test_failure_after_retries_is_an_external_service_error(double: OpenAIEmbeddingsDouble) -> None:
    double.fail_next.extend([503, 503, 503])
    with pytest.raises(ExternalServiceError) as failed:
        await embedder(double, max_retries=2).embed_query("never answered")
    assert failed.value.code == "embedding-failed"
    assert failed.value.extra["status"] == 503
    assert len(double.requests) == 3


async def test_a_wrong_key_and_a_short_answer_are_errors(double: OpenAIEmbeddingsDouble) -> None:
    bad_key = OpenAIEmbedder(api_key="sk-wrong", base_url=double.base_url, max_retries=0)
    with pytest.raises(ExternalServiceError) as unauthorised:
        await bad_key.embed_query("hello")
    assert unauthorised.value.extra["status"] == 401
    double.wrong_count = True
    with pytest.raises(ExternalServiceError, match="2 texts"):
        await embedder(double).embed_documents(["one", "two"])


async def test_empty_text_and_missing_configuration_are_refused(double: OpenAIEmbeddingsDouble) -> None:
    with pytest.raises(InvalidInput):
        await embedder(double).embed_documents(["fine", "   "])
    with pytest.raises(InvalidInput):
        await embedder(double).embed_query("")
    assert double.requests == []
    with pytest.raises(ServiceUnavailable):
        OpenAIEmbedder(api_key="")
    with pytest.raises(ValueError, match="dimension"):
        OpenAIEmbedder(api_key="sk", model="some-other-model")

"""Hostile or damaged bytes end in a document or an ``ExtractionError``, never anything else: a
stray ``KeyError`` from a parser would make the ingestion job retry a file that can never work."""

from collections.abc import Callable
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.extraction.registry import ExtractorRegistry
from application.ingestion.ports import ExtractionError, ExtractionFailure, ExtractionLimits

REGISTRY = ExtractorRegistry(limits=ExtractionLimits(max_bytes=2_000_000))
CODES = {failure.value for failure in ExtractionFailure}


def _extract_or_refuse(data: bytes, name: str, declared: str | None) -> None:
    refusal: ExtractionError | None = None
    try:
        document = REGISTRY.extract(data, file_name=name, declared_mime=declared)
    except ExtractionError as error:
        refusal = error
    if refusal is None:
        assert document.has_text
    else:
        assert refusal.code in CODES
        assert refusal.reason


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048), st.sampled_from(["a.txt", "a.md", "a.html", "a.pdf", "a.epub"]))
def test_random_bytes(data: bytes, name: str) -> None:
    _extract_or_refuse(data, name, None)


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=600),
    st.sampled_from([None, "text/html", "text/markdown", "application/x-subrip", "text/vtt"]),
)
def test_random_text(text: str, declared: str | None) -> None:
    _extract_or_refuse(text.encode(), "upload", declared)


def _builders(docs: ModuleType) -> dict[str, Callable[[], bytes]]:
    return {
        "pdf": lambda: docs.pdf(["First page of text.", "Second page."], outline=[("One", 0, [("Two", 1)])]),
        "epub": lambda: docs.epub_book([("One", "<h1>One</h1><p>Text.</p>"), ("Two", "<p>More.</p>")]),
        "docx": lambda: docs.docx_document([("h1", "Heading"), ("p", "Body text.")], table=[["a", "b"]]),
        "srt": lambda: docs.SRT.encode(),
        "vtt": lambda: docs.VTT.encode(),
        "html": lambda: docs.HTML.encode(),
    }


@pytest.mark.parametrize("kind", ["pdf", "epub", "docx", "srt", "vtt", "html"])
def test_damaged_documents(docs: ModuleType, kind: str) -> None:
    original = _builders(docs)[kind]()

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)), min_size=1, max_size=12)
    )
    def damaged(edits: list[tuple[int, int]]) -> None:
        data = bytearray(original)
        for position, value in edits:
            data[position] = value
        _extract_or_refuse(bytes(data), f"damaged.{kind}", None)

    damaged()

    @settings(max_examples=30, deadline=None)
    @given(st.integers(1, len(original) - 1))
    def truncated(length: int) -> None:
        _extract_or_refuse(original[:length], f"truncated.{kind}", None)

    truncated()

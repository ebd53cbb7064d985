from types import ModuleType

import pytest

from adapters.extraction.registry import ExtractorRegistry
from application.ingestion.ports import ExtractionError, ExtractionLimits
from domain.text.chunking import ChunkingPolicy, chunk_segments

PAGES = [
    "Chapter One\nCreators deserve to be paid for their work.\nThis page is the first.",
    "The second page goes on with the argu-\nment about fair pay.",
    None,  # a scanned page: a picture, no text layer
    "Chapter Two\nThe last page closes the book.",
]
OUTLINE = [("Chapter One", 0, [("The Argument", 1)]), ("Chapter Two", 3, [])]


def _code(registry: ExtractorRegistry, data: bytes) -> str:
    with pytest.raises(ExtractionError) as caught:
        registry.extract(data, file_name="book.pdf", declared_mime="application/pdf")
    assert caught.value.reason
    return caught.value.code


def test_pages_chapters_and_sections_come_through(registry: ExtractorRegistry, docs: ModuleType) -> None:
    data = docs.pdf(PAGES, title="Fair Pay", outline=OUTLINE)
    document = registry.extract(data, file_name="book.pdf", declared_mime="application/pdf")
    assert document.media_type == "application/pdf"
    assert document.title == "Fair Pay"
    assert document.page_count == 4
    assert [(s.page, s.chapter, s.section) for s in document.segments] == [
        (1, "Chapter One", None),
        (2, "Chapter One", "The Argument"),
        (4, "Chapter Two", None),
    ]
    first, second, last = (s.text for s in document.segments)
    assert first == "Chapter One Creators deserve to be paid for their work. This page is the first."
    assert "argument about fair pay" in second  # the line-end hyphen is undone
    assert last == "Chapter Two The last page closes the book."
    assert document.warnings == ("1 page(s) without text: 3",)


def test_chunks_of_a_pdf_keep_their_pages(registry: ExtractorRegistry, docs: ModuleType) -> None:
    pages = [f"Page {n} says something. " * 12 for n in range(1, 6)]
    document = registry.extract(docs.pdf(pages), file_name="a.pdf", declared_mime=None)
    chunks = chunk_segments(
        document.segments, file_id="f", policy=ChunkingPolicy(target_tokens=60, overlap_tokens=10)
    )
    assert len(chunks) > 5
    for chunk in chunks:
        assert chunk.page is not None
        assert chunk.page_end is not None
        numbers = {int(word) for word in chunk.text.replace(".", "").split() if word.isdigit()}
        assert numbers == set(range(chunk.page, chunk.page_end + 1))


def test_a_pdf_needing_a_password_is_refused(registry: ExtractorRegistry, docs: ModuleType) -> None:
    data = docs.pdf(PAGES, user_password="secret", owner_password="owner")
    assert _code(registry, data) == "pdf-encrypted"


def test_a_pdf_with_only_an_owner_password_is_read(registry: ExtractorRegistry, docs: ModuleType) -> None:
    data = docs.pdf(PAGES, owner_password="owner")
    document = registry.extract(data, file_name="book.pdf", declared_mime="application/pdf")
    assert document.segments[0].text.startswith("Chapter One")


def test_a_damaged_pdf_is_corrupt(registry: ExtractorRegistry, docs: ModuleType) -> None:
    assert _code(registry, docs.corrupt_pdf()) == "pdf-corrupt"


def test_a_pdf_of_images_has_no_text(registry: ExtractorRegistry, docs: ModuleType) -> None:
    with pytest.raises(ExtractionError) as caught:
        registry.extract(docs.pdf([None, None]), file_name="scan.pdf", declared_mime=None)
    assert caught.value.code == "no-extractable-text"
    assert "2 page(s)" in caught.value.reason


def test_too_many_pages(docs: ModuleType) -> None:
    registry = ExtractorRegistry(limits=ExtractionLimits(max_pages=3))
    assert _code(registry, docs.pdf(PAGES)) == "document-too-long"
    assert registry.extract(docs.pdf(PAGES[:3]), file_name="a.pdf", declared_mime=None).page_count == 3


def test_too_much_text(docs: ModuleType) -> None:
    registry = ExtractorRegistry(limits=ExtractionLimits(max_chars=120))
    assert _code(registry, docs.pdf(PAGES)) == "document-too-long"


def test_extraction_is_deterministic(registry: ExtractorRegistry, docs: ModuleType) -> None:
    data = docs.pdf(PAGES, outline=OUTLINE)
    first = registry.extract(data, file_name="a.pdf", declared_mime=None)
    assert registry.extract(data, file_name="a.pdf", declared_mime=None) == first
    assert chunk_segments(first.segments, file_id="f") == chunk_segments(
        registry.extract(data, file_name="a.pdf", declared_mime=None).segments, file_id="f"
    )

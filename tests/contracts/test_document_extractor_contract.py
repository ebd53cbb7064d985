"""What every ``DocumentExtractor`` must do, whatever formats it reads.

Subclassed once per implementation: the full registry (every format) and a text-only registry
(a deployment that reads fewer formats must still refuse the rest cleanly). Extractors hold no
state between calls, so "starting clean" means two calls never influence each other, which
``test_calls_are_independent_and_deterministic`` checks.
"""

from __future__ import annotations

import pytest

from adapters.extraction.registry import ExtractorRegistry
from adapters.extraction.text_extractor import MarkdownExtractor, PlainTextExtractor
from application.ingestion.ports import DocumentExtractor, ExtractionError, ExtractionLimits

PROSE = b"# Title\n\nFirst paragraph of prose.\n\n## Part\n\nSecond paragraph.\n"
PDF_HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


class DocumentExtractorContract:
    def make(self, limits: ExtractionLimits) -> DocumentExtractor:
        raise AssertionError("subclasses build the extractor under test")

    @pytest.fixture
    def extractor(self) -> DocumentExtractor:
        return self.make(ExtractionLimits(max_bytes=4096, max_chars=2000))

    def _code(self, extractor: DocumentExtractor, data: bytes, declared: str | None, name: str = "f") -> str:
        with pytest.raises(ExtractionError) as caught:
            extractor.extract(data, file_name=name, declared_mime=declared)
        assert caught.value.reason
        return caught.value.code

    def test_reads_markdown_with_its_sections(self, extractor: DocumentExtractor) -> None:
        document = extractor.extract(PROSE, file_name="notes.md", declared_mime="text/markdown")
        assert document.media_type == "text/markdown"
        assert [(s.text, s.chapter, s.section) for s in document.segments] == [
            ("Title", "Title", None),
            ("First paragraph of prose.", "Title", None),
            ("Part", "Title", "Part"),
            ("Second paragraph.", "Title", "Part"),
        ]

    def test_calls_are_independent_and_deterministic(self, extractor: DocumentExtractor) -> None:
        first = extractor.extract(PROSE, file_name="notes.md", declared_mime=None)
        with pytest.raises(ExtractionError):
            extractor.extract(b"", file_name="empty.md", declared_mime=None)
        assert extractor.extract(PROSE, file_name="notes.md", declared_mime=None) == first

    def test_refuses_empty_files(self, extractor: DocumentExtractor) -> None:
        assert self._code(extractor, b"", None) == "file-empty"

    def test_refuses_files_over_the_byte_limit(self, extractor: DocumentExtractor) -> None:
        assert self._code(extractor, b"a" * 4097, "text/plain") == "file-too-large"

    def test_refuses_documents_over_the_character_limit(self, extractor: DocumentExtractor) -> None:
        assert self._code(extractor, b"word " * 600, "text/plain") == "document-too-long"

    def test_refuses_a_declaration_the_bytes_contradict(self, extractor: DocumentExtractor) -> None:
        assert self._code(extractor, PDF_HEADER, "text/plain") == "content-type-mismatch"

    def test_refuses_formats_it_cannot_read(self, extractor: DocumentExtractor) -> None:
        assert self._code(extractor, b"\x89PNG\r\n\x1a\n\0\0\0", None) == "unsupported-content-type"


class TestFullRegistry(DocumentExtractorContract):
    def make(self, limits: ExtractionLimits) -> DocumentExtractor:
        return ExtractorRegistry(limits=limits)


class TestTextOnlyRegistry(DocumentExtractorContract):
    def make(self, limits: ExtractionLimits) -> DocumentExtractor:
        return ExtractorRegistry([PlainTextExtractor(), MarkdownExtractor()], limits=limits)

    def test_refuses_pdfs_it_was_not_given_a_reader_for(self, extractor: DocumentExtractor) -> None:
        assert self._code(extractor, PDF_HEADER, None) == "unsupported-content-type"

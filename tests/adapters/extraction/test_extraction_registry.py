"""The dispatcher's own checks, the error type, and the async reader the ingestion job uses."""

import pickle
import threading
from types import ModuleType

import pytest

from adapters.extraction.reader import ExtractingDocumentReader
from adapters.extraction.registry import ExtractorRegistry
from adapters.extraction.text_extractor import MarkdownExtractor, PlainTextExtractor
from application.errors import ApplicationError, InvalidInput
from application.ingestion.ports import ExtractionError, ExtractionFailure, ExtractionLimits
from application.ingestion.reading import UnreadableFile
from domain.text.document import ExtractedDocument, Segment


def _code(registry: ExtractorRegistry, data: bytes, declared: str | None = None, name: str = "f") -> str:
    with pytest.raises(ExtractionError) as caught:
        registry.extract(data, file_name=name, declared_mime=declared)
    assert caught.value.reason
    assert caught.value.message == caught.value.reason
    return caught.value.code


def test_error_codes_are_stable() -> None:
    # clients branch on these strings: renaming one is a breaking change
    assert sorted(failure.value for failure in ExtractionFailure) == [
        "archive-bomb",
        "archive-corrupt",
        "archive-encrypted",
        "content-type-mismatch",
        "document-too-long",
        "file-empty",
        "file-too-large",
        "no-extractable-text",
        "pdf-corrupt",
        "pdf-encrypted",
        "text-encoding-unsupported",
        "unsupported-content-type",
    ]


def test_an_extraction_error_is_an_unreadable_file_that_survives_pickling() -> None:
    error = ExtractionError(ExtractionFailure.PDF_ENCRYPTED, "Needs a password.")
    assert isinstance(error, UnreadableFile)
    assert isinstance(error, ApplicationError)
    assert (error.code, error.reason, error.failure) == (
        "pdf-encrypted",
        "Needs a password.",
        ExtractionFailure.PDF_ENCRYPTED,
    )
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (copy.code, copy.reason, str(copy)) == ("pdf-encrypted", "Needs a password.", "Needs a password.")


@pytest.mark.parametrize("data", [b"", b"   \n\t  "])
def test_an_empty_file(registry: ExtractorRegistry, data: bytes) -> None:
    assert _code(registry, data, "text/plain") == "file-empty"


def test_a_file_over_the_byte_limit_is_refused_before_sniffing(docs: ModuleType) -> None:
    registry = ExtractorRegistry(limits=ExtractionLimits(max_bytes=100))
    assert _code(registry, b"x" * 101) == "file-too-large"
    assert _code(registry, b"\x89PNG" + b"\0" * 200) == "file-too-large"
    assert registry.extract(b"x" * 100, file_name="f.txt", declared_mime=None).char_count == 100


def test_too_many_characters(docs: ModuleType) -> None:
    registry = ExtractorRegistry(limits=ExtractionLimits(max_chars=50))
    assert _code(registry, ("word " * 20).encode()) == "document-too-long"
    assert _code(registry, docs.HTML.encode()) == "document-too-long"
    assert _code(registry, docs.SRT.encode()) == "document-too-long"


def test_a_registry_without_a_format_refuses_it(docs: ModuleType) -> None:
    registry = ExtractorRegistry([PlainTextExtractor(), MarkdownExtractor()])
    assert registry.media_types == {"text/plain", "text/markdown"}
    assert _code(registry, docs.pdf(["x"])) == "unsupported-content-type"
    assert registry.extract(b"fine", file_name="f.txt", declared_mime=None).segments[0].text == "fine"


@pytest.mark.parametrize(
    "bad", [{"max_bytes": 0}, {"max_pages": 0}, {"max_compression_ratio": 1.0}, {"ratio_floor_bytes": -1}]
)
def test_limits_must_be_sensible(bad: dict[str, float]) -> None:
    with pytest.raises(InvalidInput):
        ExtractionLimits(**bad)  # type: ignore[arg-type]


class _ThreadRecorder:
    def __init__(self) -> None:
        self.thread: int | None = None
        self.calls: list[tuple[str, str | None]] = []

    def extract(self, data: bytes, *, file_name: str, declared_mime: str | None) -> ExtractedDocument:
        self.thread = threading.get_ident()
        self.calls.append((file_name, declared_mime))
        return ExtractedDocument(media_type="text/plain", segments=(Segment(text=data.decode()),))


async def test_the_reader_extracts_off_the_event_loop_thread() -> None:
    recorder = _ThreadRecorder()
    document = await ExtractingDocumentReader(recorder).read(
        b"hello", media_type="text/plain", file_name="a.txt"
    )
    assert document.segments[0].text == "hello"
    assert recorder.calls == [("a.txt", "text/plain")]
    assert recorder.thread is not None
    assert recorder.thread != threading.get_ident()


async def test_the_default_reader_reads_every_format_and_fails_with_unreadable_file(docs: ModuleType) -> None:
    reader = ExtractingDocumentReader()
    document = await reader.read(
        docs.pdf(["Hello from a PDF."]), media_type="application/pdf", file_name="a.pdf"
    )
    assert document.segments[0].text == "Hello from a PDF."
    with pytest.raises(UnreadableFile) as caught:
        await reader.read(
            docs.pdf(["x"], user_password="pw"), media_type="application/pdf", file_name="a.pdf"
        )
    assert caught.value.code == "pdf-encrypted"


async def test_the_reader_takes_limits_for_its_default_registry(docs: ModuleType) -> None:
    reader = ExtractingDocumentReader(limits=ExtractionLimits(max_pages=1))
    with pytest.raises(UnreadableFile) as caught:
        await reader.read(docs.pdf(["a", "b"]), media_type="application/pdf", file_name="a.pdf")
    assert caught.value.code == "document-too-long"
    with pytest.raises(ValueError, match="limits"):
        ExtractingDocumentReader(ExtractorRegistry(), limits=ExtractionLimits())

"""EPUB and DOCX: their text, and the zip containers they come in (bombs, damage, DRM)."""

import struct
import zipfile
from types import ModuleType

import pytest
from ebooklib import epub

from adapters.extraction.registry import ExtractorRegistry
from application.ingestion.ports import ExtractionError, ExtractionLimits

CHAPTERS = [
    ("The Beginning", "<h1>The Beginning</h1><p>It starts here.</p><h2>A Scene</h2><p>Then this.</p>"),
    ("Interlude", "<p>Text without a heading.</p><h4>Small heading</h4><p>More.</p>"),
]
SMALL_BOMB_LIMITS = ExtractionLimits(ratio_floor_bytes=1024 * 1024, max_compression_ratio=100)


def _code(registry: ExtractorRegistry, data: bytes, declared: str | None = None) -> str:
    with pytest.raises(ExtractionError) as caught:
        registry.extract(data, file_name="upload", declared_mime=declared)
    assert caught.value.reason
    return caught.value.code


def _set_flag(data: bytes, flag: int) -> bytes:
    patched = bytearray(data)
    for signature, offset in ((b"PK\x01\x02", 8), (b"PK\x03\x04", 6)):
        position = patched.find(signature)
        while position != -1:
            (flags,) = struct.unpack_from("<H", patched, position + offset)
            struct.pack_into("<H", patched, position + offset, flags | flag)
            position = patched.find(signature, position + 4)
    return bytes(patched)


def test_epub_chapters_come_from_the_table_of_contents(registry: ExtractorRegistry, docs: ModuleType) -> None:
    document = registry.extract(
        docs.epub_book(CHAPTERS, title="My Book"), file_name="b.epub", declared_mime=None
    )
    assert document.media_type == "application/epub+zip"
    assert document.title == "My Book"
    assert [(s.text, s.chapter, s.section, s.is_heading) for s in document.segments] == [
        ("The Beginning", "The Beginning", None, True),
        ("It starts here.", "The Beginning", None, False),
        ("A Scene", "The Beginning", "A Scene", True),
        ("Then this.", "The Beginning", "A Scene", False),
        ("Text without a heading.", "Interlude", None, False),
        ("Small heading", "Interlude", None, False),  # h4 is too small to cut a section
        ("More.", "Interlude", None, False),
    ]


@pytest.mark.parametrize("nav", [True, False], ids=["epub3-nav", "epub2-ncx"])
def test_epub_chapter_names_come_from_either_table_of_contents(
    registry: ExtractorRegistry, docs: ModuleType, nav: bool
) -> None:
    chapters = [("Dawn", "<p>Morning.</p>"), ("Dusk", "<p>Evening.</p><h2>Night</h2><p>Dark.</p>")]
    document = registry.extract(
        docs.epub_book(chapters, title="Day", nav=nav), file_name="d.epub", declared_mime=None
    )
    assert [(s.text, s.chapter, s.section) for s in document.segments] == [
        ("Morning.", "Dawn", None),
        ("Evening.", "Dusk", None),
        ("Night", "Dusk", "Night"),
        ("Dark.", "Dusk", "Night"),
    ]


def test_an_epub_without_text_has_none(registry: ExtractorRegistry, docs: ModuleType) -> None:
    data = docs.epub_book([("Cover", '<div><img src="cover.png" alt=""/></div>')])
    assert _code(registry, data) == "no-extractable-text"


def test_a_zip_bomb_is_refused_before_ebooklib_opens_it(
    docs: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("ebooklib must not see a zip bomb")

    monkeypatch.setattr(epub, "read_epub", never)
    bomb = docs.epub_bomb(8 * 1024 * 1024)  # 8 MiB of zeros, about 8 KiB packed
    assert len(bomb) < 64 * 1024
    assert _code(ExtractorRegistry(limits=SMALL_BOMB_LIMITS), bomb) == "archive-bomb"


def test_declared_sizes_beyond_the_limit_are_a_bomb(registry: ExtractorRegistry, docs: ModuleType) -> None:
    lying = docs.lying_zip(docs.epub_book(CHAPTERS))
    assert _code(registry, lying) == "archive-bomb"


def test_too_many_members_is_a_bomb(docs: ModuleType) -> None:
    members = [("mimetype", b"application/epub+zip")] + [(f"f/{i}.txt", b"x") for i in range(50)]
    registry = ExtractorRegistry(limits=ExtractionLimits(max_archive_members=20))
    assert _code(registry, docs.zip_of(members)) == "archive-bomb"


def test_small_files_may_compress_well(docs: ModuleType) -> None:
    # a chapter of repeated markup compresses far beyond 100:1, but is far below the floor
    body = "<p>" + "la " * 40_000 + "</p>"
    document = ExtractorRegistry().extract(
        docs.epub_book([("Song", body)]), file_name="s.epub", declared_mime=None
    )
    assert document.segments[0].text.startswith("la la")


def test_a_drm_protected_epub_is_refused(registry: ExtractorRegistry, docs: ModuleType) -> None:
    assert _code(registry, docs.drm_epub(docs.epub_book(CHAPTERS))) == "archive-encrypted"


def test_a_password_protected_zip_is_refused(registry: ExtractorRegistry, docs: ModuleType) -> None:
    assert _code(registry, _set_flag(docs.epub_book(CHAPTERS), 0x1)) == "archive-encrypted"


def test_an_epub_with_a_broken_package_is_corrupt(registry: ExtractorRegistry, docs: ModuleType) -> None:
    data = docs.zip_of(
        [
            ("mimetype", b"application/epub+zip"),
            ("META-INF/container.xml", b"<container>not an epub</container>"),
        ]
    )
    assert _code(registry, data) == "archive-corrupt"


def test_a_truncated_epub_is_corrupt(registry: ExtractorRegistry, docs: ModuleType) -> None:
    data = docs.epub_book(CHAPTERS)
    assert _code(registry, data[: len(data) // 2], "application/epub+zip") == "archive-corrupt"


def test_an_unusual_compression_method_is_refused(registry: ExtractorRegistry, docs: ModuleType) -> None:
    data = docs.zip_of(
        [("mimetype", b"application/epub+zip"), ("META-INF/container.xml", b"<c/>")],
        compression=zipfile.ZIP_BZIP2,
    )
    assert _code(registry, data) == "archive-corrupt"


def test_docx_headings_title_and_tables(registry: ExtractorRegistry, docs: ModuleType) -> None:
    data = docs.docx_document(
        [
            ("title", "Handbook"),
            ("p", "Read this first."),
            ("h1", "Money"),
            ("p", "Creators are paid monthly."),
            ("h2", "Refunds"),
            ("p", "Refunds reverse revenue."),
            ("h3", "Disputes"),
        ],
        table=[["Plan", "Price"], ["Basic", "$5"]],
    )
    document = registry.extract(data, file_name="h.docx", declared_mime=None)
    assert document.title == "Handbook"
    assert [(s.text, s.chapter, s.section, s.is_heading) for s in document.segments] == [
        ("Handbook", "Handbook", None, True),
        ("Read this first.", "Handbook", None, False),
        ("Money", "Money", None, True),
        ("Creators are paid monthly.", "Money", None, False),
        ("Refunds", "Money", "Refunds", True),
        ("Refunds reverse revenue.", "Money", "Refunds", False),
        ("Disputes", "Money", "Disputes", True),
        ("Plan | Price", "Money", "Disputes", False),
        ("Basic | $5", "Money", "Disputes", False),
    ]
    assert all(s.page is None for s in document.segments)


def test_docx_title_falls_back_to_core_properties(registry: ExtractorRegistry, docs: ModuleType) -> None:
    data = docs.docx_document([("p", "Body.")], core_title="From Properties")
    assert registry.extract(data, file_name="h.docx", declared_mime=None).title == "From Properties"


def test_a_docx_with_broken_parts_is_corrupt(registry: ExtractorRegistry, docs: ModuleType) -> None:
    data = docs.zip_of([("[Content_Types].xml", b"<Types"), ("word/document.xml", b"<<<not xml")])
    assert _code(registry, data) == "archive-corrupt"


def test_an_empty_docx_has_no_text(registry: ExtractorRegistry, docs: ModuleType) -> None:
    assert _code(registry, docs.docx_document([("p", "   ")])) == "no-extractable-text"


def test_a_docx_bomb_is_refused(registry: ExtractorRegistry, docs: ModuleType) -> None:
    assert _code(registry, docs.lying_zip(docs.docx_document([("p", "x")]))) == "archive-bomb"

"""Shared by the extractors: text clean-up, text decoding, the heading outline that assigns
chapters and sections, and a collector that stops a document growing past the limits."""

from __future__ import annotations

import codecs
import re
import unicodedata
from typing import Protocol

from application.ingestion.ports import ExtractionError, ExtractionFailure, ExtractionLimits
from domain.text.document import ExtractedDocument, Segment

MAX_HEADING_CHARS = 200
"""Longer "headings" are paragraphs styled as headings: only their start names the section."""

# Invisible characters that break words apart for search or carry nothing: soft hyphen,
# zero-width space/joiners, word joiner, byte-order mark; and C0/C1 controls other than
# whitespace, which some PDF producers emit.
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff\x00-\x08\x0e-\x1f\x7f-\x9f]")


class FormatExtractor(Protocol):
    """One format's reader; the registry has already checked the type and size."""

    media_types: frozenset[str]

    def extract(
        self, data: bytes, *, file_name: str, media_type: str, limits: ExtractionLimits
    ) -> ExtractedDocument: ...


def clean(text: str) -> str:
    """One line of prose: NFC, invisible characters dropped, whitespace runs made one space."""
    return " ".join(_INVISIBLE.sub("", unicodedata.normalize("NFC", text)).split())


def heading_name(text: str) -> str:
    name = clean(text)
    return name if len(name) <= MAX_HEADING_CHARS else name[: MAX_HEADING_CHARS - 1].rstrip() + "…"


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark) or UTF-16 with one; anything else is refused
    rather than guessed, since a wrong guess silently garbles every citation."""
    if data.startswith(codecs.BOM_UTF8):
        encoding, data = "utf-8", data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ExtractionError(
            ExtractionFailure.TEXT_ENCODING,
            f"The text is not valid {encoding.upper()} (byte {exc.start}): "
            "save it as UTF-8 and upload it again.",
        ) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


class Outline:
    """Tracks the current chapter and section as headings go by.

    Level 1 starts a chapter (and clears the section); levels 2 and 3 name the section; deeper
    headings are body text, since sections that small would cut chunks too fine. With a fixed
    chapter (an EPUB file whose chapter comes from the table of contents) every heading names a
    section except one repeating the chapter's own title.
    """

    def __init__(self, *, chapter: str | None = None, fixed_chapter: bool = False) -> None:
        self.chapter = heading_name(chapter) if chapter else None
        self.section: str | None = None
        self._fixed = fixed_chapter

    def heading(self, level: int, text: str, *, page: int | None = None) -> Segment | None:
        body = clean(text)
        if not body:
            return None
        if level > 3:
            return self.body(body, page=page)
        name = heading_name(body)
        if self._fixed:
            if self.chapter is None or name.casefold() != self.chapter.casefold():
                self.section = name
        elif level <= 1:
            self.chapter, self.section = name, None
        else:
            self.section = name
        return Segment(text=body, page=page, chapter=self.chapter, section=self.section, is_heading=True)

    def body(self, text: str, *, page: int | None = None) -> Segment | None:
        body = clean(text)
        if not body:
            return None
        return Segment(text=body, page=page, chapter=self.chapter, section=self.section)


class Collector:
    """Gathers segments, refusing a document that grows past ``limits.max_chars`` as soon as it
    does (not after a 2 GB string has been built)."""

    def __init__(self, limits: ExtractionLimits) -> None:
        self._limits = limits
        self.segments: list[Segment] = []
        self.chars = 0

    def add(self, segment: Segment | None) -> None:
        if segment is None:
            return
        self.chars += len(segment.text)
        if self.chars > self._limits.max_chars:
            raise ExtractionError(
                ExtractionFailure.TOO_LONG,
                f"The document has more than {self._limits.max_chars:,} characters of text: "
                "split it into several files.",
            )
        self.segments.append(segment)

"""What an extractor makes of an uploaded file: an ordered list of `Segment`s.

A segment is one block of text (a paragraph, a heading, a table row, a run of merged transcript
cues) with the place it came from: the page of a PDF, the chapter and section it sits under, or
the time range of a transcript. The chunker copies these onto every chunk, so a citation can say
"page 12" or "at 14:03" and the creator can check it.

``chapter`` is the top-level division (an EPUB chapter, a level-1 heading); ``section`` the most
specific heading of level 2 or 3 under it (reset when a new chapter starts). A change of either
is a boundary no chunk crosses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from domain.errors import InvalidValue


@dataclass(frozen=True, slots=True, kw_only=True)
class Segment:
    """One block of extracted text and where it came from."""

    text: str
    page: int | None = None
    section: str | None = None
    chapter: str | None = None
    start_seconds: float | None = None
    end_seconds: float | None = None
    is_heading: bool = False
    """The block is the heading that opens its section: a chunk never holds a heading alone
    when body text follows it (see the chunker)."""

    def __post_init__(self) -> None:
        if self.page is not None and self.page < 1:
            raise InvalidValue(f"A page number starts at 1, got {self.page}.")
        for name in ("start_seconds", "end_seconds"):
            value = getattr(self, name)
            if value is not None and (not math.isfinite(value) or value < 0):
                raise InvalidValue(f"{name} must be a finite, non-negative number of seconds.")
        if (self.start_seconds is None) != (self.end_seconds is None):
            raise InvalidValue("A transcript segment needs both a start and an end time.")
        if (
            self.start_seconds is not None
            and self.end_seconds is not None
            and self.end_seconds < self.start_seconds
        ):
            raise InvalidValue("A transcript segment cannot end before it starts.")

    @property
    def boundary(self) -> tuple[str | None, str | None]:
        """Segments with different boundaries never share a chunk."""
        return (self.chapter, self.section)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtractedDocument:
    """The text of one uploaded file, in reading order.

    ``media_type`` is the type the bytes were read as (sniffed and checked against what the
    uploader declared); ``page_count`` is set for paged formats (PDF), ``duration_seconds`` for
    transcripts.
    """

    media_type: str
    segments: tuple[Segment, ...]
    title: str | None = None
    page_count: int | None = None
    duration_seconds: float | None = None
    warnings: tuple[str, ...] = field(default=())
    """Things a creator may want to know that did not stop extraction (skipped blank pages)."""

    @property
    def char_count(self) -> int:
        return sum(len(segment.text) for segment in self.segments)

    @property
    def has_text(self) -> bool:
        return any(segment.text.strip() for segment in self.segments)

"""Markdown and plain text, read line by line (no dependency, no surprises).

Markdown: ATX (``# Title``) and setext (underlined) headings, fenced code kept as one block,
list items and block quotes as their own blocks, YAML front matter dropped (its ``title`` is the
document's title), inline syntax reduced to its text (``[label](url)`` -> ``label``).

Plain text: paragraphs are separated by blank lines; a paragraph of one short line is a heading
when it reads like one: "Chapter 3", "Part Two", "Preface"... start a chapter, a short line in
capitals names a section.
"""

from __future__ import annotations

import re
from typing import Final

from adapters.extraction._common import Collector, Outline, decode_text
from adapters.extraction.sniffing import MARKDOWN, PLAIN
from application.ingestion.ports import ExtractionLimits
from domain.text.document import ExtractedDocument

_ATX: Final = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT: Final = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE: Final = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ITEM: Final = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+")
_QUOTE: Final = re.compile(r"^ {0,3}>[ \t]?")
_RULE: Final = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_IMAGE: Final = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK: Final = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\[[^\]]*\]")
_EMPHASIS: Final = re.compile(r"(\*\*|__|~~|`+)(?=\S)(.+?)(?<=\S)\1")
_TAG: Final = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_FRONT_TITLE: Final = re.compile(r"^title\s*:\s*(.+?)\s*$", re.IGNORECASE)
_CHAPTER_WORDS: Final = re.compile(
    r"^(?:chapter|part|book|volume|prologue|epilogue|preface|foreword|introduction|afterword|"
    r"appendix|acknowledg(?:e)?ments|contents)\b",
    re.IGNORECASE,
)
_MAX_HEADING_LINE = 80


def _inline(text: str) -> str:
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(lambda m: m.group(1) or m.group(2), text)
    text = _EMPHASIS.sub(r"\2", text)
    return _TAG.sub(" ", text)


def _front_matter(lines: list[str]) -> tuple[list[str], str | None]:
    if not lines or lines[0].strip() != "---":
        return lines, None
    for index, line in enumerate(lines[1:101], start=1):
        if line.strip() in ("---", "..."):
            title = next(
                (m.group(1).strip("'\"") for m in map(_FRONT_TITLE.match, lines[1:index]) if m), None
            )
            return lines[index + 1 :], title or None
    return lines, None


class _MarkdownReader:
    def __init__(self, limits: ExtractionLimits) -> None:
        self.outline = Outline()
        self.collector = Collector(limits)
        self.paragraph: list[str] = []
        self.first_heading: str | None = None

    def flush(self) -> None:
        if self.paragraph:
            self.collector.add(self.outline.body(_inline(" ".join(self.paragraph))))
            self.paragraph = []

    def heading(self, level: int, text: str) -> None:
        self.flush()
        segment = self.outline.heading(level, _inline(text))
        if segment is not None and self.first_heading is None and level == 1:
            self.first_heading = segment.text
        self.collector.add(segment)

    def read(self, lines: list[str]) -> None:
        fence: str | None = None
        code: list[str] = []
        for line in lines:
            if fence is not None:
                if line.strip().startswith(fence):
                    self.collector.add(self.outline.body(" ".join(code)))
                    fence, code = None, []
                else:
                    code.append(line)
                continue
            if match := _FENCE.match(line):
                self.flush()
                fence = match.group(1)
            elif match := _ATX.match(line):
                self.heading(len(match.group(1)), match.group(2) or "")
            elif (match := _SETEXT.match(line)) and self.paragraph:
                last = self.paragraph.pop()
                self.heading(1 if match.group(1)[0] == "=" else 2, last)
            elif not line.strip() or _RULE.match(line):
                self.flush()
            elif _ITEM.match(line) or _QUOTE.match(line):
                self.flush()
                self.paragraph.append(_QUOTE.sub("", _ITEM.sub("", line)))
            else:
                self.paragraph.append(line.strip())
        if code:
            self.collector.add(self.outline.body(" ".join(code)))
        self.flush()


class MarkdownExtractor:
    media_types = frozenset({MARKDOWN})

    def extract(
        self, data: bytes, *, file_name: str, media_type: str, limits: ExtractionLimits
    ) -> ExtractedDocument:
        lines, title = _front_matter(decode_text(data).split("\n"))
        reader = _MarkdownReader(limits)
        reader.read(lines)
        return ExtractedDocument(
            media_type=MARKDOWN,
            segments=tuple(reader.collector.segments),
            title=title or reader.first_heading,
        )


def _plain_heading_level(paragraph: list[str]) -> int:
    if len(paragraph) != 1:
        return 0
    line = paragraph[0].strip()
    if not line or len(line) > _MAX_HEADING_LINE:
        return 0
    if _CHAPTER_WORDS.match(line):
        return 1
    letters = [c for c in line if c.isalpha()]
    if len(letters) >= 3 and all(c.isupper() for c in letters) and not line.endswith((".", ",", ";", ":")):
        return 2
    return 0


class PlainTextExtractor:
    media_types = frozenset({PLAIN})

    def extract(
        self, data: bytes, *, file_name: str, media_type: str, limits: ExtractionLimits
    ) -> ExtractedDocument:
        outline = Outline()
        collector = Collector(limits)
        paragraph: list[str] = []
        for line in [*decode_text(data).split("\n"), ""]:
            if line.strip():
                paragraph.append(line)
                continue
            if paragraph:
                level = _plain_heading_level(paragraph)
                text = " ".join(paragraph)
                collector.add(outline.heading(level, text) if level else outline.body(text))
                paragraph = []
        return ExtractedDocument(media_type=PLAIN, segments=tuple(collector.segments))

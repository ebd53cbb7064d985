"""SRT and WebVTT transcripts: cues with timestamps instead of pages.

Caption cues are a few words each, and auto-generated captions "roll" (each cue repeats the
line before it), so cues are cleaned and merged into passages: a repeated line is dropped, and
a passage ends at a pause longer than ``_MAX_GAP_SECONDS``, at a change of speaker, or once it
is long enough and ends a sentence. Each passage keeps the start of its first cue and the end of
its last, so a citation can point at the moment it was said. Malformed cues are skipped;
a file without a single readable cue has no text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Final

from adapters.extraction._common import Collector, clean, decode_text
from adapters.extraction.sniffing import SRT, VTT
from application.ingestion.ports import ExtractionError, ExtractionFailure, ExtractionLimits
from domain.text.document import ExtractedDocument, Segment

_TIME: Final = r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})"
_TIMING: Final = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
_VOICE: Final = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_TAGS: Final = re.compile(r"<[^>]*>|\{\\[^}]*\}")
_BLOCK_SPLIT: Final = re.compile(r"\n[ \t]*\n")
_MAX_GAP_SECONDS = 2.5
_MAX_PASSAGE_CHARS = 600
_MIN_PASSAGE_CHARS = 200
_SENTENCE_END: Final = (".", "!", "?", "…", '."', '?"', '!"')


@dataclass(slots=True)
class _Cue:
    start: float
    end: float
    speaker: str | None
    lines: list[str]


def _seconds(groups: tuple[str | None, ...]) -> float:
    hours, minutes, seconds, fraction = groups
    millis = int((fraction or "0").ljust(3, "0"))
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds or 0) + millis / 1000


def _cues(text: str, *, vtt: bool) -> list[_Cue]:
    cues: list[_Cue] = []
    blocks = _BLOCK_SPLIT.split(text.strip())
    if vtt:
        blocks = blocks[1:]  # the WEBVTT header block
    for block in blocks:
        lines = block.split("\n")
        if vtt and lines[0].strip().startswith(("NOTE", "STYLE", "REGION")):
            continue
        timing_at = next((i for i, line in enumerate(lines[:3]) if "-->" in line), None)
        if timing_at is None:
            continue
        match = _TIMING.match(lines[timing_at])
        if match is None:
            continue
        start, end = _seconds(match.groups()[:4]), _seconds(match.groups()[4:])
        if end < start:
            continue
        speaker = None
        body: list[str] = []
        for raw in lines[timing_at + 1 :]:
            voice = _VOICE.search(raw)
            if voice:
                speaker = clean(voice.group(1))
            line = clean(html.unescape(_TAGS.sub("", raw)))
            if line:
                body.append(line)
        if body:
            cues.append(_Cue(start, end, speaker or None, body))
    cues.sort(key=lambda cue: cue.start)  # stable: cues with the same start keep file order
    return cues


def _passages(cues: list[_Cue]) -> list[Segment]:
    passages: list[Segment] = []
    words: list[str] = []
    start = end = 0.0
    speaker: str | None = None
    previous: list[str] = []

    def close() -> None:
        if words:
            passages.append(Segment(text=" ".join(words), start_seconds=start, end_seconds=end))
            words.clear()

    for cue in cues:
        fresh = [line for line in cue.lines if line not in previous]
        previous = cue.lines
        text = " ".join(fresh)
        if words:
            passage = " ".join(words)
            if (
                cue.start - end > _MAX_GAP_SECONDS
                or cue.speaker != speaker
                or len(passage) + len(text) > _MAX_PASSAGE_CHARS
                or (len(passage) >= _MIN_PASSAGE_CHARS and passage.endswith(_SENTENCE_END))
            ):
                close()
        if not fresh:
            end = max(end, cue.end)  # a rolling repeat only extends the passage
            continue
        if not words:
            start = cue.start
            if cue.speaker and cue.speaker != speaker:
                text = f"{cue.speaker}: {text}"
        speaker = cue.speaker
        words.append(text)
        end = max(end, cue.end) if len(words) > 1 else cue.end
    close()
    return passages


class SubtitleExtractor:
    """SRT and WebVTT files."""

    media_types = frozenset({SRT, VTT})

    def extract(
        self, data: bytes, *, file_name: str, media_type: str, limits: ExtractionLimits
    ) -> ExtractedDocument:
        cues = _cues(decode_text(data), vtt=media_type == VTT)
        if not cues:
            raise ExtractionError(
                ExtractionFailure.NO_TEXT, "The subtitle file has no readable cues (timestamps with text)."
            )
        collector = Collector(limits)
        for passage in _passages(cues):
            collector.add(passage)
        return ExtractedDocument(
            media_type=media_type,
            segments=tuple(collector.segments),
            duration_seconds=max(cue.end for cue in cues),
        )

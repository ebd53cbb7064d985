"""Chunking: cutting an extracted document into the pieces that are embedded, retrieved, cited and
paid for.

Rules, and why:

- A chunk holds whole sentences, up to ``policy.target_tokens`` tokens (``canon-tok-1``). Only a
  sentence longer than that is cut, at whitespace (and a whitespace-free run longer than that at
  characters), so retrieval returns complete thoughts.
- A chunk never spans two sections or chapters: a citation names one place, and text from
  two sections in one chunk would pay and cite the wrong one. A heading with no text of its own
  before the next heading (a part title over a chapter title) is carried into the chunk of what
  follows it instead of becoming a chunk that answers nothing.
- Consecutive chunks of one section overlap by up to ``policy.overlap_tokens`` tokens of whole
  sentences, so an answer straddling a cut is still found; ``overlap_chars`` marks the repeated
  prefix, and dropping it from every chunk gives back the whole document, nothing lost.
  ``overlap_tokens`` counts that prefix, so usage of two neighbouring chunks can be counted
  without paying twice for the text they share.
- Every chunk keeps its first page and last page, section, chapter, or its time range.
- Same input, same chunks: a chunk's id is a UUIDv5 of (file id, ordinal), so re-running
  ingestion of a file overwrites its chunks instead of duplicating them. Its checksum is the
  SHA-256 of its text, so an unchanged chunk need not be embedded again.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from domain.errors import InvalidValue
from domain.text.document import Segment
from domain.text.sentences import split_sentences
from domain.text.tokens import TOKENIZER_ID, count_tokens

CHUNK_ID_NAMESPACE = uuid.UUID("5b0c7f4e-3c1d-4a8e-9f62-0d3b8a1e6c47")
"""Fixed forever: changing it would give every existing chunk a new id."""

MIN_TARGET_TOKENS = 16
MAX_TARGET_TOKENS = 8192


@dataclass(frozen=True, slots=True, kw_only=True)
class ChunkingPolicy:
    """How big chunks are. ``overlap_tokens`` is at most half of ``target_tokens`` so every chunk
    brings at least as much new text as it repeats."""

    target_tokens: int = 400
    overlap_tokens: int = 48

    def __post_init__(self) -> None:
        if not MIN_TARGET_TOKENS <= self.target_tokens <= MAX_TARGET_TOKENS:
            raise InvalidValue(
                f"target_tokens must be between {MIN_TARGET_TOKENS} and {MAX_TARGET_TOKENS}, "
                f"got {self.target_tokens}."
            )
        if not 0 <= self.overlap_tokens <= self.target_tokens // 2:
            raise InvalidValue(
                f"overlap_tokens must be between 0 and half of target_tokens, got {self.overlap_tokens}."
            )


DEFAULT_POLICY = ChunkingPolicy()


@dataclass(frozen=True, slots=True, kw_only=True)
class ChunkDraft:
    """A chunk ready to be stored and embedded. ``page``..``page_end`` is the page range its
    text comes from (lowest to highest); ``text[overlap_chars:]`` is the part not already in
    the previous chunk, and ``overlap_tokens`` the tokens of the part that is."""

    id: str
    file_id: str
    ordinal: int
    text: str
    token_count: int
    checksum: str
    tokenizer: str
    page: int | None
    page_end: int | None
    section: str | None
    chapter: str | None
    start_seconds: float | None
    end_seconds: float | None
    overlap_chars: int
    overlap_tokens: int


def chunk_id(file_id: str, ordinal: int) -> str:
    """The id of the ``ordinal``-th chunk of a file: the same on every run."""
    return str(uuid.uuid5(CHUNK_ID_NAMESPACE, f"{file_id}/{ordinal}"))


@dataclass(frozen=True, slots=True)
class _Unit:
    text: str
    tokens: int
    joiner: str  # what separates it from the unit before it in the same chunk
    segment: Segment


def _fit_pieces(run: str, limit: int) -> list[str]:
    """A whitespace-free run cut into pieces of at most ``limit`` tokens (a token never takes
    less than one character, so ``limit`` characters is a first guess; normalisation may
    lengthen text, hence the check)."""
    pieces = [run[i : i + limit] for i in range(0, len(run), limit)]
    fitted: list[str] = []
    while pieces:
        piece = pieces.pop(0)
        if count_tokens(piece) <= limit or len(piece) == 1:
            fitted.append(piece)
        else:
            half = len(piece) // 2
            pieces[:0] = [piece[:half], piece[half:]]
    return fitted


def _units_of_sentence(sentence: str, joiner: str, segment: Segment, limit: int) -> list[_Unit]:
    tokens = count_tokens(sentence)
    if tokens <= limit:
        return [_Unit(sentence, tokens, joiner, segment)]
    units: list[_Unit] = []
    words: list[str] = []
    words_tokens = 0
    for word in sentence.split():
        word_tokens = count_tokens(word)
        if word_tokens > limit:
            if words:
                units.append(_Unit(" ".join(words), words_tokens, joiner if not units else " ", segment))
                words, words_tokens = [], 0
            for index, piece in enumerate(_fit_pieces(word, limit)):
                piece_joiner = "" if index else (joiner if not units else " ")
                units.append(_Unit(piece, count_tokens(piece), piece_joiner, segment))
            continue
        if words and words_tokens + word_tokens > limit:
            units.append(_Unit(" ".join(words), words_tokens, joiner if not units else " ", segment))
            words, words_tokens = [], 0
        words.append(word)
        words_tokens += word_tokens
    if words:
        units.append(_Unit(" ".join(words), words_tokens, joiner if not units else " ", segment))
    return units


Place = tuple[str | None, str | None]


def _groups(segments: Iterable[Segment], limit: int) -> list[tuple[Place, list[_Unit]]]:
    """Units grouped by section; a group of headings only is carried into the next group,
    whose place it takes."""
    groups: list[tuple[Place, list[_Unit], bool]] = []
    for segment in segments:
        sentences = split_sentences(segment.text)
        if not sentences:
            continue
        if not groups or groups[-1][0] != segment.boundary:
            groups.append((segment.boundary, [], True))
        boundary, units, headings_only = groups[-1]
        for index, sentence in enumerate(sentences):
            joiner = " " if index else "\n\n"
            units.extend(_units_of_sentence(sentence, joiner, segment, limit))
        groups[-1] = (boundary, units, headings_only and segment.is_heading)
    merged: list[tuple[Place, list[_Unit]]] = []
    carried: list[_Unit] = []
    for index, (place, units, headings_only) in enumerate(groups):
        if headings_only and index + 1 < len(groups):
            carried.extend(units)
            continue
        merged.append((place, carried + units))
        carried = []
    return merged


def _render(units: list[_Unit]) -> str:
    return "".join((unit.joiner if i else "") + unit.text for i, unit in enumerate(units))


def _draft(file_id: str, ordinal: int, place: Place, units: list[_Unit], overlap: int) -> ChunkDraft:
    text = _render(units)
    overlap_chars = len(_render(units[:overlap])) + len(units[overlap].joiner) if overlap else 0
    overlap_tokens = _tokens_of(units[:overlap])
    pages = [u.segment.page for u in units if u.segment.page is not None]
    starts = [u.segment.start_seconds for u in units if u.segment.start_seconds is not None]
    ends = [u.segment.end_seconds for u in units if u.segment.end_seconds is not None]
    return ChunkDraft(
        id=chunk_id(file_id, ordinal),
        file_id=file_id,
        ordinal=ordinal,
        text=text,
        token_count=count_tokens(text)
        if any(u.joiner == "" for u in units[1:])
        else sum(u.tokens for u in units),
        checksum=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        tokenizer=TOKENIZER_ID,
        page=min(pages) if pages else None,
        page_end=max(pages) if pages else None,
        chapter=place[0],
        section=place[1],
        start_seconds=min(starts) if starts else None,
        end_seconds=max(ends) if ends else None,
        overlap_chars=overlap_chars,
        overlap_tokens=overlap_tokens,
    )


def _measure(current: list[_Unit], total: int, unit: _Unit) -> int:
    """Tokens of ``current`` plus ``unit``: a sum across whitespace (``canon-tok-1`` never
    counts a token across whitespace), a recount where a cut word is glued back together."""
    if unit.joiner == "" and current:
        return count_tokens(_render([*current, unit]))
    return total + unit.tokens


def _pack(group: list[_Unit], policy: ChunkingPolicy) -> list[tuple[list[_Unit], int]]:
    """Greedy packing of whole units, each chunk paired with how many leading units repeat the
    previous chunk."""
    chunks: list[tuple[list[_Unit], int]] = []
    current: list[_Unit] = []
    total = 0
    overlap = 0
    for unit in group:
        added = _measure(current, total, unit)
        if current and added > policy.target_tokens and len(current) > overlap:
            chunks.append((current, overlap))
            current = _overlap_of(current, overlap, policy)
            total = count_tokens(_render(current))
            added = _measure(current, total, unit)
            while current and added > policy.target_tokens:
                current = _trim_front(current[1:])
                total = count_tokens(_render(current))
                added = _measure(current, total, unit)
            overlap = len(current)
        current.append(unit)
        total = added
    if current and len(current) > overlap:
        chunks.append((current, overlap))
    return chunks


def _trim_front(units: list[_Unit]) -> list[_Unit]:
    """Never start a chunk in the middle of a word that was cut to fit."""
    while units and units[0].joiner == "":
        units = units[1:]
    return units


def _overlap_of(previous: list[_Unit], previous_overlap: int, policy: ChunkingPolicy) -> list[_Unit]:
    """The trailing whole units of ``previous`` that fit in the overlap budget, never all of
    the units it added (each chunk must bring something new)."""
    tail: list[_Unit] = []
    for unit in reversed(previous[previous_overlap + 1 :]):
        candidate = [unit, *tail]
        if _tokens_of(candidate) > policy.overlap_tokens:
            break
        tail = candidate
    return _trim_front(tail)


def _tokens_of(units: list[_Unit]) -> int:
    """Tokens of the rendered units. Units are counted already and ``canon-tok-1`` never counts
    a token across whitespace, so summing is exact, except across the seams of a word that was
    cut to fit (a long word counts more than its pieces), which is recounted."""
    if any(u.joiner == "" for u in units[1:]):
        return count_tokens(_render(units))
    return sum(u.tokens for u in units)


def chunk_segments(
    segments: Iterable[Segment], *, file_id: str, policy: ChunkingPolicy = DEFAULT_POLICY
) -> list[ChunkDraft]:
    """The chunks of a document, in reading order, numbered from 0."""
    if not file_id:
        raise InvalidValue("Chunks need the id of the file they come from.")
    drafts: list[ChunkDraft] = []
    for place, group in _groups(segments, policy.target_tokens):
        for units, overlap in _pack(group, policy):
            drafts.append(_draft(file_id, len(drafts), place, units, overlap))
    return drafts

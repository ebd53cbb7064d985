"""Sentence boundaries, so a chunk never ends half-way through a thought.

A rule-based splitter, deterministic and dependency-free: a boundary follows ``.``, ``!``, ``?``
or ``…`` (and any closing quotes or brackets) plus whitespace, unless the next word starts with a
lower-case letter ("e.g. the") or the word before the full stop is a known abbreviation or a
single-letter initial ("Dr. Smith", "J. R. R. Tolkien"). CJK full stops end a sentence without
whitespace. A missed boundary only makes a unit longer (the chunker splits long units at
whitespace); a wrong boundary only makes one shorter: neither loses text.
"""

from __future__ import annotations

import re

_LATIN_END = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+")
_CJK_END = re.compile(r"[。！？]+[」』”’）)]*\s*")
_LAST_WORD = re.compile(r"(\w+)\W*$")
_OPENERS = "\"'“‘«([¿¡"

# Lower-case forms of abbreviations that end in a full stop yet rarely end a sentence (words that
# often do, such as "no", are left out on purpose).
_ABBREVIATIONS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "mt",
        "vs",
        "etc",
        "eg",
        "ie",
        "cf",
        "al",
        "fig",
        "figs",
        "vol",
        "vols",
        "ch",
        "chap",
        "sec",
        "pp",
        "ed",
        "eds",
        "approx",
        "dept",
        "inc",
        "ltd",
        "corp",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "rev",
        "lt",
        "sgt",
        "capt",
        "gov",
    }
)


def _is_boundary(text: str, end: int, terminator: str, stop: int) -> bool:
    following = text[stop:].lstrip(_OPENERS)
    if not following:
        return True
    if following[0].islower():
        return False
    if terminator.rstrip("\"'”’»)]").endswith(".") and not terminator.startswith(".."):
        word = _LAST_WORD.search(text[: end + 1])
        if word is not None:
            token = word.group(1)
            if token.casefold() in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
                return False
    return True


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, stripped and non-empty, in order. Joining them with single
    spaces gives ``text`` back up to whitespace."""
    cuts: list[int] = []
    for match in _LATIN_END.finditer(text):
        terminator = match.group().rstrip()
        if _is_boundary(text, match.start(), terminator, match.end()):
            cuts.append(match.end())
    cuts.extend(match.end() for match in _CJK_END.finditer(text) if match.end() < len(text))
    sentences: list[str] = []
    start = 0
    for cut in sorted(set(cuts)):
        piece = text[start:cut].strip()
        if piece:
            sentences.append(piece)
        start = cut
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences

"""Token counting: the unit creators are paid by, so the same text must always count the same.

``canon-tok-1`` is a small, versioned, offline tokenizer. It needs no download (BPE tokenizers
such as tiktoken fetch their vocabularies at run time and fail offline) and it is deterministic
across machines and Python versions: Unicode NFC normalisation, then a regular expression that
splits words, numbers, single punctuation marks and other symbols; words longer than
``_PIECE`` characters count one token per ``_PIECE`` characters (roughly how BPE splits rare long
words); digit runs count one token per three digits. On English prose it lands near the usual
~1.3 tokens per word of BPE tokenizers, which keeps price and cap settings intuitive.

The identifier is stored with every chunk's token count; changing any rule here means a new
identifier (``canon-tok-2``), never a silent change, because past revenue was computed with it.
"""

from __future__ import annotations

import re
import unicodedata

TOKENIZER_ID = "canon-tok-1"

_PIECE = 4
_WORD = r"[^\W\d_]+(?:['’][^\W\d_]+)*"
_PATTERN = re.compile(rf"(?P<word>{_WORD})|(?P<num>\d+)|(?P<other>[^\w\s])|(?P<under>_+)", re.UNICODE)
_TERM = re.compile(rf"{_WORD}|\d+", re.UNICODE)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def count_tokens(text: str) -> int:
    """Tokens in ``text`` by ``canon-tok-1``: deterministic, offline, never negative."""
    total = 0
    for match in _PATTERN.finditer(_normalise(text)):
        kind = match.lastgroup
        piece = match.group()
        if kind == "word":
            # short words are one token; long ones one per _PIECE characters, rounded up
            total += 1 if len(piece) <= 2 * _PIECE else -(-len(piece) // _PIECE) - 1
        elif kind == "num":
            total += -(-len(piece) // 3)
        else:
            total += 1
    return total


def tokenize(text: str) -> list[str]:
    """Lexical terms for search: lower-cased words and numbers, punctuation dropped."""
    return [m.group().casefold() for m in _TERM.finditer(_normalise(text))]

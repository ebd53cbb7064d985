"""The offline default answer model: quotes the retrieved passages that best match the question.

No language model, no key, no download, no network. It reads the chunks retrieval found,
splits them into sentences, scores each sentence by the question's words it contains (rarer
words weigh more, as in BM25's IDF; a word already covered counts half, so the chosen sentences
cover different parts of the question), and quotes the best ones, each followed by a citation
of its chunk. The answer says at the top, in plain words, that it is an extractive answer
quoting the creator's sources and was not written by a language model.

On an advisor board the quotes are grouped by expert ("Jane Doe: “...”"). Usage is counted
with the project's tokenizer; the cost is zero (see `application.chat.pricing`).
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from application.chat.model_port import (
    AnswerEvent,
    AnswerRequest,
    Citation,
    ContextChunk,
    Done,
    StopReason,
    TextDelta,
    Usage,
)
from domain.text.tokens import count_tokens, tokenize

PROVIDER = "extractive"
MODEL = "extractive-v1"

# Words that say nothing about what is asked; they would match every sentence.
# fmt: off
_STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did", "do",
    "does", "for", "from", "had", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its",
    "me", "my", "of", "on", "or", "should", "so", "than", "that", "the", "their", "them", "then",
    "there", "these", "they", "this", "to", "was", "we", "were", "what", "when", "where", "which",
    "who", "whom", "why", "will", "with", "would", "you", "your", "about", "tell", "explain", "say",
    "says", "said",
})
# fmt: on
# A sentence ends at . ! ? or … (possibly inside a closing quote or bracket) before a space.
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|(?<=[.!?…][\"'”’)\]])\s+|\n\s*\n")
_WORDS_PER_DELTA = 3
_MAX_SENTENCE_WORDS = 60
_COVERED_WEIGHT = 0.5


@dataclass(frozen=True, slots=True)
class _Sentence:
    chunk_rank: int
    position: int
    chunk: ContextChunk
    text: str
    terms: frozenset[str]


class ExtractiveAnswerModel:
    """`max_sentences` bounds the answer's length; `delay_seconds` spaces the deltas out (a demo
    can make the answer type itself; the default streams as fast as the consumer reads)."""

    def __init__(self, *, max_sentences: int = 6, max_per_chunk: int = 3, delay_seconds: float = 0.0) -> None:
        if max_sentences < 1 or max_per_chunk < 1:
            raise ValueError("max_sentences and max_per_chunk must be at least 1")
        if delay_seconds < 0:
            raise ValueError("delay_seconds must not be negative")
        self._max_sentences = max_sentences
        self._max_per_chunk = max_per_chunk
        self._delay = delay_seconds

    @property
    def provider(self) -> str:
        return PROVIDER

    @property
    def default_model(self) -> str:
        return MODEL

    async def stream(self, request: AnswerRequest) -> AsyncIterator[AnswerEvent]:
        emitted = ""
        stop = StopReason.COMPLETE
        for segment, quoted in self._compose(request):
            shown = ""
            for piece in _pieces(segment):
                if count_tokens(emitted + piece) > request.max_output_tokens:
                    stop = StopReason.MAX_TOKENS
                    break
                emitted += piece
                shown += piece
                yield TextDelta(piece)
                if self._delay:
                    await asyncio.sleep(self._delay)
            if quoted is not None and shown.strip():
                yield Citation(quoted.chunk.chunk_id, quote=quoted.text)
            if stop is StopReason.MAX_TOKENS:
                break
        yield Usage(
            provider=PROVIDER,
            model=MODEL,
            input_tokens=_input_tokens(request),
            output_tokens=count_tokens(emitted),
        )
        yield Done(stop)

    def _compose(self, request: AnswerRequest) -> Iterator[tuple[str, _Sentence | None]]:
        """The answer as segments; a quoted sentence's segment is followed by its citation."""
        whose = _whose_sources(request)
        if not request.context:
            yield (
                f"I could not find anything in {whose} sources that answers this question. "
                "(This is an extractive answer: without a language model, it can only quote the sources.)",
                None,
            )
            return
        chosen, matched = self._select(request)
        yield (
            f"This is an extractive answer: it quotes {whose} sources word for word, chosen by matching "
            "the words of your question. It was not written by a language model.\n\n",
            None,
        )
        if not matched:
            yield "None of the passages found uses the words of your question; these come closest:\n\n", None
        for group, (heading, sentences) in enumerate(_grouped(chosen, board=request.advisor_board)):
            yield ("\n\n" if group else "") + heading, None
            for index, sentence in enumerate(sentences):
                yield (" " if index else "") + f"“{sentence.text}”", sentence

    def _select(self, request: AnswerRequest) -> tuple[list[_Sentence], bool]:
        sentences = [
            _Sentence(rank, position, chunk, text, frozenset(tokenize(text)))
            for rank, chunk in enumerate(request.context)
            for position, text in enumerate(_sentences(chunk.text))
        ]
        asked = set(tokenize(request.question))
        wanted = (asked - _STOPWORDS) or asked
        document_frequency = Counter(term for sentence in sentences for term in sentence.terms & wanted)
        weight = {term: math.log(1.0 + len(sentences) / df) for term, df in document_frequency.items()}
        covered: set[str] = set()
        per_chunk: Counter[int] = Counter()
        chosen: list[_Sentence] = []
        quoted: set[str] = set()
        candidates = [sentence for sentence in sentences if sentence.terms & wanted]
        while candidates and len(chosen) < self._max_sentences:
            best = max(candidates, key=lambda sentence: _score(sentence, wanted, weight, covered))
            candidates.remove(best)
            # Overlapping chunks repeat sentences; quote each sentence once.
            if per_chunk[best.chunk_rank] >= self._max_per_chunk or best.text in quoted:
                continue
            quoted.add(best.text)
            per_chunk[best.chunk_rank] += 1
            covered |= best.terms & wanted
            chosen.append(best)
        if chosen:
            return chosen, True
        # Nothing shares a word with the question (a semantic search may still have found the
        # right passages): quote the opening of the two best-ranked chunks.
        openings = [sentence for sentence in sentences if sentence.position == 0][:2]
        return openings, False


def _score(
    sentence: _Sentence, wanted: set[str], weight: dict[str, float], covered: set[str]
) -> tuple[float, int, int]:
    total = sum(
        weight[term] * (_COVERED_WEIGHT if term in covered else 1.0) for term in sentence.terms & wanted
    )
    # Ties go to the better-ranked chunk, then to the earlier sentence.
    return (total, -sentence.chunk_rank, -sentence.position)


def _grouped(chosen: list[_Sentence], *, board: bool) -> list[tuple[str, list[_Sentence]]]:
    """Groups in order of first appearance; within a group, sentences keep reading order."""
    groups: dict[str, list[_Sentence]] = {}
    for sentence in chosen:
        if board:
            key = f"{sentence.chunk.creator_name}: " if sentence.chunk.creator_name else "Other sources: "
        else:
            key = _source_heading(sentence.chunk)
        groups.setdefault(key, []).append(sentence)
    return [
        (heading, sorted(members, key=lambda s: (s.chunk_rank, s.position)))
        for heading, members in groups.items()
    ]


def _source_heading(chunk: ContextChunk) -> str:
    where = []
    if chunk.section:
        where.append(f"section “{chunk.section}”")
    if chunk.page is not None:
        where.append(f"p. {chunk.page}")
    title = f"“{chunk.source_title}”" if chunk.source_title else "a source"
    return f"From {title}" + (f" ({', '.join(where)})" if where else "") + ": "


def _whose_sources(request: AnswerRequest) -> str:
    if request.advisor_board:
        return "the board's experts'"
    names = {chunk.creator_name for chunk in request.context if chunk.creator_name}
    if len(names) == 1:
        return f"{next(iter(names))}'s"
    return "the creator's"


def _sentences(text: str) -> list[str]:
    """Sentences of a chunk; an unpunctuated run (a raw transcript) is cut every 60 words."""
    out: list[str] = []
    for part in _SENTENCE_END.split(text):
        words = part.split()
        for start in range(0, len(words), _MAX_SENTENCE_WORDS):
            sentence = " ".join(words[start : start + _MAX_SENTENCE_WORDS])
            if sentence:
                out.append(sentence)
    return out


def _pieces(segment: str) -> Iterator[str]:
    """Small deltas of a few words each, whitespace kept, so the answer streams like typing."""
    words = re.findall(r"\s*\S+\s*", segment)
    if not words:
        if segment:
            yield segment
        return
    for start in range(0, len(words), _WORDS_PER_DELTA):
        yield "".join(words[start : start + _WORDS_PER_DELTA])


def _input_tokens(request: AnswerRequest) -> int:
    texts = [request.system_prompt, *(turn.content for turn in request.messages)]
    texts.extend(chunk.text for chunk in request.context)
    return sum(count_tokens(text) for text in texts if text)

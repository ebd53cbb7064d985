import hashlib
import itertools
import re
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidValue
from domain.text.chunking import (
    CHUNK_ID_NAMESPACE,
    ChunkDraft,
    ChunkingPolicy,
    chunk_id,
    chunk_segments,
)
from domain.text.document import Segment
from domain.text.tokens import TOKENIZER_ID, count_tokens

_WS = re.compile(r"\s+")

words = st.one_of(
    st.sampled_from(["the", "cat", "Sat", "on", "a", "mat", "Dr.", "e.g.", "42", "3.14", "naïve", "東京"]),
    st.text(alphabet="abcdefghij", min_size=1, max_size=400),  # long words get cut into pieces
    st.text(min_size=1, max_size=8).filter(lambda w: w.strip() == w and w),
)
sentences = st.builds(
    lambda ws, end: " ".join(ws) + end,
    st.lists(words, min_size=1, max_size=15),
    st.sampled_from([".", "!", "?", "", "…", '."']),
)
paragraphs = st.builds(" ".join, st.lists(sentences, min_size=0, max_size=6))
places = st.sampled_from([(None, None), ("One", None), ("One", "1.1"), ("One", "1.2"), ("Two", "2.1")])


@st.composite
def documents(draw: st.DrawFn, *, headings: bool = True) -> list[Segment]:
    segments = []
    for _ in range(draw(st.integers(0, 12))):
        chapter, section = draw(places)
        segments.append(
            Segment(
                text=draw(paragraphs),
                page=draw(st.none() | st.integers(1, 30)),
                chapter=chapter,
                section=section,
                is_heading=draw(st.booleans()) if headings else False,
            )
        )
    return segments


policies = st.integers(16, 160).flatmap(
    lambda target: st.builds(
        ChunkingPolicy, target_tokens=st.just(target), overlap_tokens=st.integers(0, target // 2)
    )
)


def _squash(text: str) -> str:
    return _WS.sub("", text)


def _new_text(chunks: list[ChunkDraft]) -> str:
    return "".join(chunk.text[chunk.overlap_chars :] for chunk in chunks)


@settings(max_examples=150)
@given(documents(), policies)
def test_dropping_the_overlaps_gives_back_every_character(
    segments: list[Segment], policy: ChunkingPolicy
) -> None:
    chunks = chunk_segments(segments, file_id="file-1", policy=policy)
    assert _squash(_new_text(chunks)) == _squash("".join(s.text for s in segments))


@settings(max_examples=150)
@given(documents(), policies)
def test_sizes_stay_within_the_target(segments: list[Segment], policy: ChunkingPolicy) -> None:
    for chunk in chunk_segments(segments, file_id="file-1", policy=policy):
        assert chunk.token_count >= 1
        assert chunk.token_count <= policy.target_tokens
        assert chunk.token_count == count_tokens(chunk.text)
        assert chunk.text == chunk.text.strip()
        assert 0 <= chunk.overlap_chars < len(chunk.text)
        assert chunk.overlap_tokens == count_tokens(chunk.text[: chunk.overlap_chars])
        assert 0 <= chunk.overlap_tokens <= policy.overlap_tokens
        assert chunk.overlap_tokens < chunk.token_count


@settings(max_examples=100)
@given(documents(), policies)
def test_overlap_repeats_the_end_of_the_previous_chunk_of_the_same_section(
    segments: list[Segment], policy: ChunkingPolicy
) -> None:
    chunks = chunk_segments(segments, file_id="file-1", policy=policy)
    if chunks:
        assert chunks[0].overlap_chars == 0
    for before, after in itertools.pairwise(chunks):
        if after.overlap_chars:
            repeated = after.text[: after.overlap_chars].rstrip()
            assert before.text.endswith(repeated)
            assert (before.chapter, before.section) == (after.chapter, after.section)
            assert count_tokens(repeated) <= policy.overlap_tokens


@settings(max_examples=100)
@given(documents(headings=False), policies)
def test_no_chunk_crosses_a_section(segments: list[Segment], policy: ChunkingPolicy) -> None:
    chunks = chunk_segments(segments, file_id="file-1", policy=policy)
    texts = [s for s in segments if s.text.strip()]
    runs = [(key, list(run)) for key, run in itertools.groupby(texts, key=lambda s: s.boundary)]
    chunk_runs = [
        (key, list(run)) for key, run in itertools.groupby(chunks, key=lambda c: (c.chapter, c.section))
    ]
    assert [key for key, _ in chunk_runs] == [key for key, _ in runs]
    for (_, run), (_, run_chunks) in zip(runs, chunk_runs, strict=True):
        assert _squash(_new_text(run_chunks)) == _squash("".join(s.text for s in run))
        pages = {s.page for s in run if s.page is not None}
        for chunk in run_chunks:
            assert (chunk.page is None) == (chunk.page_end is None)
            if chunk.page is not None and chunk.page_end is not None:
                assert chunk.page in pages
                assert chunk.page_end in pages
                assert chunk.page <= chunk.page_end
        if pages:
            assert min(pages) == min(c.page for c in run_chunks if c.page is not None)
            assert max(pages) == max(c.page_end for c in run_chunks if c.page_end is not None)


@settings(max_examples=100)
@given(documents(), policies)
def test_chunking_is_deterministic_with_ids_from_file_and_ordinal(
    segments: list[Segment], policy: ChunkingPolicy
) -> None:
    first = chunk_segments(segments, file_id="0190f3c2-0000-7000-8000-000000000001", policy=policy)
    again = chunk_segments(list(segments), file_id="0190f3c2-0000-7000-8000-000000000001", policy=policy)
    assert first == again
    assert [c.ordinal for c in first] == list(range(len(first)))
    for chunk in first:
        assert chunk.id == str(uuid.uuid5(CHUNK_ID_NAMESPACE, f"{chunk.file_id}/{chunk.ordinal}"))
        assert chunk.checksum == hashlib.sha256(chunk.text.encode()).hexdigest()
        assert chunk.tokenizer == TOKENIZER_ID
    assert len({c.id for c in first}) == len(first)


@settings(max_examples=100)
@given(
    st.lists(st.text(alphabet="ab", min_size=1, max_size=500), min_size=1, max_size=6).map(" ".join),
    st.integers(16, 40).flatmap(lambda t: st.tuples(st.just(t), st.integers(0, t // 2))),
)
def test_words_cut_to_fit_keep_every_bound(text: str, sizes: tuple[int, int]) -> None:
    # a long word counts more tokens than the pieces it is cut into: the counts must still hold
    policy = ChunkingPolicy(target_tokens=sizes[0], overlap_tokens=sizes[1])
    chunks = chunk_segments([Segment(text=text)], file_id="f", policy=policy)
    assert _squash(_new_text(chunks)) == _squash(text)
    for chunk in chunks:
        assert chunk.token_count == count_tokens(chunk.text) <= policy.target_tokens
        assert (
            chunk.overlap_tokens == count_tokens(chunk.text[: chunk.overlap_chars]) <= policy.overlap_tokens
        )


def test_chunk_ids_are_pinned() -> None:
    # Stored vectors are keyed by these ids: a change would orphan every chunk already indexed.
    assert chunk_id("0190f3c2-0000-7000-8000-000000000001", 0) == str(
        uuid.uuid5(
            uuid.UUID("5b0c7f4e-3c1d-4a8e-9f62-0d3b8a1e6c47"), "0190f3c2-0000-7000-8000-000000000001/0"
        )
    )
    assert chunk_id("a", 1) != chunk_id("a", 2) != chunk_id("b", 1)


def test_chunks_end_on_sentence_boundaries() -> None:
    text = " ".join(f"Sentence {i} has exactly a few plain words in it." for i in range(40))
    chunks = chunk_segments(
        [Segment(text=text)], file_id="f", policy=ChunkingPolicy(target_tokens=50, overlap_tokens=12)
    )
    assert len(chunks) > 5
    for chunk in chunks:
        assert chunk.text.startswith("Sentence ")
        assert chunk.text.endswith("in it.")
        assert chunk.text[chunk.overlap_chars :].startswith("Sentence ")
    assert all(c.overlap_chars > 0 for c in chunks[1:])


def test_a_sentence_longer_than_the_target_is_cut_at_whitespace() -> None:
    text = " ".join(["word"] * 100) + "."
    chunks = chunk_segments(
        [Segment(text=text)], file_id="f", policy=ChunkingPolicy(target_tokens=30, overlap_tokens=0)
    )
    assert [c.token_count for c in chunks] == [30, 30, 30, 11]
    assert all(c.text.split() == ["word"] * len(c.text.split()) or c.text.endswith("word.") for c in chunks)


def test_a_heading_alone_is_carried_into_what_follows() -> None:
    segments = [
        Segment(text="Part One", chapter="Part One", is_heading=True, page=1),
        Segment(text="The Beginning", chapter="Part One", section="The Beginning", is_heading=True, page=2),
        Segment(text="It was a dark night.", chapter="Part One", section="The Beginning", page=2),
        Segment(text="Later", chapter="Part One", section="Later", is_heading=True, page=3),
        Segment(text="Morning came.", chapter="Part One", section="Later", page=3),
        Segment(text="Appendix", chapter="Appendix", is_heading=True, page=4),
    ]
    chunks = chunk_segments(segments, file_id="f")
    assert [(c.text, c.chapter, c.section, c.page, c.page_end) for c in chunks] == [
        ("Part One\n\nThe Beginning\n\nIt was a dark night.", "Part One", "The Beginning", 1, 2),
        ("Later\n\nMorning came.", "Part One", "Later", 3, 3),
        ("Appendix", "Appendix", None, 4, 4),  # a trailing heading still keeps its text
    ]


def test_transcript_chunks_keep_their_time_range() -> None:
    segments = [
        Segment(text=f"Cue number {i} says a thing.", start_seconds=i * 4.0, end_seconds=i * 4.0 + 3.5)
        for i in range(30)
    ]
    chunks = chunk_segments(segments, file_id="f", policy=ChunkingPolicy(target_tokens=40, overlap_tokens=8))
    assert chunks[0].start_seconds == 0.0
    assert chunks[-1].end_seconds == 29 * 4.0 + 3.5
    for chunk in chunks:
        assert chunk.page is None
        assert chunk.start_seconds is not None
        assert chunk.end_seconds is not None
        first = int(chunk.text.split()[2])
        last = int(chunk.text.split()[-4])
        assert chunk.start_seconds == first * 4.0
        assert chunk.end_seconds == last * 4.0 + 3.5


def test_pages_run_from_first_to_last() -> None:
    segments = [Segment(text=f"Page {p} text goes on for a while here.", page=p) for p in (3, 4, 5)]
    (chunk,) = chunk_segments(segments, file_id="f")
    assert (chunk.page, chunk.page_end) == (3, 5)


def test_empty_and_blank_documents_have_no_chunks() -> None:
    assert chunk_segments([], file_id="f") == []
    assert chunk_segments([Segment(text="  \n\t ")], file_id="f") == []


@pytest.mark.parametrize(("target", "overlap"), [(15, 0), (8193, 0), (100, 51), (100, -1)])
def test_policy_bounds(target: int, overlap: int) -> None:
    with pytest.raises(InvalidValue):
        ChunkingPolicy(target_tokens=target, overlap_tokens=overlap)


def test_a_file_id_is_required() -> None:
    with pytest.raises(InvalidValue):
        chunk_segments([Segment(text="x")], file_id="")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"page": 0},
        {"start_seconds": 1.0},
        {"start_seconds": 5.0, "end_seconds": 4.0},
        {"start_seconds": float("nan"), "end_seconds": 1.0},
        {"start_seconds": -1.0, "end_seconds": 1.0},
    ],
)
def test_segment_rejects_impossible_places(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidValue):
        Segment(text="x", **kwargs)  # type: ignore[arg-type]

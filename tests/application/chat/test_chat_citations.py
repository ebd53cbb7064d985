"""The citation convention: numbered markers in a model's stream become clean text + citations,
whatever way the stream is split; and the prompt that teaches the convention."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from application.chat.citations import (
    CitationParser,
    compose_prompt,
    describe_chunk,
    merge_text,
    parse_citations,
    render_sources,
)
from application.chat.model_port import AnswerRequest, ChatTurn, Citation, ContextChunk, TextDelta

IDS = ("chunk-a", "chunk-b", "chunk-c")

MARKER = re.compile(r"[ \t]*\[[ \t]*(\d{1,3}(?:[ \t]*,[ \t]*\d{1,3})*)[ \t]*\]")


def reference(raw: str, ids: tuple[str, ...] = IDS) -> list[TextDelta | Citation]:
    """The convention stated as a whole-text regex, independent of the streaming code."""
    events: list[TextDelta | Citation] = []
    position = 0
    for match in MARKER.finditer(raw):
        events.append(TextDelta(raw[position : match.start()]))
        seen: list[int] = []
        for part in match.group(1).split(","):
            number = int(part)
            if number not in seen:
                seen.append(number)
                if 1 <= number <= len(ids):
                    events.append(Citation(ids[number - 1]))
        position = match.end()
    events.append(TextDelta(raw[position:]))
    return merge_text(events)


def feed_split(raw: str, cuts: list[int], ids: tuple[str, ...] = IDS) -> list[TextDelta | Citation]:
    parser = CitationParser(ids)
    events: list[TextDelta | Citation] = []
    previous = 0
    for cut in sorted(set(cuts)):
        events.extend(parser.feed(raw[previous:cut]))
        previous = cut
    events.extend(parser.feed(raw[previous:]))
    events.extend(parser.finish())
    return events


# Text made of the pieces that matter: words, blanks, brackets, digits, commas, newlines.
stream_text = st.lists(
    st.sampled_from(
        [
            "word",
            " ",
            "  ",
            "\t",
            "\n",
            "[",
            "]",
            "1",
            "2",
            "3",
            "9",
            "12",
            "2024",
            ",",
            ", ",
            ".",
            "[1]",
            " [2]",
        ]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(raw=stream_text, data=st.data())
def test_any_split_of_the_stream_gives_the_same_text_and_citations(raw: str, data: st.DataObject) -> None:
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(raw)), max_size=len(raw) + 1))
    assert merge_text(feed_split(raw, cuts)) == reference(raw)


@settings(max_examples=200, deadline=None)
@given(raw=stream_text)
def test_one_character_at_a_time_matches_the_whole_text(raw: str) -> None:
    assert merge_text(feed_split(raw, list(range(len(raw) + 1)))) == merge_text(parse_citations(raw, IDS))


@settings(max_examples=200, deadline=None)
@given(raw=stream_text, data=st.data())
def test_citations_only_name_given_chunks_and_text_is_never_lost(raw: str, data: st.DataObject) -> None:
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(raw)), max_size=8))
    events = feed_split(raw, cuts)
    assert all(event.chunk_id in IDS for event in events if isinstance(event, Citation))
    text = "".join(event.text for event in events if isinstance(event, TextDelta))
    # Removing markers only ever deletes characters: what remains is a subsequence of the raw text.
    remaining = iter(raw)
    assert all(char in remaining for char in text)


def test_markers_are_removed_with_the_blanks_before_them() -> None:
    events = parse_citations("Cows are purple [1]. Products [2, 3] matter.", IDS)
    assert merge_text(events) == [
        TextDelta("Cows are purple"),
        Citation("chunk-a"),
        TextDelta(". Products"),
        Citation("chunk-b"),
        Citation("chunk-c"),
        TextDelta(" matter."),
    ]


def test_a_marker_split_across_deltas_is_still_recognised() -> None:
    parser = CitationParser(IDS)
    first = parser.feed("Remarkable [")
    assert first == [TextDelta("Remarkable")], "only the possible marker is held back"
    assert parser.feed("2") == []
    assert parser.feed("].") == [Citation("chunk-b"), TextDelta(".")]
    assert parser.finish() == []


def test_numbers_without_a_source_are_dropped_and_remembered() -> None:
    parser = CitationParser(IDS)
    events = [*parser.feed("Invented [7] and real [1, 7, 1]."), *parser.finish()]
    assert [event for event in events if isinstance(event, Citation)] == [Citation("chunk-a")]
    assert "".join(event.text for event in events if isinstance(event, TextDelta)) == "Invented and real."
    assert parser.dropped_numbers == [7, 7]


def test_brackets_that_are_not_markers_stay_text() -> None:
    for raw in ("In [2024] sales grew.", "See [note 1].", "A list: [].", "Open [1, at the end", "[1,]"):
        assert merge_text(parse_citations(raw, IDS)) == [TextDelta(raw)], raw


def test_an_unfinished_marker_at_the_end_is_kept_as_text() -> None:
    parser = CitationParser(IDS)
    assert parser.feed("Cut off [1") == [TextDelta("Cut off")]
    assert parser.finish() == [TextDelta(" [1")]


def test_sources_are_numbered_in_relevance_order_with_their_location() -> None:
    context = (
        ContextChunk(chunk_id="a", source_id="s", text="First.", source_title="Purple Cow", page=3),
        ContextChunk(
            chunk_id="b",
            source_id="t",
            text="Second.",
            source_title="Episode 12",
            creator_name="Jane Doe",
            start_seconds=3725.0,
        ),
    )
    rendered = render_sources(context)
    assert rendered.index("[1] “Purple Cow”, p. 3\nFirst.") < rendered.index(
        "[2] “Episode 12”, by Jane Doe, at 1:02:05"
    )
    assert describe_chunk(ContextChunk(chunk_id="c", source_id="s", text="x", start_seconds=65)) == "at 1:05"


def test_the_prompt_keeps_the_system_text_stable_and_puts_sources_in_the_question() -> None:
    def request(question: str, text: str) -> AnswerRequest:
        return AnswerRequest(
            system_prompt="You are Seth.",
            messages=(
                ChatTurn(role="user", content="Hi"),
                ChatTurn(role="assistant", content="Hello"),
                ChatTurn(role="user", content=question),
            ),
            context=(ContextChunk(chunk_id="a", source_id="s", text=text),),
        )

    one = compose_prompt(request("Why purple?", "Cows."))
    two = compose_prompt(request("Why now?", "Timing."))
    assert one.system == two.system
    assert one.system.startswith("You are Seth.")
    assert "[1]" in one.system
    assert one.messages[:2] == (
        ChatTurn(role="user", content="Hi"),
        ChatTurn(role="assistant", content="Hello"),
    )
    assert one.messages[2].content.endswith("Question: Why purple?")
    assert "[1]\nCows." in one.messages[2].content


def test_an_advisor_board_prompt_asks_for_one_voice_per_expert() -> None:
    request = AnswerRequest(
        system_prompt="A marketing board.",
        messages=(ChatTurn(role="user", content="Pricing?"),),
        advisor_board=True,
    )
    prompt = compose_prompt(request)
    assert "expert's name and a colon" in prompt.system
    assert "Sources: none were found" in prompt.messages[-1].content

"""The offline extractive model (what it quotes, how it says what it is, advisor boards) and the
fallback wrapper (when it switches models and when it must not)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from adapters.llm.extractive_model import ExtractiveAnswerModel
from adapters.llm.fallback_model import FallbackAnswerModel
from adapters.llm.scripted_model import ScriptedAnswerModel
from application.chat.model_port import (
    AnswerModel,
    AnswerRequest,
    ChatTurn,
    Citation,
    ContextChunk,
    Done,
    ModelErrorCode,
    StopReason,
    TextDelta,
    Usage,
    model_error,
)
from application.errors import ExternalServiceError, InvalidInput
from domain.text.tokens import count_tokens

PRICING = ContextChunk(
    chunk_id="c-pricing",
    source_id="s-book",
    text=(
        "Pricing is a story you tell. A premium price tells customers the product is worth noticing. "
        "Discounts train people to wait."
    ),
    source_title="The Book",
    creator_name="Seth Godin",
    page=12,
)
TRIBES = ContextChunk(
    chunk_id="c-tribes",
    source_id="s-podcast",
    text="Tribes need a leader. A price is a signal to the tribe about who the product is for.",
    source_title="Episode 7",
    creator_name="Jane Doe",
)
OVERLAP = ContextChunk(
    chunk_id="c-overlap",
    source_id="s-book",
    text="A premium price tells customers the product is worth noticing. Nobody reads footnotes.",
    source_title="The Book",
    creator_name="Seth Godin",
)


def ask(
    question: str, *context: ContextChunk, board: bool = False, max_output_tokens: int = 500
) -> AnswerRequest:
    return AnswerRequest(
        system_prompt="",
        messages=(ChatTurn(role="user", content=question),),
        context=context,
        advisor_board=board,
        max_output_tokens=max_output_tokens,
    )


async def collect(model: AnswerModel, request: AnswerRequest) -> list[Any]:
    return [event async for event in model.stream(request)]


def text_of(events: list[Any]) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))


# --- extractive --------------------------------------------------------------------------------


async def test_it_says_first_that_it_quotes_the_sources_and_is_not_a_language_model() -> None:
    text = text_of(await collect(ExtractiveAnswerModel(), ask("How should I set a premium price?", PRICING)))
    opening = text.split("\n\n")[0]
    assert "extractive answer" in opening
    assert "Seth Godin's sources" in opening
    assert "not written by a language model" in opening


async def test_it_quotes_whole_sentences_verbatim_each_cited_with_its_chunk() -> None:
    events = await collect(ExtractiveAnswerModel(), ask("How should I set a premium price?", PRICING, TRIBES))
    citations = [event for event in events if isinstance(event, Citation)]
    assert citations
    chunks = {PRICING.chunk_id: PRICING, TRIBES.chunk_id: TRIBES}
    text = text_of(events)
    for citation in citations:
        assert citation.quote is not None
        assert citation.quote in chunks[citation.chunk_id].text
        assert f"“{citation.quote}”" in text
    assert citations[0].quote == "A premium price tells customers the product is worth noticing."
    assert "Discounts train people to wait." not in text, (
        "a sentence sharing no word with the question is left out"
    )


async def test_each_citation_follows_its_quote_and_deltas_are_small() -> None:
    events = await collect(ExtractiveAnswerModel(), ask("premium price", PRICING))
    for index, event in enumerate(events):
        if isinstance(event, Citation):
            assert isinstance(events[index - 1], TextDelta)
            assert events[index - 1].text.endswith("”")
    deltas = [event.text for event in events if isinstance(event, TextDelta)]
    assert len(deltas) > 10
    assert all(len(delta.split()) <= 3 for delta in deltas)


async def test_a_sentence_repeated_by_overlapping_chunks_is_quoted_once() -> None:
    events = await collect(ExtractiveAnswerModel(), ask("premium price customers", PRICING, OVERLAP))
    quotes = [event.quote for event in events if isinstance(event, Citation)]
    assert quotes.count("A premium price tells customers the product is worth noticing.") == 1


async def test_an_advisor_board_answer_groups_quotes_by_expert() -> None:
    events = await collect(
        ExtractiveAnswerModel(), ask("What does a price tell people?", PRICING, TRIBES, board=True)
    )
    text = text_of(events)
    assert "the board's experts' sources" in text
    assert re.search(r"^Seth Godin: “", text, re.MULTILINE)
    assert re.search(r"^Jane Doe: “", text, re.MULTILINE)
    seth = text.index("Seth Godin: ")
    jane = text.index("Jane Doe: ")
    godin_quotes = [e.quote for e in events if isinstance(e, Citation) and e.chunk_id == PRICING.chunk_id]
    doe_quotes = [e.quote for e in events if isinstance(e, Citation) and e.chunk_id == TRIBES.chunk_id]
    assert godin_quotes
    assert doe_quotes
    for quote in doe_quotes:
        assert text.index(quote) > jane
    for quote in godin_quotes:
        assert seth < text.index(quote) < jane or text.index(quote) > seth > jane


async def test_without_a_shared_word_it_quotes_the_openings_of_the_best_chunks() -> None:
    events = await collect(ExtractiveAnswerModel(), ask("zebra xylophone", PRICING, TRIBES, OVERLAP))
    text = text_of(events)
    assert "come closest" in text
    assert [e.chunk_id for e in events if isinstance(e, Citation)] == [PRICING.chunk_id, TRIBES.chunk_id]


async def test_usage_is_counted_with_the_project_tokenizer_and_costs_nothing() -> None:
    request = ask("premium price", PRICING)
    events = await collect(ExtractiveAnswerModel(), request)
    usage = events[-2]
    assert usage == Usage(
        provider="extractive",
        model="extractive-v1",
        input_tokens=count_tokens("premium price") + count_tokens(PRICING.text),
        output_tokens=count_tokens(text_of(events)),
    )


async def test_a_long_answer_stops_within_the_token_budget() -> None:
    events = await collect(
        ExtractiveAnswerModel(), ask("premium price tribe signal", PRICING, TRIBES, max_output_tokens=30)
    )
    assert events[-1] == Done(StopReason.MAX_TOKENS)
    assert count_tokens(text_of(events)) <= 30


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="max_sentences"):
        ExtractiveAnswerModel(max_sentences=0)
    with pytest.raises(ValueError, match="delay_seconds"):
        ExtractiveAnswerModel(delay_seconds=-1)


# --- fallback ----------------------------------------------------------------------------------


def failure(code: str = ModelErrorCode.UNAVAILABLE) -> ExternalServiceError:
    return model_error(code, "provider down", provider="anthropic")


async def test_a_primary_failing_before_any_text_hands_over_to_the_fallback() -> None:
    primary = ScriptedAnswerModel.replying(
        "never shown", fail_at=0, error=failure(ModelErrorCode.RATE_LIMITED)
    )
    seen: list[str] = []
    model = FallbackAnswerModel(
        primary, ExtractiveAnswerModel(), on_fallback=lambda exc: seen.append(exc.code)
    )
    events = await collect(model, ask("premium price", PRICING))
    assert seen == [ModelErrorCode.RATE_LIMITED]
    assert "never shown" not in text_of(events)
    assert "extractive answer" in text_of(events)
    assert events[-2].provider == "extractive", "the answer is priced as the model that gave it"
    assert len(primary.requests) == 1


async def test_a_primary_failing_after_text_surfaces_its_error_and_the_fallback_is_not_asked() -> None:
    primary = ScriptedAnswerModel(["Half ", "an ", "answer"], fail_at=2, error=failure())
    fallback = ScriptedAnswerModel.replying("Another answer.")
    received: list[Any] = []

    async def consume() -> None:
        async for event in FallbackAnswerModel(primary, fallback).stream(ask("q", PRICING)):
            received.append(event)

    with pytest.raises(ExternalServiceError) as caught:
        await consume()
    assert caught.value.code == ModelErrorCode.UNAVAILABLE
    assert text_of(received) == "Half an"  # a trailing blank waits for what follows it
    assert fallback.requests == []


async def test_errors_that_are_not_the_providers_are_not_hidden() -> None:
    primary = ScriptedAnswerModel(["x"], fail_at=0, error=InvalidInput("bad request"))
    fallback = ScriptedAnswerModel.replying("Another answer.")
    with pytest.raises(InvalidInput):
        await collect(FallbackAnswerModel(primary, fallback), ask("q"))
    assert fallback.requests == []


async def test_a_healthy_primary_answers_alone() -> None:
    primary = ScriptedAnswerModel.replying("Remarkable [1].")
    fallback = ScriptedAnswerModel.replying("Another answer.")
    events = await collect(FallbackAnswerModel(primary, fallback), ask("q", PRICING))
    assert text_of(events) == "Remarkable."
    assert [e for e in events if isinstance(e, Citation)] == [Citation(PRICING.chunk_id)]
    assert fallback.requests == []

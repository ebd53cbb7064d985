"""The AnswerModel contract: one abstract suite, subclassed once per adapter.

Every answer model (the offline extractive model, the scripted fake, Anthropic and OpenAI through
their real SDKs against local HTTP doubles, and the fallback wrapper) must stream the same
shape of answer: text and citations, then exactly one `Usage`, then `Done`; cite only chunks it
was given; stop at `max_output_tokens`. Models that call a provider must also turn every
failure into an `ExternalServiceError` with the port's codes. Each test opens a fresh model
(and a fresh double) and proves it starts clean.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from adapters.llm.anthropic_model import AnthropicAnswerModel
from adapters.llm.extractive_model import ExtractiveAnswerModel
from adapters.llm.fallback_model import FallbackAnswerModel
from adapters.llm.openai_model import OpenAIAnswerModel
from adapters.llm.scripted_model import ScriptedAnswerModel
from application.chat.model_port import (
    AnswerEvent,
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
from application.chat.pricing import ModelPricing
from application.errors import ExternalServiceError


def _load_sibling(relative: str, name: str) -> ModuleType:
    # Installed SDKs ship a top-level package named `tests` that shadows this repository's
    # `tests` directory on import, so the doubles are loaded by path.
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / relative)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


doubles = _load_sibling("adapters/llm/doubles.py", "llm_doubles")

# What the scripted vendors answer: cites source 1, sources 2 and 7 (there is no 7th source).
VENDOR_TEXT = (
    "A remarkable product is worth talking about [1]. Marketing starts with the product itself [2, 7]."
)

CHUNKS = (
    ContextChunk(
        chunk_id="chunk-purple-cow-3",
        source_id="source-purple-cow",
        text="A remarkable product is one worth making a remark about. Boring products are invisible.",
        source_title="Purple Cow",
        creator_name="Seth Godin",
        page=3,
    ),
    ContextChunk(
        chunk_id="chunk-marketing-12",
        source_id="source-this-is-marketing",
        text="Marketing starts with the product. A remarkable product markets itself.",
        source_title="This Is Marketing",
        creator_name="Seth Godin",
        section="The product",
    ),
)


def ask(
    question: str = "What makes a product remarkable?",
    *,
    context: tuple[ContextChunk, ...] = CHUNKS,
    max_output_tokens: int = 400,
    history: tuple[ChatTurn, ...] = (),
) -> AnswerRequest:
    return AnswerRequest(
        system_prompt="You answer as Seth Godin's books would.",
        messages=(*history, ChatTurn(role="user", content=question)),
        context=context,
        max_output_tokens=max_output_tokens,
    )


async def collect(model: AnswerModel, request: AnswerRequest) -> list[AnswerEvent]:
    return [event async for event in model.stream(request)]


def text_of(events: list[Any]) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))


class AnswerModelContract:
    """Subclasses provide a `model` fixture returning a fresh model."""

    def vendor_requests(self) -> int:
        """How many requests reached the provider (a double, the scripted fake); 0 for local models."""
        return 0

    async def test_streams_text_then_exactly_one_usage_then_done(self, model: AnswerModel) -> None:
        assert self.vendor_requests() == 0
        events = await collect(model, ask())
        assert isinstance(events[-1], Done)
        assert isinstance(events[-2], Usage)
        assert sum(isinstance(event, Usage) for event in events) == 1
        assert sum(isinstance(event, Done) for event in events) == 1
        assert events[-1].stop_reason is StopReason.COMPLETE
        text_events = [event for event in events[:-2] if isinstance(event, TextDelta)]
        assert len(text_events) >= 2, "an answer streams in several deltas"
        assert all(event.text for event in text_events)
        assert "remarkable" in text_of(events).lower()
        usage = events[-2]
        assert usage.input_tokens > 0
        assert usage.output_tokens > 0

    async def test_cites_only_the_chunks_it_was_given_and_shows_no_markers(self, model: AnswerModel) -> None:
        assert self.vendor_requests() == 0
        events = await collect(model, ask())
        citations = [event for event in events if isinstance(event, Citation)]
        assert citations, "an answer drawn from the sources cites them"
        assert {citation.chunk_id for citation in citations} <= {chunk.chunk_id for chunk in CHUNKS}
        assert not re.search(r"\[\s*\d{1,3}", text_of(events))
        first_text = next(i for i, event in enumerate(events) if isinstance(event, TextDelta))
        first_citation = next(i for i, event in enumerate(events) if isinstance(event, Citation))
        assert first_text < first_citation, "a citation follows the text it supports"

    async def test_without_sources_it_answers_without_citations(self, model: AnswerModel) -> None:
        assert self.vendor_requests() == 0
        events = await collect(model, ask(context=()))
        assert not [event for event in events if isinstance(event, Citation)]
        assert text_of(events).strip()
        assert isinstance(events[-1], Done)

    async def test_stops_at_max_output_tokens(self, model: AnswerModel) -> None:
        assert self.vendor_requests() == 0
        events = await collect(model, ask(max_output_tokens=5))
        usage = events[-2]
        assert isinstance(usage, Usage)
        assert 0 < usage.output_tokens <= 5
        assert events[-1] == Done(StopReason.MAX_TOKENS)
        assert text_of(events).strip()

    async def test_usage_names_a_provider_and_model_the_price_table_knows(self, model: AnswerModel) -> None:
        assert self.vendor_requests() == 0
        events = await collect(model, ask())
        usage = events[-2]
        assert isinstance(usage, Usage)
        assert ModelPricing().cost(usage) >= 0

    async def test_answers_a_follow_up_in_a_conversation(self, model: AnswerModel) -> None:
        assert self.vendor_requests() == 0
        history = (
            ChatTurn(role="user", content="Who wrote Purple Cow?"),
            ChatTurn(role="assistant", content="Seth Godin wrote it."),
        )
        events = await collect(model, ask("And what makes a product remarkable?", history=history))
        assert text_of(events).strip()
        assert isinstance(events[-1], Done)

    async def test_a_consumer_may_stop_early_and_ask_again(self, model: AnswerModel) -> None:
        assert self.vendor_requests() == 0
        stream = model.stream(ask())
        first = await anext(stream)
        assert isinstance(first, TextDelta)
        aclose = getattr(stream, "aclose", None)
        assert aclose is not None, "answer models are async generators"
        await aclose()
        events = await collect(model, ask())
        assert isinstance(events[-1], Done)


class FailingAnswerModelContract(AnswerModelContract, ABC):
    """For models that call something that can fail: `failing_model(kind)` returns a fresh model
    whose provider fails in that way on every attempt ("after-text": once some text is out)."""

    @abstractmethod
    def failing_model(self, kind: str) -> AnswerModel: ...

    @pytest.mark.parametrize(
        ("kind", "code"),
        [
            ("rate-limited", ModelErrorCode.RATE_LIMITED),
            ("unavailable", ModelErrorCode.UNAVAILABLE),
            ("overloaded", ModelErrorCode.UNAVAILABLE),
            ("timeout", ModelErrorCode.TIMEOUT),
            ("unauthorized", ModelErrorCode.NOT_AUTHORIZED),
        ],
    )
    async def test_provider_failures_become_llm_errors(self, kind: str, code: str) -> None:
        model = self.failing_model(kind)
        assert self.vendor_requests() == 0
        with pytest.raises(ExternalServiceError) as caught:
            await collect(model, ask())
        assert caught.value.code == code
        assert caught.value.extra["provider"]

    async def test_a_failure_after_text_is_raised_after_that_text(self) -> None:
        model = self.failing_model("after-text")
        assert self.vendor_requests() == 0
        received: list[AnswerEvent] = []

        async def consume() -> None:
            async for event in model.stream(ask()):
                received.append(event)

        with pytest.raises(ExternalServiceError) as caught:
            await consume()
        assert caught.value.code == ModelErrorCode.UNAVAILABLE
        assert text_of(received).strip()
        assert not [event for event in received if isinstance(event, Usage | Done)]


# --- the adapters ----------------------------------------------------------------------------------


class TestExtractiveAnswerModel(AnswerModelContract):
    @pytest.fixture
    def model(self) -> AnswerModel:
        return ExtractiveAnswerModel()


class TestScriptedAnswerModel(FailingAnswerModelContract):
    _model: ScriptedAnswerModel | None = None

    @pytest.fixture
    def model(self) -> AnswerModel:
        self._model = ScriptedAnswerModel.replying(VENDOR_TEXT)
        return self._model

    def vendor_requests(self) -> int:
        return len(self._model.requests) if self._model is not None else 0

    def failing_model(self, kind: str) -> AnswerModel:
        codes = {
            "rate-limited": ModelErrorCode.RATE_LIMITED,
            "timeout": ModelErrorCode.TIMEOUT,
            "unauthorized": ModelErrorCode.NOT_AUTHORIZED,
        }
        error = model_error(
            codes.get(kind, ModelErrorCode.UNAVAILABLE), f"scripted {kind}", provider="scripted"
        )
        self._model = ScriptedAnswerModel.replying(
            VENDOR_TEXT, fail_at=3 if kind == "after-text" else 0, error=error
        )
        return self._model


class _DoubleBacked(FailingAnswerModelContract):
    """Runs a model against vendor doubles started for this test only."""

    _doubles: list[Any]

    @pytest.fixture(autouse=True)
    def _fresh_doubles(self) -> Iterator[None]:
        self._doubles = []
        yield
        for double in self._doubles:
            double.stop()

    def start(self, double: Any) -> Any:
        double.default_text = VENDOR_TEXT
        self._doubles.append(double.start())
        assert double.requests == []
        return double

    def vendor_requests(self) -> int:
        return sum(len(double.requests) for double in self._doubles)

    @staticmethod
    def script(double: Any, kind: str) -> None:
        """The double fails `kind`-wise on both attempts (the models retry once)."""
        failures = {
            "rate-limited": doubles.Failure(429),
            "unavailable": doubles.Failure(500),
            "overloaded": doubles.Failure(529),
            "unauthorized": doubles.Failure(401, retry_after_ms=None),
        }
        if kind == "timeout":
            double.script.extend([doubles.Reply(stall_before_seconds=1.0)] * 2)
        elif kind == "after-text":
            double.script.append(doubles.Reply(error_after_deltas=3))
        else:
            double.script.extend([failures[kind]] * 2)

    @staticmethod
    def anthropic(double: Any) -> AnthropicAnswerModel:
        return AnthropicAnswerModel(
            api_key="test-key", base_url=double.url, timeout_seconds=0.3, max_retries=1
        )

    @staticmethod
    def openai(double: Any) -> OpenAIAnswerModel:
        return OpenAIAnswerModel(
            api_key="test-key", base_url=double.base_url, timeout_seconds=0.3, max_retries=1
        )


class TestAnthropicAnswerModel(_DoubleBacked):
    @pytest.fixture
    def model(self) -> AnswerModel:
        return self.anthropic(self.start(doubles.AnthropicDouble()))

    def failing_model(self, kind: str) -> AnswerModel:
        double = self.start(doubles.AnthropicDouble())
        self.script(double, kind)
        return self.anthropic(double)


class TestOpenAIAnswerModel(_DoubleBacked):
    @pytest.fixture
    def model(self) -> AnswerModel:
        return self.openai(self.start(doubles.OpenAIDouble()))

    def failing_model(self, kind: str) -> AnswerModel:
        double = self.start(doubles.OpenAIDouble())
        self.script(double, kind)
        return self.openai(double)


class TestFallbackAnswerModel(_DoubleBacked):
    """Anthropic first, OpenAI when Anthropic fails before any text. Failing means both
    providers fail the same way (the error that surfaces is the fallback's), or Anthropic
    fails after text (no fallback: its own error surfaces)."""

    @pytest.fixture
    def model(self) -> AnswerModel:
        primary = self.anthropic(self.start(doubles.AnthropicDouble()))
        return FallbackAnswerModel(primary, self.openai(self.start(doubles.OpenAIDouble())))

    def failing_model(self, kind: str) -> AnswerModel:
        first = self.start(doubles.AnthropicDouble())
        second = self.start(doubles.OpenAIDouble())
        self.script(first, kind)
        if kind != "after-text":
            self.script(second, kind)
        return FallbackAnswerModel(self.anthropic(first), self.openai(second))

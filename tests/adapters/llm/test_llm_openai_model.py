"""OpenAI through the real SDK against the local Chat Completions double: what is sent, how
retries and failures behave, and where usage comes from."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from adapters.llm.openai_model import OpenAIAnswerModel
from application.chat.model_port import (
    AnswerRequest,
    ChatTurn,
    Citation,
    ContextChunk,
    Done,
    ModelErrorCode,
    StopReason,
    TextDelta,
    Usage,
)
from application.chat.pricing import ModelPricing
from application.errors import ExternalServiceError, ServiceUnavailable
from domain.text.tokens import count_tokens


def _load_doubles() -> ModuleType:
    # Installed SDKs ship a top-level `tests` package, so the doubles are loaded by path.
    if "llm_doubles" not in sys.modules:
        spec = importlib.util.spec_from_file_location("llm_doubles", Path(__file__).parent / "doubles.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["llm_doubles"] = module
        spec.loader.exec_module(module)
    return sys.modules["llm_doubles"]


doubles = _load_doubles()

REQUEST = AnswerRequest(
    system_prompt="You are the Purple Cow bot.",
    messages=(
        ChatTurn(role="user", content="Who wrote it?"),
        ChatTurn(role="assistant", content="Seth Godin."),
        ChatTurn(role="user", content="What is remarkable?"),
    ),
    context=(
        ContextChunk(chunk_id="c-1", source_id="s-1", text="Remarkable means worth a remark.", page=3),
        ContextChunk(chunk_id="c-2", source_id="s-2", text="Boring is invisible.", source_title="Purple Cow"),
    ),
    max_output_tokens=300,
)


@pytest.fixture
def double() -> Iterator[Any]:
    server = doubles.OpenAIDouble().start()
    assert server.requests == []
    yield server
    server.stop()


def model_for(double: Any, **options: Any) -> OpenAIAnswerModel:
    settings: dict[str, Any] = {"api_key": "test-key", "base_url": double.base_url, "timeout_seconds": 2.0}
    return OpenAIAnswerModel(**{**settings, **options})


async def collect(model: OpenAIAnswerModel, request: AnswerRequest = REQUEST) -> list[Any]:
    return [event async for event in model.stream(request)]


async def test_sends_a_streaming_chat_completion_asking_for_usage(double: Any) -> None:
    await collect(model_for(double))
    [sent] = double.requests
    assert sent.path == "/v1/chat/completions"
    body = sent.body
    assert body["model"] == "gpt-5-mini"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["max_completion_tokens"] == 300
    assert "max_tokens" not in body
    assert "temperature" not in body, "unset: reasoning models accept only their default"
    assert "reasoning_effort" not in body
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]
    assert body["messages"][0]["content"].startswith("You are the Purple Cow bot.")
    assert body["messages"][-1]["content"].endswith("Question: What is remarkable?")
    assert "[2] “Purple Cow”\nBoring is invisible." in body["messages"][-1]["content"]


async def test_temperature_and_reasoning_effort_are_sent_when_set(double: Any) -> None:
    request = AnswerRequest(
        system_prompt="", messages=REQUEST.messages, temperature=0.3, model="gpt-4.1-mini"
    )
    await collect(model_for(double, reasoning_effort="low"), request)
    body = double.requests[0].body
    assert body["temperature"] == 0.3
    assert body["reasoning_effort"] == "low"
    assert body["model"] == "gpt-4.1-mini"


async def test_usage_comes_from_the_final_usage_chunk_and_names_the_snapshot(double: Any) -> None:
    double.default_text = "one two three [2] four"
    events = await collect(model_for(double))
    assert [e for e in events if isinstance(e, Citation)] == [Citation("c-2")]
    usage = events[-2]
    assert usage == Usage(
        provider="openai", model="gpt-5-mini-2025-08-07", input_tokens=usage.input_tokens, output_tokens=5
    )
    assert usage.input_tokens > 20
    assert ModelPricing().knows(usage.provider, usage.model)


async def test_a_server_that_ignores_include_usage_gets_usage_estimated(double: Any) -> None:
    double.send_usage = False
    double.default_text = "Remarkable things spread [1]."
    events = await collect(model_for(double, provider_name="vllm"))
    usage = events[-2]
    assert usage.provider == "vllm"
    assert usage.output_tokens == count_tokens("Remarkable things spread [1].")
    assert usage.input_tokens > 0


async def test_a_server_error_is_retried_and_the_retry_streams_normally(double: Any) -> None:
    double.script.append(doubles.Failure(500))
    events = await collect(model_for(double, max_retries=2))
    assert events[-1] == Done(StopReason.COMPLETE)
    assert len(double.requests) == 2


async def test_a_rate_limit_that_persists_reports_when_to_come_back(double: Any) -> None:
    double.script.extend([doubles.Failure(429, retry_after_ms=20)] * 2)
    with pytest.raises(ExternalServiceError) as caught:
        await collect(model_for(double, max_retries=1))
    assert caught.value.code == ModelErrorCode.RATE_LIMITED
    assert caught.value.extra["retry_after_seconds"] == pytest.approx(0.02)
    assert caught.value.extra["vendor_error"] == "rate_limit_exceeded"
    assert caught.value.extra["provider"] == "openai"
    assert len(double.requests) == 2


async def test_a_refused_request_is_not_retried(double: Any) -> None:
    double.script.append(doubles.Failure(400, message="context_length_exceeded"))
    with pytest.raises(ExternalServiceError) as caught:
        await collect(model_for(double, max_retries=3))
    assert caught.value.code == ModelErrorCode.REJECTED
    assert len(double.requests) == 1


async def test_an_error_object_mid_stream_is_raised_after_the_text(double: Any) -> None:
    double.script.append(doubles.Reply(error_after_deltas=2, error_type="server_error"))
    received: list[Any] = []

    async def consume() -> None:
        async for event in model_for(double).stream(REQUEST):
            received.append(event)

    with pytest.raises(ExternalServiceError) as caught:
        await consume()
    assert caught.value.code == ModelErrorCode.UNAVAILABLE
    assert caught.value.extra["after_text"] is True
    assert "".join(e.text for e in received if isinstance(e, TextDelta)) == "A remarkable"


async def test_silence_in_the_middle_of_a_stream_is_a_timeout(double: Any) -> None:
    double.script.append(doubles.Reply(stall_after_deltas=2, stall_seconds=1.5))
    with pytest.raises(ExternalServiceError) as caught:
        await collect(model_for(double, timeout_seconds=0.3, max_retries=0))
    assert caught.value.code == ModelErrorCode.TIMEOUT


async def test_a_dropped_connection_is_unavailable(double: Any) -> None:
    double.script.append(doubles.Reply(drop_after_deltas=3))
    with pytest.raises(ExternalServiceError) as caught:
        await collect(model_for(double, max_retries=0))
    assert caught.value.code == ModelErrorCode.UNAVAILABLE


async def test_length_and_content_filter_say_why_the_answer_stopped(double: Any) -> None:
    double.script.append(doubles.Reply(refusal=True, text="I can't help with that."))
    refused = await collect(model_for(double))
    assert refused[-1] == Done(StopReason.REFUSED)
    assert "".join(e.text for e in refused if isinstance(e, TextDelta)) == "I can't help with that."
    cut = await collect(
        model_for(double), AnswerRequest(system_prompt="", messages=REQUEST.messages, max_output_tokens=2)
    )
    assert cut[-1] == Done(StopReason.MAX_TOKENS)
    assert cut[-2].output_tokens == 2


def test_an_empty_key_is_a_configuration_error() -> None:
    with pytest.raises(ServiceUnavailable):
        OpenAIAnswerModel(api_key="")

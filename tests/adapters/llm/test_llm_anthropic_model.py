"""Anthropic through the real SDK against the local Messages API double: what is sent, how
retries and failures behave, and how the stream's end is read."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from adapters.llm.anthropic_model import AnthropicAnswerModel
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
from application.errors import ExternalServiceError, ServiceUnavailable


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
    temperature=0.2,
)


@pytest.fixture
def double() -> Iterator[Any]:
    server = doubles.AnthropicDouble().start()
    assert server.requests == []
    yield server
    server.stop()


def model_for(double: Any, **options: Any) -> AnthropicAnswerModel:
    settings: dict[str, Any] = {"api_key": "test-key", "base_url": double.url, "timeout_seconds": 2.0}
    return AnthropicAnswerModel(**{**settings, **options})


async def collect(model: AnthropicAnswerModel, request: AnswerRequest = REQUEST) -> list[Any]:
    return [event async for event in model.stream(request)]


async def test_sends_the_system_text_the_history_and_the_numbered_sources(double: Any) -> None:
    await collect(model_for(double))
    [sent] = double.requests
    assert sent.path == "/v1/messages"
    assert sent.headers["anthropic-version"]
    body = sent.body
    assert body["model"] == "claude-sonnet-4-6"
    assert body["max_tokens"] == 300
    assert body["stream"] is True
    assert "temperature" not in body, "the API rejects it for current models"
    assert body["system"].startswith("You are the Purple Cow bot.")
    assert "[1]" in body["system"]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    last = body["messages"][-1]["content"]
    assert "[1] p. 3\nRemarkable means worth a remark." in last
    assert "[2] “Purple Cow”\nBoring is invisible." in last
    assert last.endswith("Question: What is remarkable?")


async def test_the_request_may_choose_the_model_and_usage_reports_the_vendors_id(double: Any) -> None:
    double.script.append(doubles.Reply(model="claude-haiku-4-5-20251001"))
    request = AnswerRequest(
        system_prompt="", messages=REQUEST.messages, context=REQUEST.context, model="claude-haiku-4-5"
    )
    events = await collect(model_for(double, model="claude-opus-4-7"), request)
    assert double.requests[0].body["model"] == "claude-haiku-4-5"
    usage = events[-2]
    assert isinstance(usage, Usage)
    assert usage.provider == "anthropic"
    assert usage.model == "claude-haiku-4-5-20251001"


async def test_usage_is_the_vendors_count(double: Any) -> None:
    double.default_text = "one two three [1] four"
    events = await collect(model_for(double))
    assert [e for e in events if isinstance(e, Citation)] == [Citation("c-1")]
    usage = events[-2]
    assert usage.output_tokens == 5, "the double counts the marker as a token, as a vendor would"
    assert usage.input_tokens > 20


async def test_an_overloaded_answer_is_retried_and_the_retry_streams_normally(double: Any) -> None:
    double.script.append(doubles.Failure(529))
    events = await collect(model_for(double, max_retries=2))
    assert events[-1] == Done(StopReason.COMPLETE)
    assert len(double.requests) == 2
    assert double.requests[1].headers["x-stainless-retry-count"] == "1"


async def test_a_rate_limit_that_persists_reports_when_to_come_back(double: Any) -> None:
    double.script.extend([doubles.Failure(429, retry_after_ms=None, retry_after_seconds=0)] * 2)
    # retry-after 0 makes the SDK use its own short backoff; the value is still reported.
    with pytest.raises(ExternalServiceError) as caught:
        await collect(model_for(double, max_retries=1))
    assert caught.value.code == ModelErrorCode.RATE_LIMITED
    assert caught.value.extra["status"] == 429
    assert caught.value.extra["vendor_error"] == "rate_limit_error"
    assert caught.value.extra["retry_after_seconds"] == 0.0
    assert caught.value.extra["request_id"]


async def test_a_refused_request_is_not_retried(double: Any) -> None:
    double.script.append(doubles.Failure(400, message="prompt is too long"))
    with pytest.raises(ExternalServiceError) as caught:
        await collect(model_for(double, max_retries=3))
    assert caught.value.code == ModelErrorCode.REJECTED
    assert "prompt is too long" in caught.value.message
    assert len(double.requests) == 1


async def test_a_wrong_key_is_not_authorized(double: Any) -> None:
    with pytest.raises(ExternalServiceError) as caught:
        await collect(model_for(double, api_key="wrong-key"))
    assert caught.value.code == ModelErrorCode.NOT_AUTHORIZED


async def test_silence_in_the_middle_of_a_stream_is_a_timeout_after_text(double: Any) -> None:
    double.script.append(doubles.Reply(stall_after_deltas=2, stall_seconds=1.5))
    received: list[Any] = []

    async def consume() -> None:
        async for event in model_for(double, timeout_seconds=0.3).stream(REQUEST):
            received.append(event)

    with pytest.raises(ExternalServiceError) as caught:
        await consume()
    assert caught.value.code == ModelErrorCode.TIMEOUT
    assert caught.value.extra["after_text"] is True
    assert [e for e in received if isinstance(e, TextDelta)]


async def test_a_dropped_connection_is_unavailable(double: Any) -> None:
    double.script.append(doubles.Reply(drop_after_deltas=3))
    with pytest.raises(ExternalServiceError) as caught:
        await collect(model_for(double))
    assert caught.value.code == ModelErrorCode.UNAVAILABLE


async def test_an_error_event_mid_stream_is_mapped_by_its_type(double: Any) -> None:
    double.script.append(doubles.Reply(error_after_deltas=1, error_type="rate_limit_error"))
    with pytest.raises(ExternalServiceError) as caught:
        await collect(model_for(double))
    assert caught.value.code == ModelErrorCode.RATE_LIMITED
    assert caught.value.extra["after_text"] is True


async def test_a_cut_answer_and_a_refusal_say_why_they_stopped(double: Any) -> None:
    double.script.append(doubles.Reply(refusal=True))
    refused = await collect(model_for(double))
    assert refused[-1] == Done(StopReason.REFUSED)
    cut = await collect(
        model_for(double),
        AnswerRequest(
            system_prompt="", messages=REQUEST.messages, context=REQUEST.context, max_output_tokens=3
        ),
    )
    assert cut[-1] == Done(StopReason.MAX_TOKENS)
    assert "".join(e.text for e in cut if isinstance(e, TextDelta)) == "A remarkable product"


def test_an_empty_key_is_a_configuration_error() -> None:
    with pytest.raises(ServiceUnavailable) as caught:
        AnthropicAnswerModel(api_key="")
    assert caught.value.code == "llm-not-configured"

"""The answer model the container builds from Settings (provider, fallback, keys, base urls)."""

from __future__ import annotations

import socket
from pathlib import Path

from adapters.llm.anthropic_model import AnthropicAnswerModel
from adapters.llm.extractive_model import ExtractiveAnswerModel
from adapters.llm.fallback_model import FallbackAnswerModel
from application.chat.model_port import AnswerModel, AnswerRequest, ChatTurn, ContextChunk, TextDelta, Usage
from entrypoints.di import build_container
from entrypoints.settings import load_settings


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens there


async def model_for(tmp_path: Path, **values: object) -> AnswerModel:
    settings = load_settings({}, data_dir=tmp_path, vector_backend="memory", **values)
    container = build_container(settings)
    try:
        return await container.get(AnswerModel)
    finally:
        await container.close()


async def test_the_offline_default_is_the_extractive_model(tmp_path: Path) -> None:
    assert isinstance(await model_for(tmp_path), ExtractiveAnswerModel)


async def test_a_provider_with_its_key_and_base_url(tmp_path: Path) -> None:
    model = await model_for(
        tmp_path,
        llm_provider="anthropic",
        anthropic_api_key="test-key",
        anthropic_base_url="http://127.0.0.1:9",
    )
    assert isinstance(model, AnthropicAnswerModel)
    assert model.provider == "anthropic"


async def test_an_unreachable_provider_falls_back_to_the_offline_model(tmp_path: Path) -> None:
    settings = load_settings(
        {},
        data_dir=tmp_path,
        vector_backend="memory",
        llm_provider="openai",
        openai_api_key="test-key",
        openai_base_url=f"http://127.0.0.1:{closed_port()}/v1",
        llm_fallback="extractive",
        llm_timeout_seconds=2.0,
    )
    container = build_container(settings)
    try:
        model = await container.get(AnswerModel)
        assert isinstance(model, FallbackAnswerModel)
        request = AnswerRequest(
            system_prompt="Answer from the sources.",
            messages=(ChatTurn(role="user", content="Why is a purple cow remarkable?"),),
            context=(ContextChunk(chunk_id="c1", source_id="s1", text="A purple cow is remarkable."),),
        )
        events = [event async for event in model.stream(request)]
    finally:
        await container.close()
    usage = next(e for e in events if isinstance(e, Usage))
    assert usage.provider == "extractive"
    assert "remarkable" in "".join(e.text for e in events if isinstance(e, TextDelta))

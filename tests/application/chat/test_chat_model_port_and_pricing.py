"""The answer request's validation and the price table that turns usage into micro-dollars."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.chat.model_port import (
    AnswerRequest,
    ChatTurn,
    ContextChunk,
    ModelErrorCode,
    Usage,
    model_error,
)
from application.chat.pricing import DEFAULT_PRICES, ModelPricing, TokenPrice, cost, usd
from application.errors import ExternalServiceError, InvalidInput, NotFound


def user(text: str = "Why purple?") -> ChatTurn:
    return ChatTurn(role="user", content=text)


def test_a_valid_request_exposes_the_question_and_chunk_ids() -> None:
    request = AnswerRequest(
        system_prompt="",
        messages=(user("Hi"), ChatTurn(role="assistant", content="Hello"), user("Why purple?")),
        context=(
            ContextChunk(chunk_id="a", source_id="s", text="x"),
            ContextChunk(chunk_id="b", source_id="s", text="y"),
        ),
    )
    assert request.question == "Why purple?"
    assert request.chunk_ids == ("a", "b")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"messages": ()}, "messages"),
        ({"messages": (user(), ChatTurn(role="assistant", content="Answer"))}, "messages"),
        ({"messages": (user("  "),)}, "messages[0].content"),
        ({"max_output_tokens": 0}, "max_output_tokens"),
        ({"max_output_tokens": 1_000_000}, "max_output_tokens"),
        ({"temperature": 2.5}, "temperature"),
        ({"model": " "}, "model"),
        (
            {"context": (ContextChunk(chunk_id="a", source_id="s", text="x"),) * 2},
            "context[1].chunk_id",
        ),
        ({"context": (ContextChunk(chunk_id="", source_id="s", text="x"),)}, "context[0]"),
    ],
)
def test_a_bad_request_is_refused_with_the_field_named(changes: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"system_prompt": "", "messages": (user(),), **changes}
    with pytest.raises(InvalidInput) as caught:
        AnswerRequest(**arguments)  # type: ignore[arg-type]
    assert field in caught.value.errors


def test_model_errors_are_external_service_errors_naming_the_provider() -> None:
    error = model_error(ModelErrorCode.RATE_LIMITED, "slow down", provider="anthropic", extra={"status": 429})
    assert isinstance(error, ExternalServiceError)
    assert error.code == "llm-rate-limited"
    assert error.extra == {"provider": "anthropic", "status": 429}


def usage(provider: str, model: str, input_tokens: int, output_tokens: int) -> Usage:
    return Usage(provider=provider, model=model, input_tokens=input_tokens, output_tokens=output_tokens)


def test_cost_is_in_micro_dollars_from_prices_per_million_tokens() -> None:
    # claude-sonnet-4-6: $3 in / $15 out per million tokens.
    assert cost(usage("anthropic", "claude-sonnet-4-6", 1_000_000, 0)) == 3_000_000
    assert cost(usage("anthropic", "claude-sonnet-4-6", 2_000, 500)) == 6_000 + 7_500
    assert cost(usage("extractive", "extractive-v1", 5_000, 700)) == 0


def test_cost_rounds_up_to_the_micro_dollar() -> None:
    # gpt-5-nano input: $0.05 per million = 0.05 micro-dollars a token.
    assert cost(usage("openai", "gpt-5-nano", 1, 0)) == 1
    assert cost(usage("openai", "gpt-5-nano", 20, 0)) == 1
    assert cost(usage("openai", "gpt-5-nano", 21, 0)) == 2


def test_a_dated_snapshot_is_priced_as_its_alias() -> None:
    pricing = ModelPricing()
    assert pricing.price_of("openai", "gpt-5-mini-2025-08-07") == pricing.price_of("openai", "gpt-5-mini")
    assert pricing.price_of("anthropic", "claude-haiku-4-5-20251001") == pricing.price_of(
        "anthropic", "claude-haiku-4-5"
    )
    assert pricing.price_of("ANTHROPIC", "Claude-Sonnet-4-6") is not None
    assert pricing.price_of("openai", "gpt-5-mini-preview") is None


def test_an_unknown_model_is_an_error_not_a_free_answer() -> None:
    with pytest.raises(NotFound) as caught:
        cost(usage("openai", "gpt-unknown", 10, 10))
    assert caught.value.code == "model-price-unknown"
    assert not ModelPricing().knows("openai", "gpt-unknown")


def test_the_table_is_configurable() -> None:
    pricing = ModelPricing(
        {("local", "llama"): TokenPrice(input_per_million=usd("0.10"), output_per_million=usd("0.30"))}
    )
    assert pricing.cost(usage("local", "llama", 1_000_000, 1_000_000)) == 400_000
    assert not pricing.knows("anthropic", "claude-sonnet-4-6")


def test_usd_parses_the_vendor_notation_exactly() -> None:
    assert usd("3") == 3_000_000
    assert usd("0.15") == 150_000
    assert usd("0.000001") == 1
    for bad in ("", "-1", "1.2345678", "1e3", "$3"):
        with pytest.raises(InvalidInput):
            usd(bad)
    with pytest.raises(InvalidInput):
        TokenPrice(input_per_million=-1, output_per_million=0)


def test_every_default_price_is_an_exact_integer_per_million() -> None:
    assert DEFAULT_PRICES
    for price in DEFAULT_PRICES.values():
        assert isinstance(price.input_per_million, int)
        assert isinstance(price.output_per_million, int)


@given(
    first=st.tuples(st.integers(0, 10**7), st.integers(0, 10**6)),
    second=st.tuples(st.integers(0, 10**7), st.integers(0, 10**6)),
)
def test_costs_are_never_under_reported_when_summed(first: tuple[int, int], second: tuple[int, int]) -> None:
    pricing = ModelPricing()
    price = pricing.price_of("openai", "gpt-5-nano")
    assert price is not None
    a = pricing.cost(usage("openai", "gpt-5-nano", *first))
    b = pricing.cost(usage("openai", "gpt-5-nano", *second))
    exact_total = Fraction(
        (first[0] + second[0]) * price.input_per_million + (first[1] + second[1]) * price.output_per_million,
        1_000_000,
    )
    assert a + b >= exact_total
    assert a + b <= exact_total + 2  # at most one micro-dollar of rounding per answer

"""What an answer cost the platform, in integer micro-dollars (1 USD = 1,000,000).

Providers publish prices in USD per million tokens, often with cents (0.05 USD); stored as
micro-dollars per million tokens they become exact integers, and an answer's cost is computed
exactly and rounded up once, to the micro-dollar, so a sum of costs never under-reports.

The table below is a default, configurable by the operator (`ModelPricing(prices)`): the prices
are the vendors' published list prices when this was written. They change; check the vendor's
price page and pass the current ones. Cached-input discounts and batch prices are not modelled:
answers are billed at the standard rate, so a cached prompt is over-counted, never under-counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from application.chat.model_port import Usage
from application.errors import InvalidInput, NotFound

MICRO_DOLLARS_PER_DOLLAR = 1_000_000
TOKENS_PER_PRICE_UNIT = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenPrice:
    """USD micro-dollars per million tokens: 3_000_000 is "$3 per million input tokens"."""

    input_per_million: int
    output_per_million: int

    def __post_init__(self) -> None:
        if self.input_per_million < 0 or self.output_per_million < 0:
            raise InvalidInput("A token price cannot be negative.", errors={"price": "negative"})


def usd(dollars: str) -> int:
    """``usd("0.15")`` is 150_000 micro-dollars: prices are written as the vendor prints them."""
    whole, _, fraction = dollars.partition(".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()) or len(fraction) > 6:
        raise InvalidInput(f"Not a dollar amount: {dollars!r}", errors={"price": "malformed"})
    return int(whole) * MICRO_DOLLARS_PER_DOLLAR + int(fraction.ljust(6, "0") or 0)


def _price(input_usd: str, output_usd: str) -> TokenPrice:
    return TokenPrice(input_per_million=usd(input_usd), output_per_million=usd(output_usd))


DEFAULT_PRICES: Mapping[tuple[str, str], TokenPrice] = MappingProxyType(
    {
        # Anthropic list prices (USD per million input / output tokens).
        ("anthropic", "claude-opus-4-7"): _price("5", "25"),
        ("anthropic", "claude-opus-4-6"): _price("5", "25"),
        ("anthropic", "claude-opus-4-5"): _price("5", "25"),
        ("anthropic", "claude-sonnet-4-6"): _price("3", "15"),
        ("anthropic", "claude-sonnet-4-5"): _price("3", "15"),
        ("anthropic", "claude-haiku-4-5"): _price("1", "5"),
        # OpenAI list prices (standard tier).
        ("openai", "gpt-5"): _price("1.25", "10"),
        ("openai", "gpt-5-mini"): _price("0.25", "2"),
        ("openai", "gpt-5-nano"): _price("0.05", "0.40"),
        ("openai", "gpt-4.1"): _price("2", "8"),
        ("openai", "gpt-4.1-mini"): _price("0.40", "1.60"),
        ("openai", "gpt-4o-mini"): _price("0.15", "0.60"),
        # Local models cost the platform nothing per token.
        ("extractive", "extractive-v1"): _price("0", "0"),
        ("scripted", "scripted"): _price("0", "0"),
    }
)

_DATE_SUFFIX_LENGTHS = (len("-2025-08-07"), len("-20250929"))


def _without_date_suffix(model: str) -> str | None:
    """``gpt-5-mini-2025-08-07`` and ``claude-sonnet-4-5-20250929`` are snapshots of the alias
    they start with; providers report the snapshot, price lists name the alias."""
    for length in _DATE_SUFFIX_LENGTHS:
        suffix = model[-length:]
        digits = suffix.replace("-", "")
        if len(model) > length and suffix.startswith("-") and digits.isdigit() and len(digits) == 8:
            return model[:-length]
    return None


class ModelPricing:
    """Looks up a model's price and turns a `Usage` into micro-dollars."""

    def __init__(self, prices: Mapping[tuple[str, str], TokenPrice] = DEFAULT_PRICES) -> None:
        self._prices = {
            (provider.lower(), model.lower()): price for (provider, model), price in prices.items()
        }

    def price_of(self, provider: str, model: str) -> TokenPrice | None:
        key = (provider.lower(), model.lower())
        price = self._prices.get(key)
        if price is None:
            alias = _without_date_suffix(key[1])
            if alias is not None:
                price = self._prices.get((key[0], alias))
        return price

    def knows(self, provider: str, model: str) -> bool:
        """For start-up checks: a deployment should refuse to run a model it cannot price."""
        return self.price_of(provider, model) is not None

    def cost(self, usage: Usage) -> int:
        """Micro-dollars, rounded up. Raises `NotFound` (``model-price-unknown``) for a model
        missing from the table: recording a zero would hide a real cost."""
        price = self.price_of(usage.provider, usage.model)
        if price is None:
            raise NotFound(
                f"No price is configured for {usage.provider} model {usage.model!r}.",
                code="model-price-unknown",
            )
        if usage.input_tokens < 0 or usage.output_tokens < 0:
            raise InvalidInput("Token counts cannot be negative.", errors={"usage": "negative"})
        scaled = usage.input_tokens * price.input_per_million + usage.output_tokens * price.output_per_million
        return -(-scaled // TOKENS_PER_PRICE_UNIT)


def cost(usage: Usage, pricing: ModelPricing | None = None) -> int:
    """The cost of one answer with the default (or given) price table, in micro-dollars."""
    return (pricing or ModelPricing()).cost(usage)

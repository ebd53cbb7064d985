"""The platform's share of each line (``spread``) and giving a reversal back (``reinstate``)."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValue, RuleViolation
from domain.money import Money
from domain.revenue import (
    AttributionBasis,
    RevenuePolicy,
    ShareSet,
    attribute,
    reinstate,
    remaining_after,
    reverse,
    spread,
)


def _sibling(name: str) -> ModuleType:
    """The scenario strategies of ``test_domain_revenue`` (loaded by path: SDKs shadow ``tests``)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


scenarios = _sibling("test_domain_revenue").scenarios


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


def worked_example() -> tuple:
    return attribute(
        gross=usd("10.00"),
        fee=usd("0.59"),
        source_tokens={"s-leadership": 1200, "s-marketing": 700, "s-podcast": 100},
        version_sources={"s-leadership", "s-marketing", "s-podcast", "s-unused"},
        share_sets={
            "s-leadership": ShareSet.of({"ana": "0.5", "bo": "0.3", "cy": "0.2"}),
            "s-marketing": ShareSet.sole("dee"),
            "s-podcast": ShareSet.sole("eve"),
        },
        policy=RevenuePolicy(2000),
    ).lines


@given(scenarios())
def test_the_lines_platform_shares_add_up_to_the_platforms_cut(s: dict) -> None:
    a = attribute(**s)
    if a.basis is AttributionBasis.NO_SOURCES:
        assert a.lines == ()  # the platform keeps everything; there is no line to carry it
        return
    assert Money.total((line.platform_share for line in a.lines), a.gross.currency) == a.platform
    # gross = fee + what each line accounts for, creator and platform together
    assert a.fee + Money.total((line.amount + line.platform_share for line in a.lines), a.gross.currency) == (
        a.gross
    )


@given(scenarios())
def test_spread_uses_the_very_weights_that_split_the_pool(s: dict) -> None:
    a = attribute(**s)
    if not a.lines:
        return
    # spreading the creators' pool again gives exactly the lines' amounts
    assert spread(a.lines, a.creators_total) == tuple(line.amount for line in a.lines)
    assert spread(a.lines, a.platform) == tuple(line.platform_share for line in a.lines)


@given(scenarios(), st.integers(-(10**9), 10**9))
def test_spread_adds_up_exactly_and_a_negative_total_is_the_mirror_image(s: dict, total: int) -> None:
    a = attribute(**s)
    if not a.lines:
        return
    amount = Money(total, a.gross.currency)
    parts = spread(a.lines, amount)
    assert len(parts) == len(a.lines)
    assert Money.total(parts, amount.currency) == amount
    assert spread(a.lines, -amount) == tuple(-p for p in parts)
    # it depends on sources, tokens and shares only, never on the lines' current amounts
    emptied = remaining_after(a.lines, reverse(a.lines, a.creators_total))
    assert spread(emptied, amount) == parts


def test_platform_shares_of_the_worked_example() -> None:
    lines = worked_example()
    # platform 188 by tokens 1200/700/100: 112.8 -> 113, 65.8 -> 66, 9.4 -> 9 (ties by weight);
    # s-leadership's 113 by 0.5/0.3/0.2: 56.5 -> 56, 33.9 -> 34, 22.6 -> 23
    assert [(line.creator_id, line.amount.minor, line.platform_share.minor) for line in lines] == [
        ("ana", 226, 56),
        ("bo", 136, 34),
        ("cy", 90, 23),
        ("dee", 263, 66),
        ("eve", 38, 9),
    ]


def test_equal_split_and_missing_shares_spread_equally() -> None:
    lines = attribute(
        gross=usd("1.00"),
        fee=usd("0.32"),
        source_tokens={},
        version_sources=["s-c", "s-a", "s-b"],
        share_sets={k: ShareSet.sole(f"creator-{k}") for k in ("s-a", "s-b", "s-c")},
        policy=RevenuePolicy(2000),
    ).lines
    assert [line.platform_share.minor for line in lines] == [5, 4, 4]  # platform 13
    shareless = tuple(replace(line, share=Decimal(0)) for line in lines)
    assert spread(shareless, usd("0.13")) == spread(lines, usd("0.13"))


def test_a_sale_below_its_fee_spreads_the_platforms_loss() -> None:
    a = attribute(
        gross=usd("0.20"),
        fee=usd("0.31"),
        source_tokens={"s-a": 3, "s-b": 1},
        version_sources=[],
        share_sets={"s-a": ShareSet.sole("x"), "s-b": ShareSet.sole("y")},
        policy=RevenuePolicy(2000),
    )
    assert [(line.amount.minor, line.platform_share.minor) for line in a.lines] == [(0, -8), (0, -3)]


def test_spread_refusals() -> None:
    lines = worked_example()
    assert spread((), usd("0")) == ()
    with pytest.raises(RuleViolation) as err:
        spread((), usd("0.01"))
    assert err.value.code == "allocation-weights-all-zero"
    with pytest.raises(RuleViolation) as mismatch:
        spread(lines, Money.of(1, "EUR"))
    assert mismatch.value.code == "currency-mismatch"
    with pytest.raises(InvalidValue):
        spread(lines + lines, usd("1.00"))


@given(scenarios(), st.data())
def test_reinstating_a_reversal_cancels_it_line_for_line(s: dict, data: st.DataObject) -> None:
    a = attribute(**s)
    taken = Money(data.draw(st.integers(0, a.creators_total.minor)), a.gross.currency)
    platform_back = Money(data.draw(st.integers(-abs(a.platform.minor), 0)), a.gross.currency)
    reversal = reverse(a.lines, taken)
    if a.lines:
        shares = spread(a.lines, platform_back)
        reversal = tuple(replace(r, platform_share=p) for r, p in zip(reversal, shares, strict=True))
    given_back = reinstate(reversal)
    assert [(g.key, g.amount, g.platform_share) for g in given_back] == [
        (r.key, -r.amount, -r.platform_share) for r in reversal
    ]
    assert remaining_after(a.lines, (*reversal, *given_back)) == a.lines


def test_only_reversals_can_be_reinstated() -> None:
    lines = worked_example()
    with pytest.raises(InvalidValue) as err:
        reinstate(lines)
    assert err.value.code == "invalid-amount"
    reversal = reverse(lines, usd("1.00"))
    with pytest.raises(InvalidValue):
        reinstate(reversal + reversal)
    assert reinstate(()) == ()

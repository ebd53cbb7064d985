import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValue, RuleViolation
from domain.money import Money
from domain.revenue import (
    DEFAULT_REFUND_WINDOW,
    Attribution,
    AttributionBasis,
    RevenuePolicy,
    ShareSet,
    attribute,
    refund_window_closed,
    remaining_after,
    reverse,
)

source_ids = st.text(alphabet="abcdefgh", min_size=1, max_size=3)
creator_ids = st.text(alphabet="vwxyz", min_size=1, max_size=3)


@st.composite
def share_sets(draw: st.DrawFn) -> ShareSet:
    ids = draw(st.lists(creator_ids, min_size=1, max_size=4, unique=True))
    cuts = sorted(draw(st.sets(st.integers(1, 9999), min_size=len(ids) - 1, max_size=len(ids) - 1)))
    bounds = [0, *cuts, 10000]
    return ShareSet.of(
        {c: Decimal(hi - lo).scaleb(-4) for c, lo, hi in zip(ids, bounds, bounds[1:], strict=False)}
    )


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    currency = draw(st.sampled_from(["USD", "JPY", "KWD"]))
    gross = draw(st.integers(0, 10**9))
    fee = draw(st.integers(0, gross + 100))  # sometimes more than the gross
    tokens = draw(st.dictionaries(source_ids, st.integers(0, 10**6), max_size=6))
    version = draw(st.sets(source_ids, max_size=6))
    shares = {sid: draw(share_sets()) for sid in set(tokens) | version}
    return {
        "gross": Money.of(gross, currency),
        "fee": Money.of(fee, currency),
        "source_tokens": tokens,
        "version_sources": version,
        "share_sets": shares,
        "policy": RevenuePolicy(draw(st.integers(0, 10000))),
    }


@given(scenarios())
def test_every_minor_unit_is_accounted_for(s: dict) -> None:
    a = attribute(**s)
    assert a.fee + a.platform + a.creators_total == a.gross
    assert a.net == s["gross"] - s["fee"]
    assert all(not line.amount.is_negative() for line in a.lines)
    assert sum(a.per_creator().values(), Money.zero(a.gross.currency)) == a.creators_total
    assert sum(a.per_source().values(), Money.zero(a.gross.currency)) == a.creators_total


@given(scenarios())
def test_platform_cut_is_the_floor_of_its_share_of_net(s: dict) -> None:
    a = attribute(**s)
    net = a.net.minor
    if net < 0:
        assert a.platform.minor == net
        assert a.creators_total.is_zero()
    elif a.basis is AttributionBasis.NO_SOURCES:
        assert a.platform == a.net
        assert a.lines == ()
    else:
        bps = s["policy"].platform_share_bps
        assert a.platform.minor == net * bps // 10000
        assert a.platform.minor <= Fraction(net * bps, 10000) < a.platform.minor + 1


@given(scenarios(), st.randoms(use_true_random=False))
def test_attribution_is_deterministic_and_order_independent(s: dict, rnd: random.Random) -> None:
    first = attribute(**s)
    assert attribute(**s) == first
    tokens = list(s["source_tokens"].items())
    rnd.shuffle(tokens)
    version = list(s["version_sources"])
    rnd.shuffle(version)
    shuffled = attribute(**{**s, "source_tokens": dict(tokens), "version_sources": version})
    assert shuffled == first


@given(scenarios())
def test_two_stages_respect_token_and_share_quotas(s: dict) -> None:
    a = attribute(**s)
    used = {k: v for k, v in s["source_tokens"].items() if v > 0}
    pool = a.net.minor - a.platform.minor if a.net.minor >= 0 else 0
    per_source = {sid: m.minor for sid, m in a.per_source().items()}
    if a.basis is AttributionBasis.TOKENS:
        assert set(per_source) == set(used)
        total_tokens = sum(used.values())
        for sid, amount in per_source.items():
            quota = Fraction(pool * used[sid], total_tokens)
            assert quota - 1 < amount < quota + 1
        for line in a.lines:
            assert line.token_count == used[line.source_id]
            assert line.token_fraction == Fraction(used[line.source_id], total_tokens)
    elif a.basis is AttributionBasis.EQUAL_SPLIT:
        assert not used
        assert set(per_source) == set(s["version_sources"])
        assert max(per_source.values()) - min(per_source.values()) <= 1
        assert all(line.token_count == 0 and line.token_fraction == 0 for line in a.lines)
    else:
        assert not used
        assert not s["version_sources"]
    for line in a.lines:
        source_amount = per_source[line.source_id]
        quota = source_amount * Fraction(line.share)
        assert quota - 1 < line.amount.minor < quota + 1
        assert line.share == s["share_sets"][line.source_id].share_of(line.creator_id).value


@given(scenarios(), st.data())
def test_reversal_sums_to_the_amount_and_full_reversal_cancels(s: dict, data: st.DataObject) -> None:
    a = attribute(**s)
    total = a.creators_total
    full = reverse(a.lines, total)
    assert [(r.key, r.amount) for r in full] == [(line.key, -line.amount) for line in a.lines]
    assert all(r.is_zero() for r in (line.amount for line in remaining_after(a.lines, full)))
    part = Money(data.draw(st.integers(0, total.minor)), total.currency)
    partial = reverse(a.lines, part)
    assert Money.total((r.amount for r in partial), part.currency) == -part
    for orig, rev in zip(a.lines, partial, strict=True):
        assert rev.key == orig.key
        assert -orig.amount <= rev.amount <= Money.zero(part.currency)


@given(scenarios(), st.lists(st.integers(0, 10**9), max_size=5))
def test_reversing_in_steps_never_overshoots_and_can_finish_exactly(s: dict, steps: list[int]) -> None:
    a = attribute(**s)
    reversals: list = []
    for step in steps:
        left = remaining_after(a.lines, reversals)
        available = Money.total((line.amount for line in left), a.gross.currency)
        amount = Money(min(step, available.minor), a.gross.currency)
        reversals.extend(reverse(left, amount))
        assert all(not line.amount.is_negative() for line in remaining_after(a.lines, reversals))
    left = remaining_after(a.lines, reversals)
    reversals.extend(reverse(left, Money.total((line.amount for line in left), a.gross.currency)))
    assert all(line.amount.is_zero() for line in remaining_after(a.lines, reversals))


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


def test_worked_example_from_the_docs() -> None:
    a = attribute(
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
    )
    assert (a.net, a.platform, a.creators_total) == (usd("9.41"), usd("1.88"), usd("7.53"))
    assert [
        (line.source_id, line.creator_id, line.amount.format(), str(line.token_percentage))
        for line in a.lines
    ] == [
        ("s-leadership", "ana", "2.26", "60.0000"),
        ("s-leadership", "bo", "1.36", "60.0000"),
        ("s-leadership", "cy", "0.90", "60.0000"),
        ("s-marketing", "dee", "2.63", "35.0000"),
        ("s-podcast", "eve", "0.38", "5.0000"),
    ]
    rev = reverse(a.lines, usd("3.00"))
    assert [r.amount.format() for r in rev] == ["-0.90", "-0.54", "-0.36", "-1.05", "-0.15"]
    rest = remaining_after(a.lines, rev)
    assert [r.amount.format() for r in reverse(rest, usd("4.53"))] == [
        "-1.36",
        "-0.82",
        "-0.54",
        "-1.58",
        "-0.23",
    ]


def test_no_sources_at_all_leaves_the_pool_with_the_platform() -> None:
    a = attribute(
        gross=usd("5.00"),
        fee=usd("0.45"),
        source_tokens={},
        version_sources=(),
        share_sets={},
        policy=RevenuePolicy(2000),
    )
    assert a.basis is AttributionBasis.NO_SOURCES
    assert a.platform == usd("4.55")
    assert a.lines == ()


def test_zero_token_sources_are_ignored_and_equal_split_applies() -> None:
    a = attribute(
        gross=usd("1.00"),
        fee=usd("0.00"),
        source_tokens={"a": 0},
        version_sources=["a", "b", "c"],
        share_sets={k: ShareSet.sole(k.upper()) for k in "abc"},
        policy=RevenuePolicy(0),
    )
    assert a.basis is AttributionBasis.EQUAL_SPLIT
    assert [line.amount.minor for line in a.lines] == [34, 33, 33]
    assert a.lines[0].token_percentage == Decimal("0.0000")


def test_token_percentage_rounds_half_even_for_display_only() -> None:
    a = attribute(
        gross=usd("1.00"),
        fee=usd("0"),
        source_tokens={"a": 1, "b": 2},
        version_sources=[],
        share_sets={"a": ShareSet.sole("x"), "b": ShareSet.sole("y")},
        policy=RevenuePolicy(0),
    )
    assert [line.token_percentage for line in a.lines] == [Decimal("33.3333"), Decimal("66.6667")]
    assert [line.amount.minor for line in a.lines] == [33, 67]


def test_input_errors() -> None:
    ok = {
        "gross": usd("1.00"),
        "fee": usd("0.10"),
        "source_tokens": {"a": 5},
        "version_sources": ["a"],
        "share_sets": {"a": ShareSet.sole("x")},
        "policy": RevenuePolicy(1000),
    }
    cases: list[tuple[dict, type[Exception], str]] = [
        ({"gross": usd("-1.00")}, InvalidValue, "invalid-amount"),
        ({"fee": usd("-0.01")}, InvalidValue, "invalid-amount"),
        ({"fee": Money.of(1, "EUR")}, RuleViolation, "currency-mismatch"),
        ({"source_tokens": {"a": -1}}, InvalidValue, "invalid-token-count"),
        ({"source_tokens": {"a": 1.5}}, InvalidValue, "invalid-token-count"),
        ({"source_tokens": {"": 1}}, InvalidValue, "invalid-id"),
        ({"version_sources": [3]}, InvalidValue, "invalid-id"),
        ({"share_sets": {}}, RuleViolation, "source-without-shares"),
        ({"share_sets": {"a": {"x": 1}}}, InvalidValue, "invalid-share"),
        ({"version_sources": "abc"}, InvalidValue, "invalid-id"),
    ]
    for change, error, code in cases:
        with pytest.raises(error) as err:
            attribute(**{**ok, **change})
        assert err.value.code == code


def test_an_unbalanced_attribution_cannot_be_built() -> None:
    with pytest.raises(RuleViolation) as err:
        Attribution(
            gross=usd("1.00"),
            fee=usd("0"),
            platform=usd("0.50"),
            lines=(),
            basis=AttributionBasis.TOKENS,
            platform_share_bps=5000,
        )
    assert err.value.code == "attribution-unbalanced"


def test_reversal_errors() -> None:
    a = attribute(
        gross=usd("1.00"),
        fee=usd("0"),
        source_tokens={"a": 1},
        version_sources=[],
        share_sets={"a": ShareSet.sole("x")},
        policy=RevenuePolicy(0),
    )
    with pytest.raises(RuleViolation) as err:
        reverse(a.lines, usd("1.01"))
    assert err.value.code == "reversal-exceeds-attributed"
    with pytest.raises(InvalidValue):
        reverse(a.lines, usd("-0.01"))
    with pytest.raises(RuleViolation):
        reverse(a.lines, Money.of(1, "EUR"))
    with pytest.raises(InvalidValue):
        reverse(a.lines + a.lines, usd("0.01"))
    negative = reverse(a.lines, usd("0.50"))
    with pytest.raises(InvalidValue):
        reverse(negative, usd("0.01"))
    with pytest.raises(InvalidValue) as err2:
        remaining_after([], negative)
    assert err2.value.code == "unknown-line"
    assert [r.amount for r in reverse(a.lines, usd("0"))] == [usd("0")]


def test_refund_window() -> None:
    ended = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    policy = RevenuePolicy(2000)
    assert policy.refund_window == DEFAULT_REFUND_WINDOW == timedelta(days=7)
    assert policy.attributable_at(ended) == ended + timedelta(days=7)
    assert not policy.refund_window_closed(ended, ended + timedelta(days=7) - timedelta(microseconds=1))
    assert policy.refund_window_closed(ended, ended + timedelta(days=7))
    assert refund_window_closed(ended, ended, timedelta(0))
    with pytest.raises(InvalidValue):
        refund_window_closed(datetime(2025, 3, 1), ended, timedelta(days=1))
    with pytest.raises(InvalidValue):
        refund_window_closed(ended, datetime(2025, 3, 1), timedelta(days=1))


@given(
    st.datetimes(timezones=st.just(UTC)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)),
    st.timedeltas(min_value=timedelta(days=-90), max_value=timedelta(days=90)),
)
def test_refund_window_property(ended: datetime, window: timedelta, elapsed: timedelta) -> None:
    try:
        now = ended + elapsed
        deadline = ended + window
    except OverflowError:
        return
    assert refund_window_closed(ended, now, window) == (elapsed >= window)
    assert RevenuePolicy(0, window).attributable_at(ended) == deadline


@pytest.mark.parametrize("bps", [-1, 10001, 20.0, True, "2000"])
def test_policy_share_bounds(bps: object) -> None:
    with pytest.raises(InvalidValue) as err:
        RevenuePolicy(bps)  # type: ignore[arg-type]
    assert err.value.code == "invalid-platform-share"


def test_policy_refund_window_must_be_non_negative() -> None:
    with pytest.raises(InvalidValue):
        RevenuePolicy(0, timedelta(seconds=-1))
    with pytest.raises(InvalidValue):
        RevenuePolicy(0, 7)  # type: ignore[arg-type]


def test_equal_split_example_from_the_docs() -> None:
    a = attribute(
        gross=usd("1.00"),
        fee=usd("0.32"),
        source_tokens={},
        version_sources=["s-c", "s-a", "s-b"],
        share_sets={k: ShareSet.sole(f"creator-{k}") for k in ("s-a", "s-b", "s-c")},
        policy=RevenuePolicy(2000),
    )
    assert (a.net, a.platform) == (usd("0.68"), usd("0.13"))
    assert [(line.source_id, line.amount.minor) for line in a.lines] == [
        ("s-a", 19),
        ("s-b", 18),
        ("s-c", 18),
    ]


def test_a_fee_larger_than_the_sale_is_the_platforms_loss() -> None:
    a = attribute(
        gross=usd("0.20"),
        fee=usd("0.31"),
        source_tokens={"s-a": 5},
        version_sources=[],
        share_sets={"s-a": ShareSet.sole("x")},
        policy=RevenuePolicy(2000),
    )
    assert a.platform == usd("-0.11")
    assert [line.amount for line in a.lines] == [usd("0")]

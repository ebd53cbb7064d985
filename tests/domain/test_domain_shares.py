from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValue, RuleViolation
from domain.shares import RevenueShare, ShareSet


@st.composite
def share_maps(draw: st.DrawFn) -> dict[str, Decimal]:
    """Creator ids with basis-point shares that add up to exactly 10000."""
    n = draw(st.integers(min_value=1, max_value=8))
    cuts = sorted(draw(st.sets(st.integers(1, 9999), min_size=n - 1, max_size=n - 1)))
    bounds = [0, *cuts, 10000]
    ids = draw(
        st.lists(st.text(min_size=1, max_size=6).filter(str.strip), min_size=n, max_size=n, unique=True)
    )
    return {cid: Decimal(hi - lo).scaleb(-4) for cid, lo, hi in zip(ids, bounds, bounds[1:], strict=False)}


@given(share_maps())
def test_any_shares_summing_to_one_make_a_valid_set(shares: dict[str, Decimal]) -> None:
    s = ShareSet.of(shares)
    assert sum(share.value for _, share in s) == 1
    assert len(s) == len(shares)
    assert s.creator_ids == tuple(sorted(shares))
    assert s.weights() == shares
    assert ShareSet.of(dict(reversed(list(shares.items())))) == s
    assert hash(ShareSet.of(dict(reversed(list(shares.items()))))) == hash(s)
    for cid, value in shares.items():
        assert s.share_of(cid).value == value


@given(share_maps(), st.integers(min_value=1, max_value=9999))
def test_shares_not_summing_to_one_are_refused(shares: dict[str, Decimal], bump: int) -> None:
    first = next(iter(shares))
    changed = dict(shares)
    changed[first] = shares[first] + Decimal(bump).scaleb(-4)
    if changed[first] > 1:
        with pytest.raises(InvalidValue):
            ShareSet.of(changed)
    else:
        with pytest.raises(RuleViolation) as err:
            ShareSet.of(changed)
        assert err.value.code == "shares-must-sum-to-one"


@given(st.sets(st.text(min_size=1, max_size=5).filter(str.strip), min_size=1, max_size=30))
def test_equal_sets_are_valid_and_fair_to_the_basis_point(ids: set[str]) -> None:
    s = ShareSet.equal(ids)
    bps = [s.share_of(cid).basis_points for cid in sorted(ids)]
    assert sum(bps) == 10000
    assert max(bps) - min(bps) <= 1
    assert bps == sorted(bps, reverse=True)


def test_three_way_equal_split() -> None:
    assert ShareSet.equal(["c", "a", "b"]).weights() == {
        "a": Decimal("0.3334"),
        "b": Decimal("0.3333"),
        "c": Decimal("0.3333"),
    }


def test_too_many_creators_for_basis_points() -> None:
    with pytest.raises(RuleViolation):
        ShareSet.equal([f"c{i:05d}" for i in range(10001)])


@pytest.mark.parametrize(
    "value",
    [Decimal(0), Decimal("-0.1"), Decimal("1.0001"), Decimal("0.00001"), Decimal("NaN"), Decimal("Infinity")],
)
def test_share_range_and_precision(value: Decimal) -> None:
    with pytest.raises(InvalidValue) as err:
        RevenueShare(value)
    assert err.value.code == "invalid-share"


@pytest.mark.parametrize("value", [0.5, True, None, "half", "", [1]])
def test_share_refuses_floats_bools_and_junk(value: object) -> None:
    with pytest.raises(InvalidValue):
        RevenueShare.of(value)  # type: ignore[arg-type]


def test_share_construction_paths() -> None:
    assert RevenueShare.of(1).value == Decimal("1.0000")
    assert RevenueShare.of(" 0.25 ") == RevenueShare(Decimal("0.25"))
    assert RevenueShare.of(Decimal("0.50000")).value == Decimal("0.5")
    assert RevenueShare.of(RevenueShare.of("0.3")).basis_points == 3000
    assert RevenueShare.from_basis_points(1).value == Decimal("0.0001")
    assert str(RevenueShare.of("0.2")) == "0.2000"
    with pytest.raises(InvalidValue):
        RevenueShare.from_basis_points(1.0)  # type: ignore[arg-type]


def test_share_set_structure_errors() -> None:
    with pytest.raises(RuleViolation):
        ShareSet(())
    with pytest.raises(InvalidValue):
        ShareSet.of({" ": "1"})
    with pytest.raises(InvalidValue):
        ShareSet((("a", Decimal(1)),))  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        ShareSet((("a", RevenueShare.of("0.5")), ("a", RevenueShare.of("0.5"))))
    with pytest.raises(InvalidValue) as err:
        ShareSet.sole("a").share_of("b")
    assert err.value.code == "unknown-creator"
    assert ShareSet.sole("a").weights() == {"a": Decimal(1)}

import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.allocation import allocate, allocate_equally
from domain.errors import InvalidValue, RuleViolation

totals = st.integers(min_value=-(10**12), max_value=10**12)
int_weights = st.dictionaries(
    st.text(min_size=1, max_size=6), st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12
)
dec_weights = st.dictionaries(
    st.text(min_size=1, max_size=6),
    st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=12,
)
weights = st.one_of(int_weights, dec_weights)


def not_all_zero(w: dict) -> bool:
    return any(v != 0 for v in w.values())


@given(totals, weights)
def test_parts_sum_exactly_and_stay_within_floor_and_ceiling(total: int, w: dict) -> None:
    assume(not_all_zero(w))
    parts = allocate(total, w)
    assert sum(parts.values()) == total
    assert set(parts) == set(w)
    weight_sum = sum(Fraction(v) for v in w.values())
    for key, part in parts.items():
        quota = Fraction(total) * Fraction(w[key]) / weight_sum
        assert quota - 1 < part < quota + 1
        if w[key] == 0:
            assert part == 0


@given(totals, weights, st.randoms(use_true_random=False))
def test_order_of_the_weights_does_not_matter(total: int, w: dict, rnd: random.Random) -> None:
    assume(not_all_zero(w))
    items = list(w.items())
    rnd.shuffle(items)
    shuffled = allocate(total, dict(items))
    original = allocate(total, w)
    assert shuffled == original
    assert list(shuffled) == list(original) == sorted(w)


@given(totals, weights)
def test_negative_totals_mirror_positive_ones(total: int, w: dict) -> None:
    assume(not_all_zero(w))
    assert allocate(-total, w) == {k: -v for k, v in allocate(total, w).items()}


@given(st.integers(min_value=0, max_value=10**9), weights)
def test_non_negative_totals_give_non_negative_parts(total: int, w: dict) -> None:
    assume(not_all_zero(w))
    assert all(part >= 0 for part in allocate(total, w).values())


@given(
    totals,
    st.dictionaries(st.text(min_size=1, max_size=4), st.integers(1, 100), min_size=1, max_size=8),
    st.integers(1, 50),
)
def test_scaling_every_weight_changes_nothing(total: int, w: dict, factor: int) -> None:
    assert allocate(total, w) == allocate(total, {k: v * factor for k, v in w.items()})


def test_tie_break_larger_weight_then_key_order() -> None:
    # 1 unit over 3 equal quotas: the smallest key wins.
    assert allocate(1, {"b": 1, "a": 1, "c": 1}) == {"a": 1, "b": 0, "c": 0}
    # Equal remainders (1/2 each) but different weights: the larger weight wins.
    assert allocate(2, {"a": 1, "b": 3}) == {"a": 0, "b": 2}
    assert allocate(3, {"a": 1, "b": 1}) == {"a": 2, "b": 1}
    assert allocate(100, {"x": Decimal("0.5"), "y": Decimal("0.3"), "z": Decimal("0.2")}) == {
        "x": 50,
        "y": 30,
        "z": 20,
    }
    assert allocate(-1, {"a": 1, "b": 1}) == {"a": -1, "b": 0}


def test_tuple_keys_are_fine() -> None:
    assert allocate(5, {("s", "b"): 1, ("s", "a"): 1}) == {("s", "a"): 3, ("s", "b"): 2}


@pytest.mark.parametrize("w", [{}, {"a": 0}, {"a": 0, "b": Decimal(0)}])
def test_all_zero_weights_are_a_clear_error(w: dict) -> None:
    with pytest.raises(RuleViolation) as err:
        allocate(10, w)
    assert err.value.code == "allocation-weights-all-zero"


@pytest.mark.parametrize(
    "bad", [-1, 1.5, True, Decimal("NaN"), Decimal("Infinity"), Decimal("-0.1"), "1", None]
)
def test_bad_weights_are_refused(bad: object) -> None:
    with pytest.raises(InvalidValue) as err:
        allocate(10, {"a": 1, "b": bad})  # type: ignore[dict-item]
    assert err.value.code == "invalid-weight"


@pytest.mark.parametrize("bad", [10.0, True, Decimal(10), "10"])
def test_total_must_be_an_int(bad: object) -> None:
    with pytest.raises(InvalidValue):
        allocate(bad, {"a": 1})  # type: ignore[arg-type]


def test_fraction_weights_are_exact() -> None:
    assert allocate(10, {"a": Fraction(1, 3), "b": Fraction(2, 3)}) == {"a": 3, "b": 7}


@given(totals, st.sets(st.text(min_size=1, max_size=5), min_size=1, max_size=20))
def test_equal_split_differs_by_at_most_one_and_favours_small_keys(total: int, keys: set) -> None:
    parts = allocate_equally(total, keys)
    assert sum(parts.values()) == total
    magnitudes = [abs(parts[k]) for k in sorted(keys)]
    assert max(magnitudes) - min(magnitudes) <= 1
    assert magnitudes == sorted(magnitudes, reverse=True)


def test_equal_split_refuses_duplicates_and_nothing() -> None:
    with pytest.raises(InvalidValue):
        allocate_equally(10, ["a", "a"])
    with pytest.raises(RuleViolation):
        allocate_equally(10, [])

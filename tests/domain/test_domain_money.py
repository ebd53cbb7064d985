from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValue, RuleViolation
from domain.money import CURRENCY_EXPONENTS, Currency, Money

codes = st.sampled_from(sorted(CURRENCY_EXPONENTS))
amounts = st.integers(min_value=-(10**15), max_value=10**15)


@pytest.mark.parametrize(
    ("code", "exponent"),
    [("JPY", 0), ("USD", 2), ("EUR", 2), ("GBP", 2), ("BHD", 3), ("KWD", 3), ("CLP", 0), ("CLF", 4)],
)
def test_known_currencies_carry_their_iso_exponent(code: str, exponent: int) -> None:
    assert Currency(code).exponent == exponent
    assert Currency(code.lower()) == Currency(code)
    assert str(Currency(code)) == code


@pytest.mark.parametrize("code", ["XXX", "US", "", "DOLLAR", "usd1"])
def test_unknown_currency_is_invalid(code: str) -> None:
    with pytest.raises(InvalidValue) as err:
        Currency(code)
    assert err.value.code == "invalid-currency"


def test_currency_code_must_be_text() -> None:
    with pytest.raises(InvalidValue):
        Currency(840)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [1.0, True, Decimal("1"), "1", None])
def test_money_refuses_anything_but_int_minor_units(bad: object) -> None:
    with pytest.raises(InvalidValue):
        Money(bad, Currency("USD"))  # type: ignore[arg-type]


def test_money_needs_a_currency_object() -> None:
    with pytest.raises(InvalidValue):
        Money(1, "USD")  # type: ignore[arg-type]


@given(amounts, codes)
def test_format_then_parse_round_trips(minor: int, code: str) -> None:
    money = Money.of(minor, code)
    assert Money.parse(money.format(), code) == money
    assert money.to_decimal() == Decimal(money.format())
    assert str(money) == f"{money.format()} {Currency(code).code}"


@pytest.mark.parametrize(
    ("text", "code", "minor"),
    [
        ("12.34", "USD", 1234),
        ("12.3", "USD", 1230),
        ("12", "USD", 1200),
        ("-0.05", "EUR", -5),
        ("1000", "JPY", 1000),
        ("1000.00", "JPY", 1000),
        ("1.234", "BHD", 1234),
        ("12.340", "USD", 1234),
        ("0", "KWD", 0),
    ],
)
def test_parse_is_exact(text: str, code: str, minor: int) -> None:
    assert Money.parse(text, code) == Money.of(minor, code)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("12.345", "USD"),
        ("1.5", "JPY"),
        ("1e3", "USD"),
        (" 1", "USD"),
        ("+1", "USD"),
        ("1,000", "USD"),
        ("", "USD"),
        (".5", "USD"),
        ("1.", "USD"),
    ],
)
def test_parse_refuses_what_would_need_rounding_or_guessing(text: str, code: str) -> None:
    with pytest.raises(InvalidValue) as err:
        Money.parse(text, code)
    assert err.value.code == "invalid-amount"


def test_parse_refuses_non_text() -> None:
    with pytest.raises(InvalidValue):
        Money.parse(12.34, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("minor", "code", "text"),
    [(5, "USD", "0.05"), (-1234, "USD", "-12.34"), (7, "JPY", "7"), (-1, "KWD", "-0.001")],
)
def test_format_pads_to_the_exponent(minor: int, code: str, text: str) -> None:
    assert Money.of(minor, code).format() == text


@given(amounts, amounts, codes)
def test_addition_and_subtraction_are_exact_and_inverse(a: int, b: int, code: str) -> None:
    x, y = Money.of(a, code), Money.of(b, code)
    assert (x + y).minor == a + b
    assert (x + y) - y == x
    assert (-x).minor == -a
    assert x - x == Money.zero(code)
    assert abs(x).minor == abs(a)
    assert x.times(3) == x + x + x
    assert (x < y) == (a < b)
    assert (x <= y) == (a <= b)
    assert (x > y) == (a > b)
    assert (x >= y) == (a >= b)
    assert Money.total([x, y], code) == x + y
    assert x.is_negative() == (a < 0)
    assert x.is_zero() == (a == 0)
    assert x.is_positive() == (a > 0)


def test_total_of_nothing_is_zero() -> None:
    assert Money.total([], "EUR") == Money.zero("EUR")


def test_mixing_currencies_is_refused() -> None:
    usd, eur = Money.of(1, "USD"), Money.of(1, "EUR")
    for op in (
        lambda: usd + eur,
        lambda: usd - eur,
        lambda: usd < eur,
        lambda: usd <= eur,
        lambda: usd > eur,
        lambda: usd >= eur,
    ):
        with pytest.raises(RuleViolation) as err:
            op()
        assert err.value.code == "currency-mismatch"


def test_money_does_not_combine_with_numbers() -> None:
    with pytest.raises(InvalidValue):
        Money.of(1, "USD") + 1  # type: ignore[operator]
    with pytest.raises(InvalidValue):
        Money.of(1, "USD").times(1.5)  # type: ignore[arg-type]


def test_money_is_immutable_and_hashable() -> None:
    m = Money.of(1, "USD")
    with pytest.raises(AttributeError):
        m.minor = 2  # type: ignore[misc]
    assert {m, Money.of(1, "USD")} == {m}

"""Money: an integer count of minor units (cents, yen, fils) in one ISO 4217 currency.

Why integers: every amount a creator sees on a statement must add up to the cent, and binary
floats cannot represent most decimal fractions. Floats (and bools, which Python treats as ints)
are therefore refused at every entry point; decimal text is parsed exactly or rejected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from domain.errors import InvalidValue, RuleViolation

# ISO 4217 active codes with their minor-unit exponent. Payment processors sometimes deviate
# (some charge ISK or HUF in "cents"); adapters translate at the edge, the domain stays ISO.
_ZERO: Final = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE: Final = "BHD IQD JOD KWD LYD OMR TND"
_FOUR: Final = "CLF UYW"
_TWO: Final = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD "
    "GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD "
    "MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP "
    "PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS "
    "TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
)
CURRENCY_EXPONENTS: Final[dict[str, int]] = {
    **dict.fromkeys(_TWO.split(), 2),
    **dict.fromkeys(_ZERO.split(), 0),
    **dict.fromkeys(_THREE.split(), 3),
    **dict.fromkeys(_FOUR.split(), 4),
}

_AMOUNT_RE: Final = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")


def _require_int(value: object, what: str) -> int:
    # bool is a subclass of int and float sneaks in through arithmetic; both are refused.
    if type(value) is not int:
        raise InvalidValue(f"{what} must be an integer, not {type(value).__name__}")
    return value


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 currency. ``Currency("usd")`` is normalised to ``USD``; the exponent (number
    of minor-unit digits) comes from the table, so it can never disagree with the code."""

    code: str
    exponent: int = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.code, str):
            raise InvalidValue("currency code must be a string", code="invalid-currency")
        code = self.code.strip().upper()
        exponent = CURRENCY_EXPONENTS.get(code)
        if exponent is None:
            raise InvalidValue(f"unknown currency code {self.code!r}", code="invalid-currency")
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "exponent", exponent)

    @property
    def minor_per_major(self) -> int:
        return int(10**self.exponent)

    def __str__(self) -> str:
        return self.code


def _as_currency(currency: Currency | str) -> Currency:
    return currency if isinstance(currency, Currency) else Currency(currency)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units of one currency. Negative amounts exist for reversals.

    Arithmetic and comparison only work between amounts of the same currency; mixing
    currencies is a ``RuleViolation`` (code ``currency-mismatch``), never a silent conversion.
    """

    minor: int
    currency: Currency

    def __post_init__(self) -> None:
        _require_int(self.minor, "amount in minor units")
        if not isinstance(self.currency, Currency):
            raise InvalidValue("currency must be a Currency", code="invalid-currency")

    # construction -----------------------------------------------------------------------
    @classmethod
    def of(cls, minor: int, currency: Currency | str) -> Money:
        """``Money.of(1234, "USD")`` is $12.34."""
        return cls(minor, _as_currency(currency))

    @classmethod
    def zero(cls, currency: Currency | str) -> Money:
        return cls(0, _as_currency(currency))

    @classmethod
    def parse(cls, text: str, currency: Currency | str) -> Money:
        """Parse a plain decimal string ("12.34", "-0.5", "1000") exactly.

        Digits beyond the currency's exponent are accepted only when they are zeros
        ("12.340" USD), because anything else would need rounding. No exponents, no
        thousands separators, no surrounding spaces, no "+".
        """
        cur = _as_currency(currency)
        if not isinstance(text, str):
            raise InvalidValue("amount text must be a string", code="invalid-amount")
        m = _AMOUNT_RE.fullmatch(text)
        if m is None:
            raise InvalidValue(f"{text!r} is not a decimal amount", code="invalid-amount")
        sign, whole, frac = m.group(1), m.group(2), m.group(3) or ""
        if len(frac) > cur.exponent:
            if frac[cur.exponent :].strip("0"):
                raise InvalidValue(
                    f"{text!r} has more decimal places than {cur.code} allows ({cur.exponent})",
                    code="invalid-amount",
                )
            frac = frac[: cur.exponent]
        minor = int(whole) * cur.minor_per_major + int(frac.ljust(cur.exponent, "0") or "0")
        return cls(-minor if sign else minor, cur)

    @classmethod
    def total(cls, amounts: Iterable[Money], currency: Currency | str) -> Money:
        """The sum of ``amounts`` (zero when empty); every amount must be in ``currency``."""
        result = cls.zero(currency)
        for amount in amounts:
            result = result + amount
        return result

    # queries ----------------------------------------------------------------------------
    def is_zero(self) -> bool:
        return self.minor == 0

    def is_negative(self) -> bool:
        return self.minor < 0

    def is_positive(self) -> bool:
        return self.minor > 0

    def to_decimal(self) -> Decimal:
        """The exact major-unit value (``Decimal("12.34")``), for display and export only."""
        return Decimal(self.minor).scaleb(-self.currency.exponent)

    def format(self) -> str:
        """The amount as plain decimal text with exactly ``exponent`` places: "-12.30"."""
        exp = self.currency.exponent
        sign = "-" if self.minor < 0 else ""
        whole, frac = divmod(abs(self.minor), self.currency.minor_per_major)
        return f"{sign}{whole}.{frac:0{exp}d}" if exp else f"{sign}{whole}"

    def __str__(self) -> str:
        return f"{self.format()} {self.currency.code}"

    # arithmetic -------------------------------------------------------------------------
    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise InvalidValue(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise RuleViolation(
                f"cannot combine {self.currency.code} with {other.currency.code}", code="currency-mismatch"
            )
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.minor + self._same(other).minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.minor - self._same(other).minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.minor), self.currency)

    def times(self, factor: int) -> Money:
        """Multiply by a whole number (a quantity). Fractions go through ``allocate``."""
        return Money(self.minor * _require_int(factor, "factor"), self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.minor < self._same(other).minor

    def __le__(self, other: Money) -> bool:
        return self.minor <= self._same(other).minor

    def __gt__(self, other: Money) -> bool:
        return self.minor > self._same(other).minor

    def __ge__(self, other: Money) -> bool:
        return self.minor >= self._same(other).minor

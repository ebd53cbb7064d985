"""Amounts at the processor boundary: integer minor units + an ISO 4217 code inside Canon, and
whatever each processor speaks on the wire.

- Stripe and Lemon Squeezy speak integers in minor units: nothing to convert.
- Paddle speaks minor units as strings (``"65215"``): `parse_minor_units` / `format_minor_units`.
- PayPal speaks decimal strings (``"10.00"``, ``"1000"`` for JPY): `format_decimal` /
  `parse_decimal`, strict in both directions, so a value that would lose a minor unit is an
  error instead of a silent rounding.

The number of decimals of a currency is its ISO 4217 exponent (`currency_exponent`, from the
domain's table): 0 for yen, won and the CFA francs, 3 for the Gulf dinars, 2 for nearly everything
else. Floats never appear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from application.errors import InvalidInput
from domain.errors import InvalidValue
from domain.money import Currency

_MINOR_STRING = re.compile(r"^-?[0-9]+$")
_DECIMAL_STRING = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def normalize_currency(code: str) -> str:
    """The upper-case ISO 4217 code; processors differ in case (Stripe ``usd``, Paddle ``USD``).
    Unknown codes are refused (the table is the domain's, `domain.money.Currency`)."""
    try:
        return Currency(code.strip() if isinstance(code, str) else code).code
    except InvalidValue as exc:
        raise InvalidInput("A currency is an ISO 4217 code.", errors={"currency": repr(code)}) from exc


def currency_exponent(currency: str) -> int:
    """How many decimals the currency's minor unit has (ISO 4217)."""
    return Currency(normalize_currency(currency)).exponent


def format_decimal(amount_minor: int, currency: str, *, decimals: int | None = None) -> str:
    """Minor units as a decimal string: ``1000 USD -> "10.00"``, ``1000 JPY -> "1000"``.

    ``decimals`` lets a processor that writes fewer decimals than ISO (PayPal writes HUF and TWD
    without decimals) ask for them; then the amount must be a whole number of those units.
    """
    _require_int(amount_minor)
    exponent = currency_exponent(currency)
    places = exponent if decimals is None else decimals
    if places < 0 or places > exponent:
        raise InvalidInput("Unsupported number of decimals.", errors={"decimals": str(decimals)})
    step = 10 ** (exponent - places)
    if amount_minor % step:
        raise InvalidInput(
            f"{amount_minor} minor units of {currency} cannot be written with {places} decimals.",
            errors={"amount": "not a whole number of the processor's units"},
        )
    value = Decimal(amount_minor).scaleb(-exponent)
    return f"{value:.{places}f}"


def parse_decimal(value: str, currency: str) -> int:
    """A decimal string as minor units: ``"10.00" USD -> 1000``. More decimals than the currency
    has is an error, never a rounding (``"10.001" USD`` is refused)."""
    text = value.strip() if isinstance(value, str) else ""
    if not _DECIMAL_STRING.match(text):
        raise InvalidInput("Not a decimal amount.", errors={"amount": repr(value)})
    exponent = currency_exponent(currency)
    fraction = text.partition(".")[2]
    if len(fraction.rstrip("0")) > exponent:
        raise InvalidInput(
            f"{text} has more decimals than {currency} allows.", errors={"amount": "too many decimals"}
        )
    try:
        scaled = Decimal(text).scaleb(exponent)
    except InvalidOperation as exc:  # pragma: no cover - the pattern above already excludes it
        raise InvalidInput("Not a decimal amount.", errors={"amount": repr(value)}) from exc
    return int(scaled)


def parse_minor_units(value: str | int) -> int:
    """A minor-unit string (Paddle's ``"65215"``) as an int; anything else is refused."""
    if isinstance(value, bool):
        raise InvalidInput("Not an amount in minor units.", errors={"amount": repr(value)})
    if isinstance(value, int):
        return value
    text = value.strip() if isinstance(value, str) else ""
    if not _MINOR_STRING.match(text):
        raise InvalidInput("Not an amount in minor units.", errors={"amount": repr(value)})
    return int(text)


def format_minor_units(amount_minor: int) -> str:
    _require_int(amount_minor)
    return str(amount_minor)


def round_half_up(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True, kw_only=True)
class PercentagePlusFixedFee:
    """A card-processor style fee: ``rate_bps`` basis points of the amount, plus a fixed part.

    - The percentage is exact (`Decimal`) and rounded half-up to a whole minor unit.
    - The fixed part is written for a two-decimal currency (``fixed_minor_2dp=30`` is 0.30) and
      scaled to the currency's exponent, rounded half-up: 0 yen in JPY, 0.300 in KWD. That keeps
      one fee schedule meaningful across currencies instead of charging 30 yen or 0.030 dinar.
    - The fee never exceeds the amount, so the net is never negative.
    """

    rate_bps: int = 290
    fixed_minor_2dp: int = 30

    def __post_init__(self) -> None:
        if self.rate_bps < 0 or self.rate_bps > 10_000 or self.fixed_minor_2dp < 0:
            raise InvalidInput("A fee rate is 0..10000 basis points and a fixed part is >= 0.")

    def fee(self, amount_minor: int, currency: str) -> int:
        _require_int(amount_minor)
        if amount_minor <= 0:
            return 0
        exponent = currency_exponent(currency)
        percentage = Decimal(amount_minor) * self.rate_bps / Decimal(10_000)
        fixed = Decimal(self.fixed_minor_2dp).scaleb(exponent - 2)
        return min(amount_minor, round_half_up(percentage) + round_half_up(fixed))


def _require_int(amount_minor: int) -> None:
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise InvalidInput("Amounts are integers in minor units.", errors={"amount": repr(amount_minor)})

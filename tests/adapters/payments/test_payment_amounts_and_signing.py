"""The pure helpers every payment gateway shares: amount conversions to and from processor wire
formats, the sandbox fee model, and the timestamped webhook signature scheme."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.errors import InvalidInput
from application.payments.amounts import (
    PercentagePlusFixedFee,
    currency_exponent,
    format_decimal,
    format_minor_units,
    normalize_currency,
    parse_decimal,
    parse_minor_units,
)
from application.payments.errors import (
    WebhookEndpointDisabled,
    WebhookSignatureInvalid,
    WebhookSignatureMissing,
    WebhookTimestampOutOfTolerance,
)
from application.payments.ports import CheckoutRequest, PayoutRequest, RefundDetails
from application.payments.signing import (
    check_timestamp,
    header_value,
    require_header,
    require_secret,
    sign_timestamped,
    verify_timestamped,
)

CURRENCIES = st.sampled_from(["USD", "EUR", "JPY", "KRW", "KWD", "BHD", "GBP", "CLF"])
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


# -- amounts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1000, "USD", "10.00"),
        (5, "USD", "0.05"),
        (-250, "EUR", "-2.50"),
        (1000, "JPY", "1000"),
        (1234, "KWD", "1.234"),
        (0, "USD", "0.00"),
    ],
)
def test_decimal_strings_follow_the_currency_exponent(amount: int, currency: str, text: str) -> None:
    assert format_decimal(amount, currency) == text
    assert parse_decimal(text, currency) == amount


@given(amount=st.integers(min_value=-(10**12), max_value=10**12), currency=CURRENCIES)
def test_decimal_round_trip_is_exact(amount: int, currency: str) -> None:
    assert parse_decimal(format_decimal(amount, currency), currency) == amount


def test_fewer_processor_decimals_need_whole_units() -> None:
    assert format_decimal(150_000, "HUF", decimals=0) == "1500"
    with pytest.raises(InvalidInput):
        format_decimal(150_050, "HUF", decimals=0)
    with pytest.raises(InvalidInput):
        format_decimal(100, "USD", decimals=3)


@pytest.mark.parametrize(
    ("text", "currency"), [("10.001", "USD"), ("1.5", "JPY"), ("1e3", "USD"), ("", "USD"), ("1,00", "EUR")]
)
def test_parse_decimal_refuses_instead_of_rounding(text: str, currency: str) -> None:
    with pytest.raises(InvalidInput):
        parse_decimal(text, currency)


def test_trailing_zero_decimals_are_exact_not_rounded() -> None:
    assert parse_decimal("10.500", "USD") == 1050


def test_minor_unit_strings_are_strict() -> None:
    assert parse_minor_units("65215") == 65215
    assert parse_minor_units("-87") == -87
    assert parse_minor_units(42) == 42
    assert format_minor_units(65215) == "65215"
    for bad in ("12.5", "", " ", "1e3", "0x10", True):
        with pytest.raises(InvalidInput):
            parse_minor_units(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        format_decimal(10.0, "USD")  # type: ignore[arg-type]


def test_currencies_are_normalized_and_unknown_ones_refused() -> None:
    assert normalize_currency("usd") == "USD"
    assert currency_exponent("jpy") == 0
    assert currency_exponent("BHD") == 3
    for bad in ("US", "dollars", "XXX1", ""):
        with pytest.raises(InvalidInput):
            normalize_currency(bad)


def test_fee_model_examples_round_half_up_and_scale_the_fixed_part() -> None:
    fees = PercentagePlusFixedFee(rate_bps=290, fixed_minor_2dp=30)
    assert fees.fee(1000, "USD") == 29 + 30
    assert fees.fee(2500, "USD") == 73 + 30  # 72.5 rounds half up
    assert fees.fee(1000, "JPY") == 29  # 0.30 of a yen rounds to nothing
    assert fees.fee(1000, "KWD") == 29 + 300  # 0.300 dinar
    assert fees.fee(10, "USD") == 10  # never more than the amount
    assert fees.fee(0, "USD") == 0


@given(amount=st.integers(min_value=0, max_value=10**11), currency=CURRENCIES, bps=st.integers(0, 10_000))
def test_fee_is_never_negative_nor_above_the_amount(amount: int, currency: str, bps: int) -> None:
    fee = PercentagePlusFixedFee(rate_bps=bps, fixed_minor_2dp=30).fee(amount, currency)
    assert 0 <= fee <= amount
    exact = Decimal(amount) * bps / 10_000 + Decimal(30).scaleb(currency_exponent(currency) - 2)
    # each part is rounded half-up on its own, so the total is within one unit of the exact fee
    assert abs(Decimal(fee) - min(Decimal(amount), exact)) <= 1


@given(small=st.integers(1, 10**9), extra=st.integers(0, 10**9))
def test_fee_grows_with_the_amount(small: int, extra: int) -> None:
    fees = PercentagePlusFixedFee()
    assert fees.fee(small, "USD") <= fees.fee(small + extra, "USD")


def test_fee_model_validates_its_parameters() -> None:
    with pytest.raises(InvalidInput):
        PercentagePlusFixedFee(rate_bps=-1)
    with pytest.raises(InvalidInput):
        PercentagePlusFixedFee(rate_bps=10_001)


# -- port value objects ------------------------------------------------------------------------


def test_requests_validate_and_normalize() -> None:
    request = CheckoutRequest(
        purchase_id="p1",
        amount_minor=100,
        currency="usd",
        description="d",
        success_url="https://a.test/ok",
        cancel_url="https://a.test/no",
    )
    assert request.currency == "USD"
    with pytest.raises(InvalidInput):
        PayoutRequest(
            payout_id="p", destination_account="acct", amount_minor=100, currency="USD", idempotency_key=""
        )
    with pytest.raises(InvalidInput):
        PayoutRequest(
            payout_id="p", destination_account="", amount_minor=100, currency="USD", idempotency_key="k"
        )
    with pytest.raises(InvalidInput):
        RefundDetails(external_refund_id="r", amount_minor=None, full=False, refunded_total_minor=None)


# -- signatures --------------------------------------------------------------------------------


def _independent(secret: str, body: bytes, timestamp: int) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_timestamped_signature_matches_the_documented_scheme() -> None:
    body = b'{"id":"evt_1"}'
    header = sign_timestamped("s3cret", body, 1_772_452_800)
    assert header == f"t=1772452800,v1={_independent('s3cret', body, 1_772_452_800)}"
    assert verify_timestamped(header, body, "s3cret", now=NOW) == datetime.fromtimestamp(1_772_452_800, UTC)


def test_rotated_secrets_any_v1_may_match() -> None:
    body, t = b"{}", int(NOW.timestamp())
    header = f"t={t},v1={_independent('old', body, t)},v1={_independent('new', body, t)}"
    verify_timestamped(header, body, "new", now=NOW)
    verify_timestamped(header, body, "old", now=NOW)
    with pytest.raises(WebhookSignatureInvalid):
        verify_timestamped(header, body, "other", now=NOW)


@pytest.mark.parametrize("header", ["", "t=abc,v1=00", "v1=00", f"t={int(NOW.timestamp())}", "garbage"])
def test_unreadable_headers_are_invalid(header: str) -> None:
    with pytest.raises(WebhookSignatureInvalid):
        verify_timestamped(header, b"{}", "s", now=NOW)


def test_tolerance_is_inclusive_and_symmetric() -> None:
    tolerance = timedelta(minutes=5)
    check_timestamp(NOW - tolerance, NOW, tolerance)
    check_timestamp(NOW + tolerance, NOW, tolerance)
    for skew in (tolerance + timedelta(seconds=1), -(tolerance + timedelta(seconds=1))):
        with pytest.raises(WebhookTimestampOutOfTolerance):
            check_timestamp(NOW + skew, NOW, tolerance)


def test_secret_and_header_guards() -> None:
    for empty in ("", "   "):
        with pytest.raises(WebhookEndpointDisabled):
            require_secret(empty, "Sandbox")
    assert require_secret("x", "Sandbox") == "x"
    headers = {"stripe-SIGNATURE": " t=1,v1=a ", "Blank": "  "}
    assert header_value(headers, "Stripe-Signature") == "t=1,v1=a"
    assert header_value(headers, "blank") is None
    with pytest.raises(WebhookSignatureMissing):
        require_header(headers, "Blank")

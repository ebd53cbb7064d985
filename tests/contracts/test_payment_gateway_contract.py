"""The one contract every `PaymentGateway` honours, run against the offline sandbox processor and
against Stripe, Paddle, Lemon Squeezy and PayPal through their real SDKs (or API) pointed at
local HTTP doubles that answer with the vendors' own published example payloads.

Each subclass provides a `harness` fixture (see `tests/adapters/payments/harness.py`); every test
first proves it starts clean (the double has seen no request, the sandbox ledger is empty).
"""

from __future__ import annotations

import importlib.machinery
import json
import sys
import types
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from application.errors import InvalidInput
from application.payments.errors import (
    PaymentProcessorRejected,
    PayoutsNotSupported,
    WebhookEndpointDisabled,
    WebhookSignatureInvalid,
    WebhookSignatureMissing,
    WebhookTimestampOutOfTolerance,
)
from application.payments.ports import (
    CheckoutRequest,
    PaymentStatus,
    PayoutRequest,
    PayoutStatus,
    RefundStatus,
    WebhookEventType,
)
from domain.ids import new_id


def _register_payment_testkit() -> None:
    # Two installed SDKs ship a top-level package named `tests` that shadows this repository's
    # `tests` directory, so the payment doubles and harnesses are imported under a name of their
    # own (the same registration as tests/adapters/payments/conftest.py).
    if "payment_testkit" in sys.modules:
        return
    location = str(Path(__file__).resolve().parents[1] / "adapters" / "payments")
    spec = importlib.machinery.ModuleSpec("payment_testkit", None, is_package=True)
    spec.submodule_search_locations = [location]
    package = types.ModuleType("payment_testkit")
    package.__spec__ = spec
    package.__path__ = [location]
    sys.modules["payment_testkit"] = package


_register_payment_testkit()

from payment_testkit.harness import NOW, GatewayHarness, WebhookCase  # noqa: E402
from payment_testkit.lemonsqueezy_harness import LemonSqueezyHarness  # noqa: E402
from payment_testkit.paddle_harness import PaddleHarness  # noqa: E402
from payment_testkit.paypal_harness import PayPalHarness  # noqa: E402
from payment_testkit.sandbox_harness import SandboxHarness  # noqa: E402
from payment_testkit.stripe_harness import StripeHarness  # noqa: E402

T = WebhookEventType


def checkout_request(**overrides: object) -> CheckoutRequest:
    values: dict[str, object] = {
        "purchase_id": new_id(),
        "amount_minor": 2_500,
        "currency": "USD",
        "description": "A conversation with The Complete Works",
        "success_url": "https://canon.test/purchases/done",
        "cancel_url": "https://canon.test/purchases/cancelled",
        "customer_email": "reader@example.com",
    }
    values.update(overrides)
    return CheckoutRequest(**values)  # type: ignore[arg-type]


def starts_clean(harness: GatewayHarness) -> None:
    assert harness.request_log() == []


class PaymentGatewayContract:
    """Not collected itself: subclasses provide the `harness` fixture."""

    # -- checkout ----------------------------------------------------------------------------

    async def test_checkout_carries_our_purchase_reference(self, harness: GatewayHarness) -> None:
        starts_clean(harness)
        request = checkout_request()
        checkout = await harness.gateway.create_checkout(request)
        assert checkout.processor == harness.gateway.processor == harness.processor
        assert checkout.external_checkout_id
        assert checkout.url.startswith(("https://", "http://"))
        assert harness.checkout_reference(checkout) == request.purchase_id

    async def test_checkout_request_is_validated_before_any_call(self, harness: GatewayHarness) -> None:
        starts_clean(harness)
        for bad in ({"amount_minor": 0}, {"currency": "dollars"}, {"success_url": "/relative"}):
            with pytest.raises(InvalidInput):
                checkout_request(**bad)
        assert harness.request_log() == []

    # -- webhook verification ----------------------------------------------------------------

    async def test_vendor_example_payloads_verify_and_normalize(self, harness: GatewayHarness) -> None:
        starts_clean(harness)
        payloads = harness.vendor_payloads()
        assert payloads
        for name, body in payloads.items():
            event = await harness.gateway.verify_webhook(harness.sign(body), body, now=NOW)
            assert event.processor == harness.processor, name
            assert event.external_event_id, name
            assert event.processor_event_type, name
            assert event.raw == json.loads(body), name

    async def test_tampered_body_is_rejected(self, harness: GatewayHarness) -> None:
        starts_clean(harness)
        body = next(iter(harness.vendor_payloads().values()))
        headers = harness.sign(body)
        tampered = body.replace(b"}", b',"injected":true}', 1)
        with pytest.raises(WebhookSignatureInvalid) as rejected:
            await harness.gateway.verify_webhook(headers, tampered, now=NOW)
        assert rejected.value.code == "webhook-signature-invalid"

    async def test_wrong_secret_is_rejected(self, harness: GatewayHarness) -> None:
        starts_clean(harness)
        body = next(iter(harness.vendor_payloads().values()))
        with pytest.raises(WebhookSignatureInvalid) as rejected:
            await harness.gateway.verify_webhook(harness.sign(body, secret="not-our-secret"), body, now=NOW)
        assert rejected.value.code == "webhook-signature-invalid"

    async def test_garbage_signature_header_is_rejected(self, harness: GatewayHarness) -> None:
        starts_clean(harness)
        body = next(iter(harness.vendor_payloads().values()))
        headers = dict(harness.sign(body))
        headers[harness.signature_header] = "this-is-not-a-signature"
        with pytest.raises(WebhookSignatureInvalid):
            await harness.gateway.verify_webhook(headers, body, now=NOW)

    async def test_stale_or_future_timestamp_is_rejected(self, harness: GatewayHarness) -> None:
        starts_clean(harness)
        body = next(iter(harness.vendor_payloads().values()))
        for skew in (timedelta(minutes=-6), timedelta(minutes=6)):
            headers = harness.sign(body, at=NOW + skew)
            if harness.signs_timestamp:
                with pytest.raises(WebhookTimestampOutOfTolerance) as rejected:
                    await harness.gateway.verify_webhook(headers, body, now=NOW)
                assert rejected.value.code == "webhook-timestamp-out-of-tolerance"
            else:
                # no signed time in this scheme: replays are caught by the event id instead
                event = await harness.gateway.verify_webhook(headers, body, now=NOW)
                again = await harness.gateway.verify_webhook(headers, body, now=NOW + timedelta(days=2))
                assert event.external_event_id == again.external_event_id
        within = harness.sign(body, at=NOW - timedelta(minutes=4))
        assert (await harness.gateway.verify_webhook(within, body, now=NOW)).processor == harness.processor

    async def test_missing_signature_header_is_its_own_error(self, harness: GatewayHarness) -> None:
        starts_clean(harness)
        body = next(iter(harness.vendor_payloads().values()))
        headers = {
            k: v for k, v in harness.sign(body).items() if k.lower() != harness.signature_header.lower()
        }
        with pytest.raises(WebhookSignatureMissing) as missing:
            await harness.gateway.verify_webhook(headers, body, now=NOW)
        assert missing.value.code == "webhook-signature-missing"

    async def test_empty_secret_disables_the_endpoint(self, harness: GatewayHarness) -> None:
        starts_clean(harness)
        body = next(iter(harness.vendor_payloads().values()))
        disabled = harness.gateway_with_secret("")
        for headers in (harness.sign(body), harness.sign(body, secret=""), {}):
            with pytest.raises(WebhookEndpointDisabled) as refused:
                await disabled.verify_webhook(headers, body, now=NOW)
            assert refused.value.code == "webhook-endpoint-disabled"

    async def test_header_names_are_case_insensitive(self, harness: GatewayHarness) -> None:
        starts_clean(harness)
        body = next(iter(harness.vendor_payloads().values()))
        lowered = {k.lower(): v for k, v in harness.sign(body).items()}
        assert (await harness.gateway.verify_webhook(lowered, body, now=NOW)).processor == harness.processor

    # -- normalized events -------------------------------------------------------------------

    async def test_events_normalize_to_ours_with_the_purchase_reference(
        self, harness: GatewayHarness
    ) -> None:
        starts_clean(harness)
        request = checkout_request(amount_minor=4_000)
        checkout = await harness.gateway.create_checkout(request)
        payment_id = await harness.pay(checkout, request)
        base = {
            "purchase_id": request.purchase_id,
            "external_payment_id": payment_id,
            "external_checkout_id": checkout.external_checkout_id,
            "amount_minor": request.amount_minor,
            "currency": request.currency,
        }
        cases = [
            WebhookCase(type=T.PAYMENT_SUCCEEDED, **base),  # type: ignore[arg-type]
            WebhookCase(type=T.PAYMENT_FAILED, **base),  # type: ignore[arg-type]
            WebhookCase(type=T.CHECKOUT_APPROVED, **base),  # type: ignore[arg-type]
            WebhookCase(type=T.REFUNDED, refund_amount_minor=1_500, external_refund_id="re_part", **base),  # type: ignore[arg-type]
            WebhookCase(
                type=T.REFUNDED,
                refund_amount_minor=4_000,
                refund_full=True,
                external_refund_id="re_all",
                **base,
            ),  # type: ignore[arg-type]
            WebhookCase(type=T.CHARGEBACK_OPENED, **base),  # type: ignore[arg-type]
            WebhookCase(type=T.CHARGEBACK_WON, **base),  # type: ignore[arg-type]
            WebhookCase(type=T.CHARGEBACK_LOST, **base),  # type: ignore[arg-type]
            WebhookCase(type=T.PAYOUT_PAID, **base),  # type: ignore[arg-type]
            WebhookCase(type=T.PAYOUT_FAILED, **base),  # type: ignore[arg-type]
        ]
        supported = [case for case in cases if case.type in harness.event_types]
        assert {T.PAYMENT_SUCCEEDED, T.PAYMENT_FAILED, T.REFUNDED} <= {c.type for c in supported}
        for case in supported:
            body = await harness.webhook_body(case)
            event = await harness.gateway.verify_webhook(harness.sign(body), body, now=NOW)
            label = f"{case.type} {case.external_refund_id}"
            assert event.type == case.type, label
            assert event.processor == harness.processor
            expected_reference = case.purchase_id if case.type in harness.reference_echoed else None
            assert event.purchase_reference == expected_reference, label
            assert event.currency == case.currency, label
            if case.type in (T.PAYOUT_PAID, T.PAYOUT_FAILED):
                assert event.payout is not None, label
                assert event.payout.payout_id == case.payout_id
                assert event.payout.external_payout_id == case.external_payout_id
                assert (event.payout.failure_reason is None) == (case.type == T.PAYOUT_PAID)
                assert event.amount_minor == case.amount_minor
                continue
            if case.type == T.CHECKOUT_APPROVED:
                assert event.external_checkout_id == case.external_checkout_id
                continue
            assert event.external_payment_id == case.external_payment_id, label
            if case.type == T.PAYMENT_SUCCEEDED:
                assert event.amount_minor == case.amount_minor
                assert event.fee_minor == harness.event_fee(case)
            if case.type == T.REFUNDED:
                assert event.refund is not None
                assert event.refund.external_refund_id
                assert event.refund.full == case.refund_full, label
                delivered = event.refund.amount_minor or event.refund.refunded_total_minor
                assert delivered == case.refund_amount_minor, label
            if case.type in (T.CHARGEBACK_OPENED, T.CHARGEBACK_WON, T.CHARGEBACK_LOST):
                assert event.chargeback is not None
                assert event.chargeback.external_dispute_id == harness.expected_dispute_id(case)
                assert event.chargeback.amount_minor == case.amount_minor

    # -- payments and refunds ----------------------------------------------------------------

    async def test_fetch_payment_reports_amount_fee_and_net(self, harness: GatewayHarness) -> None:
        starts_clean(harness)
        request = checkout_request(amount_minor=10_000)
        payment_id = await harness.pay(await harness.gateway.create_checkout(request), request)
        snapshot = await harness.gateway.fetch_payment(payment_id)
        fee, tax = harness.breakdown(request)
        assert snapshot.processor == harness.processor
        assert snapshot.external_payment_id == payment_id
        assert snapshot.status == PaymentStatus.SUCCEEDED
        assert snapshot.amount_minor == 10_000
        assert snapshot.currency == "USD"
        assert snapshot.fee_minor == fee
        assert snapshot.tax_minor == tax
        expected_net = None if fee is None else 10_000 - fee - (tax or 0)
        assert snapshot.net_minor == expected_net
        assert snapshot.refunded_minor == 0

    async def test_refund_partial_then_the_rest(self, harness: GatewayHarness) -> None:
        starts_clean(harness)
        request = checkout_request(amount_minor=5_000)
        payment_id = await harness.pay(await harness.gateway.create_checkout(request), request)
        first = await harness.gateway.refund(payment_id, 1_200, idempotency_key="refund-key-1")
        assert first.processor == harness.processor
        assert first.external_payment_id == payment_id
        assert first.amount_minor == 1_200
        assert first.currency == "USD"
        assert first.status in (RefundStatus.SUCCEEDED, RefundStatus.PENDING)
        await harness.settle()
        partial = await harness.gateway.fetch_payment(payment_id)
        assert partial.status == PaymentStatus.PARTIALLY_REFUNDED
        assert partial.refunded_minor == 1_200
        rest = await harness.gateway.refund(payment_id, None, idempotency_key="refund-key-2")
        assert rest.amount_minor == 3_800
        assert rest.external_refund_id != first.external_refund_id
        await harness.settle()
        full = await harness.gateway.fetch_payment(payment_id)
        assert full.status == PaymentStatus.REFUNDED
        assert full.refunded_minor == 5_000
        with pytest.raises(PaymentProcessorRejected):
            await harness.gateway.refund(payment_id, 1, idempotency_key="refund-key-3")
        if harness.honours_idempotency_keys:
            assert harness.idempotency_keys("refund")[:2] == ["refund-key-1", "refund-key-2"]

    async def test_refund_retried_with_the_same_key_refunds_once(self, harness: GatewayHarness) -> None:
        starts_clean(harness)
        request = checkout_request(amount_minor=3_000)
        payment_id = await harness.pay(await harness.gateway.create_checkout(request), request)
        first = await harness.gateway.refund(payment_id, 1_000, idempotency_key="same-key")
        again = await harness.gateway.refund(payment_id, 1_000, idempotency_key="same-key")
        await harness.settle()
        snapshot = await harness.gateway.fetch_payment(payment_id)
        if harness.honours_idempotency_keys:
            assert again.external_refund_id == first.external_refund_id
            assert snapshot.refunded_minor == 1_000
        else:
            # no key on the wire: a retry is a second refund, which is why callers record the
            # refund before calling and never retry blindly on this processor
            assert snapshot.refunded_minor == 2_000

    async def test_refund_validates_its_input(self, harness: GatewayHarness) -> None:
        starts_clean(harness)
        for amount, key in ((0, "k"), (-5, "k"), (100, "")):
            with pytest.raises(InvalidInput):
                await harness.gateway.refund("pay_whatever", amount, idempotency_key=key)
        assert harness.request_log() == []

    # -- payouts -----------------------------------------------------------------------------

    async def test_payout_is_idempotent_and_reversible_where_supported(self, harness: GatewayHarness) -> None:
        starts_clean(harness)
        gateway = harness.gateway
        request = PayoutRequest(
            payout_id=new_id(),
            destination_account=harness_destination(harness),
            amount_minor=7_300,
            currency="USD",
            idempotency_key="payout-key-1",
            description="Canon earnings",
        )
        if not gateway.supports_payouts:
            with pytest.raises(PayoutsNotSupported) as refused:
                await gateway.payout(request)
            assert refused.value.code == "payouts-not-supported"
            with pytest.raises(PayoutsNotSupported):
                await gateway.reverse_payout("po_any", None, idempotency_key="reverse-1")
            assert harness.request_log() == []
            return
        result = await gateway.payout(request)
        assert result.processor == harness.processor
        assert result.payout_id == request.payout_id
        assert result.amount_minor == 7_300
        assert result.currency == "USD"
        assert result.status in (PayoutStatus.PAID, PayoutStatus.PENDING)
        again = await gateway.payout(request)
        assert again.external_payout_id == result.external_payout_id
        assert set(harness.idempotency_keys("payout")) == {"payout-key-1"}
        await harness.settle()
        reversal = await gateway.reverse_payout(
            result.external_payout_id, None, idempotency_key="reverse-key-1"
        )
        assert reversal.external_payout_id == result.external_payout_id
        assert reversal.amount_minor == 7_300
        assert reversal.external_reversal_id
        assert harness.idempotency_keys("reversal") == ["reverse-key-1"]


def harness_destination(harness: GatewayHarness) -> str:
    return getattr(harness, "payout_destination", "acct_creator_1")


class TestSandboxPaymentGateway(PaymentGatewayContract):
    @pytest.fixture
    async def harness(self, tmp_path: Path) -> AsyncIterator[GatewayHarness]:
        harness = SandboxHarness(tmp_path)
        yield harness
        await harness.aclose()


# the SDK hands httpx its form body as raw ``data=``, which httpx deprecates
@pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning")
class TestStripePaymentGateway(PaymentGatewayContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[GatewayHarness]:
        harness = StripeHarness()
        yield harness
        await harness.aclose()


class TestPaddlePaymentGateway(PaymentGatewayContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[GatewayHarness]:
        harness = PaddleHarness()
        yield harness
        await harness.aclose()


class TestLemonSqueezyPaymentGateway(PaymentGatewayContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[GatewayHarness]:
        harness = LemonSqueezyHarness()
        yield harness
        await harness.aclose()


class TestPayPalPaymentGateway(PaymentGatewayContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[GatewayHarness]:
        harness = PayPalHarness()
        yield harness
        await harness.aclose()

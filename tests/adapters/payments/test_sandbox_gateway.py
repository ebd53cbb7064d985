"""The sandbox processor beyond the contract: its checkout page data, the webhooks it delivers to
our own endpoint (and keeps for retry), disputes, failing payouts, idempotency-key reuse,
expiry, and its books surviving a restart."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from payment_testkit.doubles.http_double import HttpDouble, Reply
from payment_testkit.harness import NOW

from adapters.clock import FakeClock
from adapters.payments.sandbox_gateway import SIGNATURE_HEADER, SandboxPaymentGateway
from adapters.payments.sandbox_ledger import SandboxLedger
from adapters.payments.webhook_delivery import HttpxWebhookDeliverer
from application.payments.amounts import PercentagePlusFixedFee
from application.payments.errors import (
    CaptureNotSupported,
    PaymentNotFound,
    PaymentProcessorRejected,
    PaymentProcessorUnavailable,
    WebhookEndpointDisabled,
    WebhookTimestampOutOfTolerance,
)
from application.payments.ports import (
    CheckoutRequest,
    PaymentStatus,
    PayoutRequest,
    PayoutStatus,
    WebhookDelivery,
    WebhookEventType,
)

SECRET = "sandbox-secret"


class RecordingDeliverer:
    def __init__(self, *, failures: int = 0) -> None:
        self.deliveries: list[WebhookDelivery] = []
        self.failures = failures

    async def deliver(self, delivery: WebhookDelivery) -> None:
        if self.failures:
            self.failures -= 1
            raise PaymentProcessorUnavailable("endpoint down")
        self.deliveries.append(delivery)


def make(
    tmp_path: Path, *, deliverer: RecordingDeliverer | None = None, clock: FakeClock | None = None
) -> SandboxPaymentGateway:
    return SandboxPaymentGateway(
        public_base_url="http://127.0.0.1:8000/",
        webhook_secret=SECRET,
        clock=clock or FakeClock(NOW),
        ledger=SandboxLedger(tmp_path / "sandbox" / "ledger.json"),
        deliverer=deliverer,
    )


def request(**overrides: object) -> CheckoutRequest:
    values: dict[str, object] = {
        "purchase_id": "purchase-1",
        "amount_minor": 2_500,
        "currency": "USD",
        "description": "A conversation",
        "success_url": "https://canon.test/ok",
        "cancel_url": "https://canon.test/cancel",
    }
    values.update(overrides)
    return CheckoutRequest(**values)  # type: ignore[arg-type]


async def test_checkout_page_lives_on_our_server(tmp_path: Path) -> None:
    gateway = make(tmp_path)
    checkout = await gateway.create_checkout(request(customer_email="r@example.com"))
    assert checkout.url == f"http://127.0.0.1:8000/sandbox/checkout/{checkout.external_checkout_id}"
    assert checkout.expires_at == NOW + timedelta(hours=24)
    page = gateway.checkout(checkout.external_checkout_id)
    assert (page.status, page.amount_minor, page.currency, page.customer_email) == (
        "open",
        2_500,
        "USD",
        "r@example.com",
    )
    assert (page.success_url, page.cancel_url, page.external_payment_id) == (
        "https://canon.test/ok",
        "https://canon.test/cancel",
        None,
    )
    with pytest.raises(PaymentNotFound):
        gateway.checkout("cs_sbx_missing")


async def test_paying_delivers_a_signed_webhook_that_verifies(tmp_path: Path) -> None:
    deliverer = RecordingDeliverer()
    gateway = make(tmp_path, deliverer=deliverer)
    checkout = await gateway.create_checkout(request())
    delivery = await gateway.complete(checkout.external_checkout_id, succeed=True)
    assert deliverer.deliveries == [delivery]
    assert delivery.headers[SIGNATURE_HEADER].startswith(f"t={int(NOW.timestamp())},v1=")
    event = await gateway.verify_webhook(delivery.headers, delivery.body, now=NOW)
    fee = PercentagePlusFixedFee().fee(2_500, "USD")
    assert event.type == WebhookEventType.PAYMENT_SUCCEEDED
    assert (event.purchase_reference, event.amount_minor, event.fee_minor) == ("purchase-1", 2_500, fee)
    assert event.external_checkout_id == checkout.external_checkout_id
    assert gateway.checkout(checkout.external_checkout_id).status == "paid"
    with pytest.raises(PaymentProcessorRejected):
        await gateway.complete(checkout.external_checkout_id, succeed=True)
    with pytest.raises(WebhookTimestampOutOfTolerance):
        await gateway.verify_webhook(delivery.headers, delivery.body, now=NOW + timedelta(minutes=10))


async def test_a_failed_or_expired_checkout_books_a_failed_payment(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    gateway = make(tmp_path, clock=clock)
    declined = await gateway.create_checkout(request(purchase_id="p-declined"))
    event = await gateway.verify_webhook(
        *_parts(await gateway.complete(declined.external_checkout_id, succeed=False)), now=NOW
    )
    assert (event.type, event.purchase_reference, event.fee_minor) == (
        WebhookEventType.PAYMENT_FAILED,
        "p-declined",
        None,
    )
    expired = await gateway.create_checkout(request(purchase_id="p-expired"))
    clock.advance(timedelta(hours=25))
    delivery = await gateway.complete(expired.external_checkout_id, succeed=True)
    event = await gateway.verify_webhook(delivery.headers, delivery.body, now=clock.now())
    assert event.type == WebhookEventType.PAYMENT_FAILED
    payment = await gateway.fetch_payment(event.external_payment_id or "")
    assert (payment.status, payment.fee_minor, payment.net_minor) == (PaymentStatus.FAILED, None, None)
    with pytest.raises(PaymentProcessorRejected):
        await gateway.refund(payment.external_payment_id, None, idempotency_key="k")


def _parts(delivery: WebhookDelivery) -> tuple[dict[str, str], bytes]:
    return dict(delivery.headers), delivery.body


async def test_refund_webhooks_wait_in_the_outbox_until_delivered(tmp_path: Path) -> None:
    deliverer = RecordingDeliverer()
    gateway = make(tmp_path, deliverer=deliverer)
    checkout = await gateway.create_checkout(request())
    await gateway.complete(checkout.external_checkout_id, succeed=True)
    payment_id = gateway.checkout(checkout.external_checkout_id).external_payment_id or ""
    deliverer.failures = 1
    refund = await gateway.refund(payment_id, 500, idempotency_key="r-1")
    await gateway.drain()
    assert [e["type"] for e in gateway.pending_events()] == ["refund.succeeded"]
    assert await gateway.deliver_pending() == 1
    assert gateway.pending_events() == []
    event = await gateway.verify_webhook(*_parts(deliverer.deliveries[-1]), now=NOW)
    assert event.type == WebhookEventType.REFUNDED
    assert event.refund is not None
    assert (event.refund.external_refund_id, event.refund.amount_minor, event.refund.full) == (
        refund.external_refund_id,
        500,
        False,
    )
    assert event.purchase_reference == "purchase-1"


async def test_an_idempotency_key_reused_for_another_request_is_refused(tmp_path: Path) -> None:
    gateway = make(tmp_path)
    checkout = await gateway.create_checkout(request())
    await gateway.complete(checkout.external_checkout_id, succeed=True)
    payment_id = gateway.checkout(checkout.external_checkout_id).external_payment_id or ""
    await gateway.refund(payment_id, 500, idempotency_key="same")
    with pytest.raises(PaymentProcessorRejected) as refused:
        await gateway.refund(payment_id, 600, idempotency_key="same")
    assert refused.value.code == "idempotency-key-reused"
    again = await gateway.create_checkout(request(idempotency_key="co-1"))
    assert (
        await gateway.create_checkout(request(idempotency_key="co-1"))
    ).external_checkout_id == again.external_checkout_id


async def test_disputes_open_and_resolve(tmp_path: Path) -> None:
    gateway = make(tmp_path)
    checkout = await gateway.create_checkout(request())
    await gateway.complete(checkout.external_checkout_id, succeed=True)
    payment_id = gateway.checkout(checkout.external_checkout_id).external_payment_id or ""
    opened = await gateway.verify_webhook(*_parts(await gateway.open_dispute(payment_id)), now=NOW)
    assert opened.type == WebhookEventType.CHARGEBACK_OPENED
    assert opened.chargeback is not None
    dispute_id = opened.chargeback.external_dispute_id
    lost = await gateway.verify_webhook(
        *_parts(await gateway.resolve_dispute(dispute_id, won=False)), now=NOW
    )
    assert (lost.type, lost.external_payment_id, lost.purchase_reference) == (
        WebhookEventType.CHARGEBACK_LOST,
        payment_id,
        "purchase-1",
    )
    with pytest.raises(PaymentProcessorRejected):
        await gateway.resolve_dispute(dispute_id, won=True)


async def test_a_lost_dispute_can_be_won_back_once(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    gateway = make(tmp_path, clock=clock)
    checkout = await gateway.create_checkout(request())
    await gateway.complete(checkout.external_checkout_id, succeed=True)
    payment_id = gateway.checkout(checkout.external_checkout_id).external_payment_id or ""
    opened = await gateway.open_dispute(payment_id)
    dispute_id = json.loads(opened.body)["data"]["object"]["id"]
    with pytest.raises(PaymentProcessorRejected):
        await gateway.reinstate_dispute(dispute_id)  # still open: nothing to win back
    lost = await gateway.verify_webhook(
        *_parts(await gateway.resolve_dispute(dispute_id, won=False)), now=NOW
    )
    clock.advance(timedelta(days=30))
    delivery = await gateway.reinstate_dispute(dispute_id)
    back = await gateway.verify_webhook(*_parts(delivery), now=clock.now())
    assert back.processor_event_type == "dispute.funds_reinstated"
    assert back.type == WebhookEventType.CHARGEBACK_WON
    assert back.chargeback is not None
    assert lost.chargeback is not None
    assert (back.chargeback.external_dispute_id, back.chargeback.amount_minor) == (
        dispute_id,
        lost.chargeback.amount_minor,
    )
    assert (back.external_payment_id, back.purchase_reference) == (payment_id, "purchase-1")
    assert back.occurred_at > lost.occurred_at  # the processor's own times order the two
    assert gateway.ledger.get("disputes", dispute_id)["status"] == "won"
    with pytest.raises(PaymentProcessorRejected):
        await gateway.reinstate_dispute(dispute_id)


async def test_payouts_settle_by_webhook_and_can_fail(tmp_path: Path) -> None:
    deliverer = RecordingDeliverer()
    gateway = make(tmp_path, deliverer=deliverer)
    ok = await gateway.payout(
        PayoutRequest(
            payout_id="po-1",
            destination_account="acct_sbx_creator",
            amount_minor=900,
            currency="USD",
            idempotency_key="k1",
        )
    )
    bad = await gateway.payout(
        PayoutRequest(
            payout_id="po-2",
            destination_account="acct_sbx_fail_1",
            amount_minor=400,
            currency="USD",
            idempotency_key="k2",
        )
    )
    await gateway.drain()
    assert (ok.status, bad.status) == (PayoutStatus.PENDING, PayoutStatus.PENDING)
    events = [await gateway.verify_webhook(*_parts(d), now=NOW) for d in deliverer.deliveries]
    by_payout = {e.payout.payout_id: e for e in events if e.payout}
    assert by_payout["po-1"].type == WebhookEventType.PAYOUT_PAID
    assert by_payout["po-2"].type == WebhookEventType.PAYOUT_FAILED
    assert by_payout["po-2"].payout is not None
    assert by_payout["po-2"].payout.failure_reason == "account_closed"
    with pytest.raises(PaymentProcessorRejected):
        await gateway.reverse_payout(bad.external_payout_id, None, idempotency_key="rev-bad")
    partial = await gateway.reverse_payout(ok.external_payout_id, 300, idempotency_key="rev-1")
    await gateway.drain()
    reversed_event = await gateway.verify_webhook(*_parts(deliverer.deliveries[-1]), now=NOW)
    assert partial.amount_minor == 300
    assert reversed_event.type == WebhookEventType.IGNORED  # partly reversed: still paid
    await gateway.reverse_payout(ok.external_payout_id, None, idempotency_key="rev-2")
    await gateway.drain()
    final = await gateway.verify_webhook(*_parts(deliverer.deliveries[-1]), now=NOW)
    assert final.type == WebhookEventType.PAYOUT_FAILED


async def test_the_books_survive_a_restart(tmp_path: Path) -> None:
    first = make(tmp_path)
    checkout = await first.create_checkout(request(currency="JPY", amount_minor=1_000))
    await first.complete(checkout.external_checkout_id, succeed=True)
    payment_id = first.checkout(checkout.external_checkout_id).external_payment_id or ""
    refund = await first.refund(payment_id, 400, idempotency_key="r-1")
    stored = json.loads((tmp_path / "sandbox" / "ledger.json").read_text())
    assert payment_id in stored["payments"]
    second = make(tmp_path)
    snapshot = await second.fetch_payment(payment_id)
    assert (snapshot.status, snapshot.refunded_minor, snapshot.fee_minor) == (
        PaymentStatus.PARTIALLY_REFUNDED,
        400,
        29,
    )
    assert (
        await second.refund(payment_id, 400, idempotency_key="r-1")
    ).external_refund_id == refund.external_refund_id
    assert [e["type"] for e in second.pending_events()] == ["refund.succeeded"]


async def test_capture_is_not_needed(tmp_path: Path) -> None:
    with pytest.raises(CaptureNotSupported):
        await make(tmp_path).capture_checkout("cs_sbx_1", idempotency_key="k")


async def test_the_httpx_deliverer_posts_the_exact_delivery() -> None:
    endpoint = HttpDouble()
    endpoint.route("POST", "/v1/webhooks/sandbox", lambda request, match: Reply(204, b""))
    endpoint.route(
        "POST",
        "/v1/webhooks/broken",
        lambda request, match: Reply(401, {"type": "/problems/webhook-signature-invalid"}),
    )
    endpoint.start()
    base_url = endpoint.base_url
    try:
        delivery = WebhookDelivery(
            headers={SIGNATURE_HEADER: "t=1,v1=ab", "Content-Type": "application/json"}, body=b'{"a": 1}'
        )
        await HttpxWebhookDeliverer(f"{base_url}/v1/webhooks/sandbox").deliver(delivery)
        (seen,) = endpoint.requests
        assert seen.body == b'{"a": 1}'
        assert seen.header(SIGNATURE_HEADER) == "t=1,v1=ab"
        with pytest.raises(PaymentProcessorUnavailable):
            await HttpxWebhookDeliverer(f"{base_url}/v1/webhooks/broken").deliver(delivery)
    finally:
        endpoint.stop()
    with pytest.raises(PaymentProcessorUnavailable):
        # the endpoint is gone: a transport failure, kept for retry by the caller
        await HttpxWebhookDeliverer(f"{base_url}/v1/webhooks/sandbox", timeout_seconds=1).deliver(delivery)


async def test_without_a_secret_nothing_is_booked(tmp_path: Path) -> None:
    gateway = SandboxPaymentGateway(
        public_base_url="http://127.0.0.1:8000",
        webhook_secret="",
        clock=FakeClock(NOW),
        ledger=SandboxLedger(),
    )
    checkout = await gateway.create_checkout(request())
    with pytest.raises(WebhookEndpointDisabled):
        await gateway.complete(checkout.external_checkout_id, succeed=True)
    assert gateway.checkout(checkout.external_checkout_id).status == "open"

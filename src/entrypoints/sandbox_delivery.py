"""Delivering the sandbox processor's queued webhooks (refunds, disputes, payouts) through the
same ``ReceiveWebhook`` use case the HTTP endpoint calls: signed, verified, stored in the inbox
and processed by the ``process-webhook`` job, exactly like a real processor's callbacks."""

from __future__ import annotations

import logging

from dishka import AsyncContainer

from adapters.payments.sandbox_gateway import SandboxPaymentGateway
from application.money.ports import PaymentGateways
from application.money.receive_webhook import ReceiveWebhook, ReceiveWebhookCommand

log = logging.getLogger("canon.money.sandbox")


async def deliver_sandbox_events(container: AsyncContainer) -> int:
    """Sends every queued sandbox event once (each in its own request scope)."""
    async with container() as request:
        gateways = await request.get(PaymentGateways)
        uc = await request.get(ReceiveWebhook)
        return await drain_sandbox(gateways, uc)


async def drain_sandbox(gateways: PaymentGateways, uc: ReceiveWebhook) -> int:
    """Sends every queued sandbox event once; a failed one stays queued for the next call."""
    gateway = gateways.get("SANDBOX")
    if not isinstance(gateway, SandboxPaymentGateway):
        return 0
    sent = 0
    for event in gateway.pending_events():
        delivery = gateway.sign(event)
        try:
            await uc(
                ReceiveWebhookCommand(processor="sandbox", headers=delivery.headers, raw_body=delivery.body)
            )
        except Exception:  # the processor keeps it and retries later, like the real ones
            log.warning("sandbox event %s not delivered; kept for retry", event.get("id"), exc_info=True)
            continue
        gateway.ledger.remove_from_outbox(event["id"])
        sent += 1
    if gateway.ledger.path is not None:
        gateway.ledger.save()
    return sent

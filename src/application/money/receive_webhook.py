"""ReceiveWebhook: verify a processor's delivery, keep it in the inbox, acknowledge fast."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from application.errors import NotFound
from application.money.events import to_payload
from application.money.ports import PaymentGateways, WebhookInbox
from application.ports.clock import Clock
from application.ports.jobs import Job, JobQueue
from application.ports.uow import UnitOfWork

PROCESSOR_PATHS = {
    "sandbox": "SANDBOX",
    "stripe": "STRIPE",
    "paddle": "PADDLE",
    "lemonsqueezy": "LEMON_SQUEEZY",
    "lemon-squeezy": "LEMON_SQUEEZY",
    "paypal": "PAYPAL",
}
PROCESS_WEBHOOK_JOB = "process-webhook"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiveWebhookCommand:
    processor: str
    """The path segment: sandbox, stripe, paddle, lemonsqueezy, paypal."""
    headers: Mapping[str, str]
    raw_body: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceivedWebhook:
    inbox_id: str
    duplicate: bool


class ReceiveWebhook:
    """Receives one webhook delivery.

    - The signature is verified on the raw body before anything else (the processor's adapter
      does it): no secret configured -> 503 ``webhook-endpoint-disabled``, no signature header
      -> 400, a bad or stale signature -> 401. Nothing is stored for a refused delivery.
    - A verified event is stored once per (processor, external event id); a redelivery finds
      the stored row and is acknowledged again without new work.
    - Processing is a ``process-webhook`` job keyed by the inbox id, enqueued in the same
      transaction, so a crash after the commit loses nothing and a retry runs it once.
    """

    def __init__(
        self, gateways: PaymentGateways, inbox: WebhookInbox, jobs: JobQueue, clock: Clock, uow: UnitOfWork
    ) -> None:
        self._gateways = gateways
        self._inbox = inbox
        self._jobs = jobs
        self._clock = clock
        self._uow = uow

    async def __call__(self, command: ReceiveWebhookCommand) -> ReceivedWebhook:
        name = PROCESSOR_PATHS.get(command.processor.lower())
        gateway = self._gateways.get(name) if name else None
        if gateway is None:
            raise NotFound(f"no webhook endpoint for {command.processor!r}", code="webhook-processor-unknown")
        now = self._clock.now()
        event = await gateway.verify_webhook(command.headers, command.raw_body, now=now)
        inbox_id, created = await self._inbox.add(
            processor=event.processor.value,
            external_event_id=event.external_event_id,
            event_type=event.type.value,
            payload=to_payload(event),
            raw_body=command.raw_body.decode("utf-8", errors="replace"),
            at=now,
        )
        if created:
            await self._jobs.enqueue(
                Job(
                    name=PROCESS_WEBHOOK_JOB,
                    args={"inbox_id": inbox_id},
                    key=f"webhook:{inbox_id}",
                    max_attempts=8,
                )
            )
        await self._uow.commit()
        return ReceivedWebhook(inbox_id=inbox_id, duplicate=not created)

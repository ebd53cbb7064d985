"""Delivers the sandbox processor's webhooks to our own webhook endpoint over HTTP, exactly as
a processor would: POST, the signed headers, the exact body bytes."""

from __future__ import annotations

import httpx

from application.payments.errors import PaymentProcessorUnavailable
from application.payments.ports import WebhookDelivery


class HttpxWebhookDeliverer:
    def __init__(self, endpoint_url: str, *, timeout_seconds: float = 10.0) -> None:
        self._url = endpoint_url
        self._timeout = timeout_seconds

    async def deliver(self, delivery: WebhookDelivery) -> None:
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            try:
                response = await client.post(self._url, content=delivery.body, headers=dict(delivery.headers))
            except httpx.HTTPError as exc:
                raise PaymentProcessorUnavailable(f"Webhook delivery to {self._url} failed: {exc}") from exc
        if response.status_code >= 300:
            raise PaymentProcessorUnavailable(
                f"Webhook delivery to {self._url} answered {response.status_code}.",
                extra={"status": response.status_code},
            )

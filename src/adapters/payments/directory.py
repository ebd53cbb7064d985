"""The configured payment processors behind the money area's ``PaymentGateways`` port."""

from __future__ import annotations

from collections.abc import Iterable

from application.payments.errors import PayoutsNotSupported
from application.payments.ports import PaymentGateway


class StaticPaymentGateways:
    """One gateway takes checkouts, one pays creators; webhooks are accepted from every
    configured gateway (a payment may still be refunded after the checkout processor changed)."""

    def __init__(
        self,
        checkout: PaymentGateway,
        payouts: PaymentGateway | None = None,
        *,
        others: Iterable[PaymentGateway] = (),
    ) -> None:
        self._checkout = checkout
        self._payouts = payouts or checkout
        self._by_name = {g.processor.value: g for g in (*others, self._payouts, checkout)}

    def checkout(self) -> PaymentGateway:
        return self._checkout

    def payouts(self) -> PaymentGateway:
        if not self._payouts.supports_payouts:
            raise PayoutsNotSupported(f"{self._payouts.processor.value} cannot pay creators")
        return self._payouts

    def get(self, processor: str) -> PaymentGateway | None:
        return self._by_name.get(processor)

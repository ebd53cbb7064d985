"""Money: the payment processors chosen from Settings, the money repositories and use cases."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide

from adapters.payments.directory import StaticPaymentGateways
from adapters.persistence.repositories.money import (
    SqlPayoutRepository,
    SqlPurchaseRepository,
    SqlWebhookInbox,
)
from adapters.persistence.repositories.money_enterprise import SqlEnterpriseBook
from adapters.persistence.repositories.money_ledger import SqlRevenueLedger
from application.conversations.open_conversation import OpenConversation
from application.errors import ServiceUnavailable
from application.money.allocate_enterprise_month import AllocateEnterpriseMonth, EnterpriseBook
from application.money.attribute_conversations import AttributeConversations
from application.money.get_statement import GetStatement
from application.money.open_purchased import OpenPurchasedConversation
from application.money.ports import (
    ConversationOpener,
    MoneySettings,
    PaymentGateways,
    PayoutRepository,
    PurchaseRepository,
    RevenueLedger,
    WebhookInbox,
)
from application.money.process_webhook import ProcessWebhook
from application.money.receive_webhook import ReceiveWebhook
from application.money.refund_purchase import RefundPurchase
from application.money.run_payouts import RunPayouts
from application.money.set_payout_account import SetPayoutAccount
from application.money.start_checkout import StartCheckout
from application.money.summarize_revenue import SummarizeRevenue
from application.payments.ports import PaymentGateway
from application.ports.clock import Clock
from entrypoints.settings import Settings

SANDBOX_SIGNING_FILE = "sandbox-webhook-secret"
SANDBOX_LEDGER_FILE = "sandbox-ledger.json"


def sandbox_secret(settings: Settings) -> str:
    """The configured sandbox webhook secret, else one generated once into the data directory."""
    if settings.sandbox_webhook_secret:
        return settings.sandbox_webhook_secret
    from adapters.identity.secret_files import read_or_create_secret_file

    raw = read_or_create_secret_file(
        settings.data_dir / SANDBOX_SIGNING_FILE, lambda: f"whsec_{secrets.token_hex(24)}".encode()
    )
    return raw.decode().strip()


def build_gateway(settings: Settings, name: str, clock: Clock) -> PaymentGateway:
    """One adapter per processor name; keys come from Settings (validated there)."""
    if name == "stripe":
        from adapters.payments.stripe_gateway import StripePaymentGateway

        return StripePaymentGateway(
            api_key=settings.stripe_api_key, webhook_secret=settings.stripe_webhook_secret
        )
    if name == "paddle":
        from adapters.payments.paddle_gateway import PaddlePaymentGateway

        return PaddlePaymentGateway(
            api_key=settings.paddle_api_key, webhook_secret=settings.paddle_webhook_secret
        )
    if name == "lemonsqueezy":
        from adapters.payments.lemonsqueezy_gateway import LemonSqueezyPaymentGateway

        variant = settings.lemonsqueezy_variant_id
        if not variant:
            raise ServiceUnavailable(
                "Lemon Squeezy checkouts need a product variant id (lemonsqueezy_variant_id)",
                code="payment-processor-misconfigured",
            )
        return LemonSqueezyPaymentGateway(
            api_key=settings.lemonsqueezy_api_key,
            webhook_secret=settings.lemonsqueezy_webhook_secret,
            store_id=settings.lemonsqueezy_store_id,
            variant_id=variant,
        )
    if name == "paypal":
        from adapters.payments.paypal_gateway import PayPalPaymentGateway

        return PayPalPaymentGateway(
            client_id=settings.paypal_client_id,
            client_secret=settings.paypal_client_secret,
            webhook_id=settings.paypal_webhook_id,
        )
    from adapters.payments.sandbox_gateway import SandboxPaymentGateway
    from adapters.payments.sandbox_ledger import SandboxLedger

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SandboxPaymentGateway(
        public_base_url=settings.effective_public_base_url,
        webhook_secret=sandbox_secret(settings),
        clock=clock,
        ledger=SandboxLedger(settings.data_dir / SANDBOX_LEDGER_FILE),
    )


async def _close(gateway: object) -> None:
    close = getattr(gateway, "close", None) or getattr(gateway, "aclose", None)
    if close is not None:
        result = close()
        if hasattr(result, "__await__"):
            await result


class MoneyProvider(Provider):
    @provide(scope=Scope.APP)
    async def gateways(self, settings: Settings, clock: Clock) -> AsyncIterator[PaymentGateways]:
        checkout = build_gateway(settings, settings.payment_processor, clock)
        payout_name = settings.payout_processor or settings.payment_processor
        payouts = (
            checkout
            if payout_name == settings.payment_processor
            else build_gateway(settings, payout_name, clock)
        )
        yield StaticPaymentGateways(checkout, payouts)
        for gateway in {id(checkout): checkout, id(payouts): payouts}.values():
            await _close(gateway)

    @provide(scope=Scope.APP)
    def money_settings(self, settings: Settings) -> MoneySettings:
        return MoneySettings(
            platform_share_bps=settings.platform_share_bps,
            refund_window_days=settings.refund_window_days,
            payout_minimum=settings.payout_minimum_cents,
            public_base_url=settings.effective_public_base_url,
        )

    purchases = provide(SqlPurchaseRepository, scope=Scope.REQUEST, provides=PurchaseRepository)
    inbox = provide(SqlWebhookInbox, scope=Scope.REQUEST, provides=WebhookInbox)
    ledger = provide(SqlRevenueLedger, scope=Scope.REQUEST, provides=RevenueLedger)
    payout_repo = provide(SqlPayoutRepository, scope=Scope.REQUEST, provides=PayoutRepository)
    enterprise_book = provide(SqlEnterpriseBook, scope=Scope.REQUEST, provides=EnterpriseBook)

    @provide(scope=Scope.REQUEST)
    def opener(self, open_conversation: OpenConversation) -> ConversationOpener:
        return OpenPurchasedConversation(open_conversation)

    receive_webhook = provide(ReceiveWebhook, scope=Scope.REQUEST)
    process_webhook = provide(ProcessWebhook, scope=Scope.REQUEST)
    start_checkout = provide(StartCheckout, scope=Scope.REQUEST)
    refund_purchase = provide(RefundPurchase, scope=Scope.REQUEST)
    attribute_conversations = provide(AttributeConversations, scope=Scope.REQUEST)
    run_payouts = provide(RunPayouts, scope=Scope.REQUEST)
    summarize_revenue = provide(SummarizeRevenue, scope=Scope.REQUEST)
    get_statement = provide(GetStatement, scope=Scope.REQUEST)
    set_payout_account = provide(SetPayoutAccount, scope=Scope.REQUEST)
    allocate_enterprise_month = provide(AllocateEnterpriseMonth, scope=Scope.REQUEST)

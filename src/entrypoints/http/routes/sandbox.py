"""The sandbox processor's checkout page, served by Canon itself (the embedded default).

The page shows what is being bought and two buttons. Pressing one books the outcome at the
sandbox and hands its SIGNED webhook to the same ``ReceiveWebhook`` use case the
``/v1/webhooks/sandbox`` endpoint calls: verified, stored in the inbox, processed by the job,
exactly as a real processor's callback. Then the buyer is sent on to the success or cancel url.
"""

from __future__ import annotations

import html

from dishka.integrations.litestar import FromDishka, inject
from litestar import MediaType, Response, get, post
from litestar.response import Redirect

from adapters.payments.sandbox_gateway import SandboxCheckout, SandboxPaymentGateway
from application.errors import NotFound
from application.money.ports import PaymentGateways
from application.money.receive_webhook import ReceiveWebhook, ReceiveWebhookCommand
from domain.money import Money

TAGS = ["sandbox"]


def _sandbox(gateways: PaymentGateways) -> SandboxPaymentGateway:
    gateway = gateways.get("SANDBOX")
    if not isinstance(gateway, SandboxPaymentGateway):
        raise NotFound("the sandbox processor is not configured", code="sandbox-disabled")
    return gateway


def _page(checkout: SandboxCheckout) -> str:
    amount = html.escape(str(Money.of(checkout.amount_minor, checkout.currency)))
    what = html.escape(checkout.description)
    cid = html.escape(checkout.checkout_id)
    if checkout.status != "open":
        body = f"<p>This checkout is <strong>{html.escape(checkout.status)}</strong>.</p>"
    else:
        body = (
            f'<form method="post" action="/sandbox/checkout/{cid}/complete">'
            '<button type="submit">Pay (sandbox)</button></form>'
            f'<form method="post" action="/sandbox/checkout/{cid}/fail">'
            '<button type="submit">Decline (sandbox)</button></form>'
        )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Sandbox checkout</title></head>"
        f"<body><h1>Sandbox checkout</h1><p>{what}</p><p><strong>{amount}</strong></p>"
        "<p>No real money moves: this is Canon's offline payment processor.</p>"
        f"{body}</body></html>"
    )


@get(
    "/sandbox/checkout/{checkout_id:str}", tags=TAGS, summary="Sandbox checkout page", include_in_schema=False
)
@inject
async def checkout_page(checkout_id: str, gateways: FromDishka[PaymentGateways]) -> Response[str]:
    checkout = _sandbox(gateways).checkout(checkout_id)
    return Response(_page(checkout), media_type=MediaType.HTML)


async def _finish(
    checkout_id: str, succeed: bool, gateways: PaymentGateways, receive: ReceiveWebhook
) -> Redirect:
    sandbox = _sandbox(gateways)
    delivery = await sandbox.complete(checkout_id, succeed=succeed)
    await receive(
        ReceiveWebhookCommand(processor="sandbox", headers=delivery.headers, raw_body=delivery.body)
    )
    checkout = sandbox.checkout(checkout_id)
    return Redirect(checkout.success_url if succeed else checkout.cancel_url, status_code=303)


@post("/sandbox/checkout/{checkout_id:str}/complete", tags=TAGS, include_in_schema=False)
@inject
async def complete_checkout(
    checkout_id: str, gateways: FromDishka[PaymentGateways], receive: FromDishka[ReceiveWebhook]
) -> Redirect:
    return await _finish(checkout_id, True, gateways, receive)


@post("/sandbox/checkout/{checkout_id:str}/fail", tags=TAGS, include_in_schema=False)
@inject
async def fail_checkout(
    checkout_id: str, gateways: FromDishka[PaymentGateways], receive: FromDishka[ReceiveWebhook]
) -> Redirect:
    return await _finish(checkout_id, False, gateways, receive)


HANDLERS = [checkout_page, complete_checkout, fail_checkout]

"""Money over HTTP: processor webhooks, checkouts, refunds, statements, attribution and payouts."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Request, Response, get, post, put
from litestar.params import JSONBody, QueryParameter

from application.identity.principal import Principal
from application.money.attribute_conversations import AttributeConversations, AttributeConversationsCommand
from application.money.get_statement import GetStatement, GetStatementCommand
from application.money.ports import PaymentGateways
from application.money.receive_webhook import ReceiveWebhook, ReceiveWebhookCommand
from application.money.refund_purchase import RefundPurchase, RefundPurchaseCommand
from application.money.run_payouts import RunPayouts, RunPayoutsCommand
from application.money.set_payout_account import SetPayoutAccount, SetPayoutAccountCommand
from application.money.start_checkout import StartCheckout, StartCheckoutCommand
from entrypoints.sandbox_delivery import drain_sandbox
from entrypoints.statement_csv import statement_csv

TAGS = ["money"]
MAX_WEBHOOK_BYTES = 1_000_000
Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern="^https?://")]
Key = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Month = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]


class Acknowledged(msgspec.Struct):
    received: bool
    duplicate: bool


class NewCheckout(msgspec.Struct, forbid_unknown_fields=True):
    success_url: Url | None = None
    cancel_url: Url | None = None


class CheckoutOut(msgspec.Struct):
    purchase_id: str
    checkout_url: str
    amount_minor: int
    currency: str
    processor: str


class NewRefund(msgspec.Struct, forbid_unknown_fields=True):
    request_key: Key
    amount_minor: Annotated[int, msgspec.Meta(gt=0)] | None = None
    reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class RefundOut(msgspec.Struct):
    purchase_id: str
    external_refund_id: str
    amount_minor: int
    refunded_total_minor: int
    status: str


class StatementLineOut(msgspec.Struct):
    row_id: str
    booked_at: str
    kind: str
    amount_minor: int
    """The creator's money (negative: reversed)."""
    platform_share_minor: int
    """The part of the platform's cut this row accounts for (not the creator's)."""
    currency: str
    conversation_id: str
    purchase_id: str | None
    processor: str | None
    payment_id: str | None
    source_id: str
    source_title: str
    token_count: int
    token_fraction: str
    share: str
    reverses_id: str | None
    reversal_key: str
    """What caused a REVERSAL or REINSTATEMENT (``refund:<id>``, ``chargeback-won:<id>``...)."""
    payout_status: str
    payout_id: str | None


class StatementOut(msgspec.Struct):
    creator_id: str
    month: str
    totals: dict[str, int]
    lines: list[StatementLineOut]
    next_cursor: str | None


class NewPayoutAccount(msgspec.Struct, forbid_unknown_fields=True):
    external_account_id: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]


class PayoutAccountOut(msgspec.Struct):
    creator_id: str
    processor: str
    external_account_id: str
    payouts_enabled: bool


class AttributionRunOut(msgspec.Struct):
    attributed: int
    refunded: int
    skipped: int


class PayoutRunOut(msgspec.Struct):
    completed: list[str]
    failed: list[str]
    pending: list[str]


@post(
    "/v1/webhooks/{processor:str}",
    tags=TAGS,
    summary="Receive a payment processor's webhook",
    status_code=200,
    request_max_body_size=MAX_WEBHOOK_BYTES,
)
@inject
async def receive_webhook(
    processor: str, request: Request[Any, Any, Any], uc: FromDishka[ReceiveWebhook]
) -> Acknowledged:
    """The signature is checked on the raw body first: 400 without one, 401 when it is wrong,
    503 when no secret is configured. Accepted events are stored once and processed by a job."""
    received = await uc(
        ReceiveWebhookCommand(
            processor=processor, headers=dict(request.headers), raw_body=await request.body()
        )
    )
    return Acknowledged(received=True, duplicate=received.duplicate)


@post("/v1/chatbots/{chatbot_id:str}/checkout", tags=TAGS, summary="Buy a conversation", status_code=201)
@inject
async def start_checkout(
    chatbot_id: str,
    data: JSONBody[NewCheckout],
    principal: FromDishka[Principal],
    uc: FromDishka[StartCheckout],
) -> CheckoutOut:
    started = await uc(
        StartCheckoutCommand(
            principal=principal,
            chatbot_id=chatbot_id,
            success_url=data.success_url,
            cancel_url=data.cancel_url,
        )
    )
    return CheckoutOut(
        purchase_id=started.purchase_id,
        checkout_url=started.checkout_url,
        amount_minor=started.amount,
        currency=started.currency,
        processor=started.processor,
    )


@post("/v1/purchases/{purchase_id:str}/refunds", tags=TAGS, summary="Refund a purchase", status_code=201)
@inject
async def refund_purchase(
    purchase_id: str,
    data: JSONBody[NewRefund],
    principal: FromDishka[Principal],
    uc: FromDishka[RefundPurchase],
) -> RefundOut:
    done = await uc(
        RefundPurchaseCommand(
            principal=principal,
            purchase_id=purchase_id,
            amount=data.amount_minor,
            request_key=data.request_key,
            reason=data.reason,
        )
    )
    return RefundOut(
        purchase_id=done.purchase_id,
        external_refund_id=done.external_refund_id,
        amount_minor=done.amount,
        refunded_total_minor=done.refunded_total,
        status=done.status,
    )


@get(
    "/v1/creators/{creator_id:str}/statements/{month:str}", tags=TAGS, summary="A creator's monthly statement"
)
@inject
async def get_statement(
    creator_id: str,
    month: str,
    principal: FromDishka[Principal],
    uc: FromDishka[GetStatement],
    format: Annotated[str, QueryParameter(pattern="^(json|csv)$")] = "json",
    limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, QueryParameter(max_length=500)] = None,
) -> Response[Any]:
    """Every ledger row booked for the creator in the month (UTC), back to its purchase,
    conversation and source, in pages (``limit``, ``cursor``); ``?format=csv`` for the whole
    month as a spreadsheet."""
    paged = format == "json"
    statement = await uc(
        GetStatementCommand(
            principal=principal,
            creator_id=creator_id,
            month=month,
            limit=limit if paged else None,
            cursor=cursor if paged else None,
        )
    )
    if format == "csv":
        return Response(
            statement_csv(statement),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="statement-{creator_id}-{month}.csv"'},
        )
    lines = [
        StatementLineOut(
            row_id=line.row.id,
            booked_at=line.row.created_at.isoformat() if line.row.created_at else "",
            kind=line.row.kind,
            amount_minor=line.row.amount,
            platform_share_minor=line.row.platform_share,
            currency=line.row.currency,
            conversation_id=line.conversation_id,
            purchase_id=line.purchase_id,
            processor=line.purchase_processor,
            payment_id=line.purchase_external_id,
            source_id=line.row.source_id,
            source_title=line.source_title,
            token_count=line.row.token_count,
            token_fraction=str(line.row.token_fraction),
            share=str(line.row.share),
            reverses_id=line.row.reverses_id,
            reversal_key=line.row.reversal_key,
            payout_status=line.row.payout_status,
            payout_id=line.row.payout_id,
        )
        for line in statement.lines
    ]
    return Response(
        StatementOut(
            creator_id=creator_id,
            month=month,
            totals=statement.totals,
            lines=lines,
            next_cursor=statement.next_cursor,
        )
    )


@post("/v1/attribution/run", tags=TAGS, summary="Attribute ended conversations now", status_code=200)
@inject
async def run_attribution(
    principal: FromDishka[Principal], uc: FromDishka[AttributeConversations]
) -> AttributionRunOut:
    run = await uc(AttributeConversationsCommand(principal=principal))
    return AttributionRunOut(
        attributed=len(run.attributed), refunded=len(run.refunded), skipped=len(run.skipped)
    )


@post("/v1/payouts/run", tags=TAGS, summary="Pay creators their balances now", status_code=200)
@inject
async def run_payouts(
    principal: FromDishka[Principal],
    uc: FromDishka[RunPayouts],
    gateways: FromDishka[PaymentGateways],
    receive: FromDishka[ReceiveWebhook],
) -> PayoutRunOut:
    run = await uc(RunPayoutsCommand(principal=principal))
    await drain_sandbox(gateways, receive)
    return PayoutRunOut(completed=run.completed, failed=run.failed, pending=run.pending)


@put("/v1/creators/{creator_id:str}/payout-account", tags=TAGS, summary="Where the creator is paid")
@inject
async def set_payout_account(
    creator_id: str,
    data: JSONBody[NewPayoutAccount],
    principal: FromDishka[Principal],
    uc: FromDishka[SetPayoutAccount],
) -> PayoutAccountOut:
    done = await uc(
        SetPayoutAccountCommand(
            principal=principal, creator_id=creator_id, external_account_id=data.external_account_id
        )
    )
    return PayoutAccountOut(
        creator_id=done.creator_id,
        processor=done.processor,
        external_account_id=done.external_account_id,
        payouts_enabled=done.payouts_enabled,
    )


HANDLERS = [
    receive_webhook,
    start_checkout,
    refund_purchase,
    get_statement,
    run_attribution,
    run_payouts,
    set_payout_account,
]


def all_handlers() -> list[Any]:
    from entrypoints.http.routes import sandbox

    return [*HANDLERS, *sandbox.HANDLERS]

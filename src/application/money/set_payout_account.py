"""SetPayoutAccount: a creator's owner says where the creator is paid."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import InvalidInput
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.money.ports import PaymentGateways, PayoutAccount, PayoutRepository
from application.ports.audit import AuditLog
from application.ports.uow import UnitOfWork
from domain.ids import new_id


@dataclass(frozen=True, slots=True, kw_only=True)
class SetPayoutAccountCommand:
    principal: Principal
    creator_id: str
    external_account_id: str
    """The creator's account at the payout processor (Stripe ``acct_...``, a PayPal email...)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PayoutAccountSet:
    creator_id: str
    processor: str
    external_account_id: str
    payouts_enabled: bool


class SetPayoutAccount:
    """Sets (or replaces) the creator's account at the configured payout processor.

    - Only the creator's owner (``creator.manage-payout-account``): where the money goes.
    - The account is enabled at once; payouts already submitted keep their destination.
    - Audited with the previous and the new account id (ids only, no secrets).
    """

    def __init__(
        self,
        payouts: PayoutRepository,
        gateways: PaymentGateways,
        authorizer: Authorizer,
        audit: AuditLog,
        uow: UnitOfWork,
    ) -> None:
        self._payouts = payouts
        self._gateways = gateways
        self._authorizer = authorizer
        self._audit = audit
        self._uow = uow

    async def __call__(self, command: SetPayoutAccountCommand) -> PayoutAccountSet:
        await self._authorizer.require(
            command.principal, Action.CREATOR_MANAGE_PAYOUT_ACCOUNT, Resource.creator(command.creator_id)
        )
        account_id = command.external_account_id.strip()
        if not account_id or len(account_id) > 255:
            raise InvalidInput(
                "an account id is 1 to 255 characters", errors={"external_account_id": "invalid"}
            )
        processor = self._gateways.payouts().processor.value
        before = await self._payouts.account(command.creator_id, processor)
        await self._payouts.set_account(
            PayoutAccount(
                id=before.id if before else new_id(),
                creator_id=command.creator_id,
                processor=processor,
                external_account_id=account_id,
                payouts_enabled=True,
            )
        )
        await self._audit.record(
            command.principal,
            "creator.payout-account.set",
            subject_type="creator",
            subject_id=command.creator_id,
            before={"processor": processor, "account": before.external_account_id} if before else None,
            after={"processor": processor, "account": account_id},
        )
        await self._uow.commit()
        return PayoutAccountSet(
            creator_id=command.creator_id,
            processor=processor,
            external_account_id=account_id,
            payouts_enabled=True,
        )

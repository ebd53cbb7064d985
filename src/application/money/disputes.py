"""How a dispute (chargeback) moves when the processor reports on it, in any order (pure).

Processors report a dispute as opened, lost (the buyer's bank took the money) or won. A dispute
can also be won *after* it was lost (Paddle's ``chargeback_reverse``, Stripe's
``charge.dispute.funds_reinstated``, a PayPal appeal, the sandbox's ``dispute.funds_reinstated``):
the money comes back, and so must the creators'. Events arrive late, twice and out of order, so
the state keeps the processor's own times and every transition is decided by them, never by
arrival order:

- ``lost_at``: when the money was taken (set once); ``closed_at``: when the current outcome
  was decided.
- LOST at t on a dispute WON at w without a loss: if t <= w the loss came first and the win
  gave it back (the win was reported first): record the loss, reverse and reinstate at once;
  if t > w the earlier "win" only closed a warning or inquiry, and the dispute is now LOST.
- WON at t on a LOST dispute lost at l: won back if t >= l (reinstate); an older win is
  superseded by the loss and changes nothing.
- A dispute is lost once and won back once; anything after that changes nothing. Equal times
  count as "lost, then won back" (the only order a processor produces them in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

OPEN, WON, LOST = "OPEN", "WON", "LOST"


class LedgerAction(StrEnum):
    """What the ledger must do about the transition."""

    NOTHING = "NOTHING"
    REVERSE = "REVERSE"
    """The money was taken: reverse the creators' revenue (``chargeback:<id>``)."""
    REINSTATE = "REINSTATE"
    """A lost dispute was won back: give the reversal back (``chargeback-won:<id>``)."""
    REVERSE_AND_REINSTATE = "REVERSE_AND_REINSTATE"
    """Learned late that a dispute won back had been lost first: both, at once."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DisputeState:
    status: str
    lost_at: datetime | None = None
    closed_at: datetime | None = None


def next_state(
    current: DisputeState | None, outcome: str, at: datetime
) -> tuple[DisputeState, LedgerAction] | None:
    """The dispute's state after the processor reported ``outcome`` (OPEN, WON, LOST) as of
    ``at``, and what the ledger must do; None when the report changes nothing."""
    if current is None or current.status == OPEN:
        if outcome == LOST:
            return DisputeState(status=LOST, lost_at=at, closed_at=at), LedgerAction.REVERSE
        if outcome == WON:
            return DisputeState(status=WON, closed_at=at), LedgerAction.NOTHING
        return (DisputeState(status=OPEN), LedgerAction.NOTHING) if current is None else None
    decided = current.closed_at or at
    if current.status == LOST and outcome == WON and at >= (current.lost_at or decided):
        return DisputeState(status=WON, lost_at=current.lost_at, closed_at=at), LedgerAction.REINSTATE
    if current.status == WON and current.lost_at is None:
        if outcome == LOST and at <= decided:
            return DisputeState(status=WON, lost_at=at, closed_at=decided), LedgerAction.REVERSE_AND_REINSTATE
        if outcome == LOST:
            return DisputeState(status=LOST, lost_at=at, closed_at=at), LedgerAction.REVERSE
        if outcome == WON and at > decided:
            return DisputeState(status=WON, closed_at=at), LedgerAction.NOTHING  # the latest win decides
    return None

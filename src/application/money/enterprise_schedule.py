"""Which enterprise months are due for allocation, so the monthly allocation can run on a timer.

A subscription month is allocated from the tokens its members' conversations that started in
the month used, and those conversations keep answering after the month ends. So a month is due
only once it has **settled**: its end lies at least ``settle`` in the past (the deployment's
refund window, 7 days by default, the same wait purchase revenue gets before attribution).

The periodic job allocates every settled month of the last ``lookback`` months, oldest first:
an allocation is unique per subscription and month, so months already allocated cost one
refused insert each, and a deployment that was down over a month end catches up by itself.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def months_due(now: datetime, *, settle: timedelta, lookback: int = 12) -> list[tuple[int, int]]:
    """The ``lookback`` most recent calendar months (UTC) that ended at least ``settle`` before
    ``now``, as ``(year, month)`` pairs, oldest first."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if settle < timedelta(0):
        raise ValueError("settle must not be negative")
    if lookback < 1:
        raise ValueError("lookback must be at least 1")
    cutoff = (now - settle).astimezone(UTC)
    # the month holding the cutoff has not ended `settle` ago yet; the one before it has
    year, month = cutoff.year, cutoff.month
    due: list[tuple[int, int]] = []
    for _ in range(lookback):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        due.append((year, month))
    return due[::-1]

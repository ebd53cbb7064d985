"""Which enterprise months the periodic allocation takes on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.money.enterprise_schedule import months_due

WEEK = timedelta(days=7)


def test_a_month_is_due_once_it_ended_the_settle_time_ago() -> None:
    # November ended 2026-12-01T00:00Z; with a week to settle it is due from 2026-12-08T00:00Z
    just_before = datetime(2026, 12, 7, 23, 59, 59, tzinfo=UTC)
    at = datetime(2026, 12, 8, tzinfo=UTC)
    assert months_due(just_before, settle=WEEK, lookback=1) == [(2026, 10)]
    assert months_due(at, settle=WEEK, lookback=1) == [(2026, 11)]


def test_the_lookback_crosses_years_oldest_first() -> None:
    now = datetime(2027, 2, 10, tzinfo=UTC)
    assert months_due(now, settle=WEEK, lookback=3) == [(2026, 11), (2026, 12), (2027, 1)]
    assert months_due(now, settle=timedelta(0), lookback=1) == [(2027, 1)]


def test_other_time_zones_are_read_in_utc() -> None:
    # 2026-12-01T01:00+02:00 is still November 30 in UTC: November has not ended there
    now = datetime(2026, 12, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert months_due(now, settle=timedelta(0), lookback=1) == [(2026, 10)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"settle": -WEEK}, "settle"), ({"settle": WEEK, "lookback": 0}, "lookback")],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        months_due(datetime(2026, 1, 1, tzinfo=UTC), **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone"):
        months_due(datetime(2026, 1, 1), settle=WEEK)


@given(
    now=st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
    settle_hours=st.integers(min_value=0, max_value=24 * 60),
    lookback=st.integers(min_value=1, max_value=30),
)
def test_every_due_month_has_settled_and_the_next_one_has_not(
    now: datetime, settle_hours: int, lookback: int
) -> None:
    settle = timedelta(hours=settle_hours)
    due = months_due(now, settle=settle, lookback=lookback)
    assert len(due) == lookback

    def end_of(year: int, month: int) -> datetime:
        return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)

    assert all(end_of(*m) + settle <= now for m in due)
    newest_year, newest_month = due[-1]
    following = (newest_year + 1, 1) if newest_month == 12 else (newest_year, newest_month + 1)
    assert end_of(*following) + settle > now
    # consecutive months, no gaps or repeats
    as_index = [y * 12 + m for y, m in due]
    assert as_index == list(range(as_index[0], as_index[0] + lookback))

import time
import uuid
from unittest import mock

from domain import ids
from domain.ids import id_timestamp_ms, is_id, new_id


def test_ids_are_uuid7_strings_that_sort_by_creation() -> None:
    made = [new_id() for _ in range(2000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert all(uuid.UUID(i).version == 7 and is_id(i) for i in made)


def test_the_timestamp_is_the_creation_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    value = new_id()
    after = time.time_ns() // 1_000_000
    assert before <= id_timestamp_ms(value) <= after


def test_ids_stay_increasing_when_the_clock_stands_still_or_goes_back() -> None:
    frozen = time.time_ns()
    with mock.patch.object(ids.time, "time_ns", return_value=frozen):
        a, b = new_id(), new_id()
    with mock.patch.object(ids.time, "time_ns", return_value=frozen - 5_000_000_000):
        c = new_id()
    assert a < b < c


def test_a_full_random_tail_moves_to_the_next_millisecond() -> None:
    first = new_id()
    ms = id_timestamp_ms(first)
    with (
        mock.patch.object(ids, "_last_rand", ids._RAND_MASK),
        mock.patch.object(ids.time, "time_ns", return_value=ms * 1_000_000),
    ):
        nxt = new_id()
    assert id_timestamp_ms(nxt) == ms + 1
    assert nxt > first


def test_is_id_refuses_what_is_not_a_canonical_uuid() -> None:
    assert not is_id("not-an-id")
    assert not is_id(new_id().upper())
    assert not is_id(None)  # type: ignore[arg-type]

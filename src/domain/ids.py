"""Identifiers: UUIDv7 (RFC 9562) rendered as the canonical 36-character string.

Why UUIDv7: ids are generated in the application (not by the database) so an aggregate and
its children can be built before anything is written; the 48-bit millisecond prefix makes them
sort by creation time, which keeps B-tree inserts local on PostgreSQL and gives stable,
time-ordered pagination cursors; 74 random bits make collisions across processes negligible;
and every database, log tool and SDK already understands the UUID text form. Within one process
ids generated in the same millisecond stay strictly increasing (the random tail is bumped).
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_last_rand = 0
_RAND_BITS = 74
_RAND_MASK = (1 << _RAND_BITS) - 1


def _uuid7_int(ms: int, rand: int) -> int:
    rand_a = (rand >> 62) & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= rand_a << 64
    value |= 0b10 << 62
    value |= rand_b
    return value


def new_id() -> str:
    """A new UUIDv7 string, monotonic within this process."""
    global _last_ms, _last_rand
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms = _last_ms
            rand = (_last_rand + 1 + (int.from_bytes(os.urandom(2), "big") & 0xFF)) & _RAND_MASK
            if rand <= _last_rand:  # the random tail overflowed: move to the next millisecond
                ms += 1
                rand = int.from_bytes(os.urandom(10), "big") & _RAND_MASK
        else:
            rand = int.from_bytes(os.urandom(10), "big") & _RAND_MASK
        _last_ms, _last_rand = ms, rand
    return str(uuid.UUID(int=_uuid7_int(ms, rand)))


def is_id(value: str) -> bool:
    """True if `value` is a canonical UUID string (any version): the shape every id has."""
    try:
        return str(uuid.UUID(value)) == value
    except (ValueError, AttributeError, TypeError):
        return False


def id_timestamp_ms(value: str) -> int:
    """The creation time (Unix milliseconds) carried by a UUIDv7 id."""
    return uuid.UUID(value).int >> 80

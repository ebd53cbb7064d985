"""Splitting an integer amount into integer parts by weight (largest-remainder method).

Guarantees, for any total and any non-negative weights that are not all zero:

- the parts add up to exactly the total;
- each part lies between the floor and the ceiling of its exact quota ``total * w / sum(w)``;
- a zero weight gets exactly zero;
- the result depends only on the (key, weight) pairs, never on the order they were given in:
  leftover units go to the largest fractional remainder first, then to the larger weight,
  then to the smaller key in sort order (so keys must be orderable, e.g. string ids);
- a negative total is split as the mirror image of the positive one:
  ``allocate(-x, w) == {k: -v for k, v in allocate(x, w).items()}``, so a reversal of an
  allocation cancels it part for part.

Arithmetic is exact (``int`` and ``Fraction``); floats are refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from math import lcm
from typing import Any, Protocol, TypeVar

from domain.errors import InvalidValue, RuleViolation


class Orderable(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...


K = TypeVar("K", bound=Orderable)
Weight = int | Decimal | Fraction


def to_fraction(weight: object) -> Fraction:
    """An exact non-negative ``Fraction`` from an int, Decimal or Fraction weight."""
    if type(weight) is int or isinstance(weight, Fraction):
        value = Fraction(weight)
    elif isinstance(weight, Decimal):
        if not weight.is_finite():
            raise InvalidValue(f"weight {weight} is not a finite number", code="invalid-weight")
        value = Fraction(weight)
    else:
        raise InvalidValue(
            f"weight must be int, Decimal or Fraction, not {type(weight).__name__}", code="invalid-weight"
        )
    if value < 0:
        raise InvalidValue(f"weight {weight} is negative", code="invalid-weight")
    return value


def allocate(total: int, weights: Mapping[K, Weight]) -> dict[K, int]:
    """Split ``total`` into integer parts proportional to ``weights``.

    Raises ``InvalidValue`` for a non-int total or a negative / non-numeric weight, and
    ``RuleViolation`` (code ``allocation-weights-all-zero``) when there is nothing to split by:
    no keys, or every weight zero. Callers choose the fallback (an equal split, the platform...).
    The result is ordered by key.
    """
    if type(total) is not int:
        raise InvalidValue(f"total must be an integer, not {type(total).__name__}", code="invalid-amount")
    exact = {key: _exact(w) for key, w in weights.items()}
    # The same quotas as exact fractions, in integers: every weight over one common
    # denominator, so a quota is (total * weight) / sum and its remainder an integer numerator
    # over that same sum. Equal results, without Fraction arithmetic in the hot path.
    denominator = lcm(*(w.denominator for w in exact.values())) if exact else 1
    scaled = {key: w.numerator * (denominator // w.denominator) for key, w in exact.items()}
    weight_sum = sum(scaled.values())
    if weight_sum == 0:
        raise RuleViolation(
            "cannot allocate by weights that are all zero (or empty)", code="allocation-weights-all-zero"
        )
    if total < 0:
        return {key: -part for key, part in _allocate_non_negative(-total, scaled, weight_sum).items()}
    return _allocate_non_negative(total, scaled, weight_sum)


def _exact(weight: object) -> Fraction | int:
    """``to_fraction`` without building a Fraction for plain integers (the common case)."""
    if type(weight) is int:
        if weight < 0:
            raise InvalidValue(f"weight {weight} is negative", code="invalid-weight")
        return weight
    return to_fraction(weight)


def _allocate_non_negative(total: int, weights: dict[K, int], weight_sum: int) -> dict[K, int]:
    parts: dict[K, int] = {}
    remainders: list[tuple[int, int, K]] = []
    for key, weight in weights.items():
        parts[key], remainder = divmod(total * weight, weight_sum)
        remainders.append((remainder, weight, key))
    leftover = total - sum(parts.values())
    # Only keys with a positive remainder can win (leftover < number of such keys), which is
    # what keeps every part below its ceiling and zero weights at zero.
    remainders.sort(key=lambda r: (-r[0], -r[1], _SortKey(r[2])))
    for _, _, key in remainders[:leftover]:
        parts[key] += 1
    return {key: parts[key] for key in sorted(parts, key=_SortKey)}


class _SortKey:
    """Wraps a key so ``sorted`` only ever needs its ``<``."""

    __slots__ = ("key",)

    def __init__(self, key: Orderable) -> None:
        self.key = key

    def __lt__(self, other: _SortKey) -> bool:
        return self.key < other.key


def allocate_equally(total: int, keys: Iterable[K]) -> dict[K, int]:
    """Split ``total`` as evenly as possible; the extra units go to the smallest keys.

    Duplicate keys are refused (``InvalidValue``); no keys is ``allocation-weights-all-zero``.
    """
    key_list = list(keys)
    weights: dict[K, Weight] = dict.fromkeys(key_list, 1)
    if len(weights) != len(key_list):
        raise InvalidValue("keys for an equal split must be distinct", code="duplicate-key")
    return allocate(total, weights)

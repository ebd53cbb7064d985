"""Revenue shares: how one source's money is divided among its co-creators.

A share is a ``Decimal`` with at most four decimal places (one basis point, matching the
``Decimal(5, 4)`` column it is stored in) in the half-open interval (0, 1]. A source's shares
must add up to exactly 1: not approximately, because a statement that pays out 99.99% of a
source's money would be wrong forever.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Final

from domain.allocation import allocate_equally
from domain.errors import InvalidValue, RuleViolation

SHARE_PLACES: Final = 4
_QUANTUM: Final = Decimal(1).scaleb(-SHARE_PLACES)
_BASIS: Final = 10**SHARE_PLACES


@dataclass(frozen=True, slots=True)
class RevenueShare:
    """One co-creator's part of a source, e.g. ``RevenueShare.of("0.3")``."""

    value: Decimal

    def __post_init__(self) -> None:
        value = self.value
        if not isinstance(value, Decimal):
            raise InvalidValue(
                f"a revenue share must be a Decimal, not {type(value).__name__}", code="invalid-share"
            )
        if not value.is_finite() or not (0 < value <= 1):
            raise InvalidValue(f"a revenue share must be in (0, 1], got {value}", code="invalid-share")
        if (Fraction(value) * _BASIS).denominator != 1:
            raise InvalidValue(
                f"a revenue share has at most {SHARE_PLACES} decimal places, got {value}",
                code="invalid-share",
            )
        object.__setattr__(self, "value", value.quantize(_QUANTUM))

    @classmethod
    def of(cls, value: RevenueShare | Decimal | str | int) -> RevenueShare:
        """From a Decimal, decimal text ("0.25") or the int 1. Floats and bools are refused."""
        if isinstance(value, RevenueShare):
            return value
        if isinstance(value, str):
            try:
                return cls(Decimal(value.strip()))
            except InvalidOperation:
                raise InvalidValue(f"{value!r} is not a decimal share", code="invalid-share") from None
        if type(value) is int:
            return cls(Decimal(value))
        return cls(value)  # type: ignore[arg-type]  # __post_init__ refuses anything non-Decimal

    @classmethod
    def from_basis_points(cls, bps: int) -> RevenueShare:
        if type(bps) is not int:
            raise InvalidValue("basis points must be an integer", code="invalid-share")
        return cls(Decimal(bps).scaleb(-SHARE_PLACES))

    @property
    def basis_points(self) -> int:
        return int(self.value.scaleb(SHARE_PLACES))

    def __str__(self) -> str:
        return str(self.value)


@dataclass(frozen=True, slots=True)
class ShareSet:
    """The co-creators of one source and their shares: ``creator_id -> RevenueShare``.

    Valid only when non-empty, every creator id is a non-empty string, and the shares add up
    to exactly 1 (``RuleViolation``, code ``shares-must-sum-to-one``). Entries are kept sorted
    by creator id so equal sets compare and hash equal whatever order they were given in.
    """

    entries: tuple[tuple[str, RevenueShare], ...]

    def __post_init__(self) -> None:
        entries = tuple(self.entries)
        if not entries:
            raise RuleViolation("a source needs at least one creator share", code="shares-must-sum-to-one")
        for creator_id, share in entries:
            if not isinstance(creator_id, str) or not creator_id.strip():
                raise InvalidValue("a creator id must be a non-empty string", code="invalid-id")
            if not isinstance(share, RevenueShare):
                raise InvalidValue("each share must be a RevenueShare", code="invalid-share")
        ids = [creator_id for creator_id, _ in entries]
        if len(set(ids)) != len(ids):
            raise InvalidValue("a creator appears twice in a share set", code="duplicate-key")
        total = sum((share.value for _, share in entries), Decimal(0))
        if total != 1:
            raise RuleViolation(
                f"shares must add up to exactly 1, got {total}", code="shares-must-sum-to-one"
            )
        object.__setattr__(self, "entries", tuple(sorted(entries, key=lambda e: e[0])))

    @classmethod
    def of(cls, shares: Mapping[str, RevenueShare | Decimal | str | int]) -> ShareSet:
        """``ShareSet.of({"ana": "0.5", "bo": "0.3", "cy": "0.2"})``."""
        return cls(tuple((creator_id, RevenueShare.of(v)) for creator_id, v in shares.items()))

    @classmethod
    def sole(cls, creator_id: str) -> ShareSet:
        """One creator owning the whole source."""
        return cls(((creator_id, RevenueShare(Decimal(1))),))

    @classmethod
    def equal(cls, creator_ids: Iterable[str]) -> ShareSet:
        """Equal shares to the basis point; the spare basis points go to the smallest ids,
        so three creators get 0.3334 / 0.3333 / 0.3333 and the set still sums to 1."""
        bps = allocate_equally(_BASIS, list(creator_ids))
        if any(v == 0 for v in bps.values()):
            raise RuleViolation(f"at most {_BASIS} creators can share a source", code="invalid-share")
        return cls(tuple((cid, RevenueShare.from_basis_points(v)) for cid, v in bps.items()))

    @property
    def creator_ids(self) -> tuple[str, ...]:
        return tuple(creator_id for creator_id, _ in self.entries)

    def share_of(self, creator_id: str) -> RevenueShare:
        for cid, share in self.entries:
            if cid == creator_id:
                return share
        raise InvalidValue(f"{creator_id!r} has no share in this source", code="unknown-creator")

    def weights(self) -> dict[str, Decimal]:
        """The shares as allocation weights."""
        return {creator_id: share.value for creator_id, share in self.entries}

    def __iter__(self) -> Iterator[tuple[str, RevenueShare]]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

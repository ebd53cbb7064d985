"""Revenue attribution: who gets which cent of a purchase, and how it is reversed.

The rules (see ``docs/revenue-rules.md`` for a worked example):

1. ``net = gross - processing fee``.
2. The platform takes ``floor(net * platform_share_bps / 10000)``: rounding down, so any
   fraction of a cent goes to the creators. The creators' pool is ``net - platform``.
3. Stage 1: the pool is split across the sources that answered, by their token counts
   (largest remainder, deterministic tie-break: see ``domain.allocation``).
   If no source has any tokens, the pool is split equally across the chatbot version's
   sources. If the version has no sources either, the platform keeps the pool (there is
   nobody to pay; the ``basis`` of the attribution records why).
4. Stage 2: each source's integer amount is split across its co-creators by their shares.
5. If the fee exceeds the gross, net is negative: the platform absorbs the loss and the
   creators get zero lines; creators never owe money for a sale.
6. ``gross == fee + platform + sum(lines)`` always holds, to the minor unit.
7. Each line also carries its ``platform_share``: the platform's cut spread over the lines by
   the weights that split the pool (``spread``), so ``sum(platform shares) == platform``
   whenever there are lines, and a creator's summary can say what the platform kept from it.

Reversals split a reversed amount across the original lines in proportion to their amounts,
so reversing everything cancels every line exactly; ``reinstate`` gives a reversal back,
line for line (a chargeback won after it was lost).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Final

from domain.allocation import allocate, allocate_equally
from domain.errors import InvalidValue, RuleViolation
from domain.money import Money
from domain.shares import RevenueShare, ShareSet

__all__ = [
    "DEFAULT_REFUND_WINDOW",
    "Attribution",
    "AttributionBasis",
    "AttributionLine",
    "RevenuePolicy",
    "RevenueShare",
    "ShareSet",
    "attribute",
    "refund_window_closed",
    "reinstate",
    "remaining_after",
    "reverse",
    "spread",
]

BPS_BASE: Final = 10_000
DEFAULT_REFUND_WINDOW: Final = timedelta(days=7)


def _require_aware(moment: datetime, what: str) -> None:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise InvalidValue(f"{what} must be a timezone-aware datetime", code="invalid-datetime")


def refund_window_closed(ended_at: datetime, now: datetime, window: timedelta) -> bool:
    """True once ``ended_at + window <= now``: the buyer can no longer ask for a refund, so
    the conversation's revenue may be attributed (and never before)."""
    _require_aware(ended_at, "ended_at")
    _require_aware(now, "now")
    return ended_at + window <= now


@dataclass(frozen=True, slots=True)
class RevenuePolicy:
    """The platform's cut in basis points (2000 = 20%) and the refund window."""

    platform_share_bps: int
    refund_window: timedelta = DEFAULT_REFUND_WINDOW

    def __post_init__(self) -> None:
        bps = self.platform_share_bps
        if type(bps) is not int or not 0 <= bps <= BPS_BASE:
            raise InvalidValue(
                f"platform share must be an integer 0..{BPS_BASE} basis points, got {bps!r}",
                code="invalid-platform-share",
            )
        if not isinstance(self.refund_window, timedelta) or self.refund_window < timedelta(0):
            raise InvalidValue(
                "the refund window must be a non-negative timedelta", code="invalid-refund-window"
            )

    def platform_cut(self, net: Money) -> Money:
        """floor(net * bps / 10000) for a non-negative net; the whole (negative) net otherwise."""
        if net.is_negative():
            return net
        return Money(net.minor * self.platform_share_bps // BPS_BASE, net.currency)

    def attributable_at(self, ended_at: datetime) -> datetime:
        """The first moment a conversation that ended at ``ended_at`` may be attributed."""
        _require_aware(ended_at, "ended_at")
        return ended_at + self.refund_window

    def refund_window_closed(self, ended_at: datetime, now: datetime) -> bool:
        return refund_window_closed(ended_at, now, self.refund_window)


class AttributionBasis(StrEnum):
    TOKENS = "TOKENS"  # sources were paid by the tokens they contributed
    EQUAL_SPLIT = "EQUAL_SPLIT"  # no source tokens: the version's sources were paid equally
    NO_SOURCES = "NO_SOURCES"  # no tokens and no sources: the platform kept the pool


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributionLine:
    """What one creator earns from one source in one conversation (negative in a reversal).

    ``token_count`` and ``token_fraction`` describe the source (shared by its co-creators);
    ``share`` is this creator's part of the source. The amount never derives from the
    rounded ``token_percentage``, which is for display only. ``platform_share`` is the part of
    the platform's cut that this line accounts for (see ``spread``); it is not the creator's.
    """

    source_id: str
    creator_id: str
    amount: Money
    token_count: int
    token_fraction: Fraction
    share: Decimal
    platform_share: Money

    @property
    def key(self) -> tuple[str, str]:
        return (self.source_id, self.creator_id)

    @property
    def token_percentage(self) -> Decimal:
        """``token_fraction`` as a percentage rounded half-even to 4 places (33.3333)."""
        exact = self.token_fraction * 100
        return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_EVEN
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Attribution:
    """The outcome of ``attribute``. Construction checks ``gross == fee + platform + lines``."""

    gross: Money
    fee: Money
    platform: Money
    lines: tuple[AttributionLine, ...]
    basis: AttributionBasis
    platform_share_bps: int

    def __post_init__(self) -> None:
        total = (
            self.fee + self.platform + Money.total((line.amount for line in self.lines), self.gross.currency)
        )
        if total != self.gross:
            raise RuleViolation(
                f"attribution does not add up: {self.gross} != fee + platform + lines ({total})",
                code="attribution-unbalanced",
            )
        shares = Money.total((line.platform_share for line in self.lines), self.gross.currency)
        if self.lines and shares != self.platform:
            raise RuleViolation(
                f"the lines' platform shares ({shares}) are not the platform's cut ({self.platform})",
                code="attribution-unbalanced",
            )

    @property
    def net(self) -> Money:
        return self.gross - self.fee

    @property
    def creators_total(self) -> Money:
        return Money.total((line.amount for line in self.lines), self.gross.currency)

    def per_creator(self) -> dict[str, Money]:
        return _sum_by(self.lines, lambda line: line.creator_id, self.gross)

    def per_source(self) -> dict[str, Money]:
        return _sum_by(self.lines, lambda line: line.source_id, self.gross)


def _sum_by(
    lines: Sequence[AttributionLine], key: Callable[[AttributionLine], str], like: Money
) -> dict[str, Money]:
    out: dict[str, Money] = {}
    for line in lines:
        k = key(line)
        out[k] = out.get(k, Money.zero(like.currency)) + line.amount
    return dict(sorted(out.items()))


def _check_ids(ids: Collection[str], what: str) -> None:
    for sid in ids:
        if not isinstance(sid, str) or not sid.strip():
            raise InvalidValue(f"{what} ids must be non-empty strings", code="invalid-id")


def attribute(
    *,
    gross: Money,
    fee: Money,
    source_tokens: Mapping[str, int],
    version_sources: Collection[str],
    share_sets: Mapping[str, ShareSet],
    policy: RevenuePolicy,
) -> Attribution:
    """Attribute one conversation's purchase. Pure and deterministic: the same inputs always
    give the same lines, whatever order the mappings are in.

    ``source_tokens`` maps source id to the tokens it contributed (sources with zero tokens
    get nothing); ``version_sources`` is the chatbot version's source set, used only when no
    source has tokens; ``share_sets`` must hold a ShareSet for every source that is paid.
    """
    if gross.is_negative() or fee.is_negative():
        raise InvalidValue("gross and fee must not be negative", code="invalid-amount")
    if fee.currency != gross.currency:
        raise RuleViolation("fee and gross are in different currencies", code="currency-mismatch")
    if isinstance(version_sources, str):
        raise InvalidValue("version_sources is a collection of ids, not one string", code="invalid-id")
    _check_ids(source_tokens.keys(), "source")
    _check_ids(version_sources, "source")
    if not all(isinstance(shares, ShareSet) for shares in share_sets.values()):
        raise InvalidValue("share_sets maps source ids to ShareSets", code="invalid-share")
    for tokens in source_tokens.values():
        if type(tokens) is not int or tokens < 0:
            raise InvalidValue("token counts must be non-negative integers", code="invalid-token-count")

    net = gross - fee
    platform = policy.platform_cut(net)
    pool = (net - platform).minor
    used = {sid: tokens for sid, tokens in source_tokens.items() if tokens > 0}
    if used:
        basis, by_source = AttributionBasis.TOKENS, allocate(pool, used)
    elif version_sources:
        basis, by_source = AttributionBasis.EQUAL_SPLIT, allocate_equally(pool, set(version_sources))
    else:
        platform = platform + Money(pool, gross.currency)
        return Attribution(
            gross=gross,
            fee=fee,
            platform=platform,
            lines=(),
            basis=AttributionBasis.NO_SOURCES,
            platform_share_bps=policy.platform_share_bps,
        )

    total_tokens = sum(used.values())
    lines: list[AttributionLine] = []
    for source_id, source_amount in by_source.items():
        shares = share_sets.get(source_id)
        if shares is None:
            raise RuleViolation(f"source {source_id!r} has no revenue shares", code="source-without-shares")
        tokens = used.get(source_id, 0)
        fraction = Fraction(tokens, total_tokens) if total_tokens else Fraction(0)
        for creator_id, creator_amount in allocate(source_amount, shares.weights()).items():
            lines.append(
                AttributionLine(
                    source_id=source_id,
                    creator_id=creator_id,
                    amount=Money(creator_amount, gross.currency),
                    token_count=tokens,
                    token_fraction=fraction,
                    share=shares.share_of(creator_id).value,
                    platform_share=Money.zero(gross.currency),
                )
            )
    platform_shares = spread(lines, platform)
    return Attribution(
        gross=gross,
        fee=fee,
        platform=platform,
        lines=tuple(
            replace(line, platform_share=part) for line, part in zip(lines, platform_shares, strict=True)
        ),
        basis=basis,
        platform_share_bps=policy.platform_share_bps,
    )


def _index(lines: Sequence[AttributionLine]) -> dict[tuple[str, str], AttributionLine]:
    indexed: dict[tuple[str, str], AttributionLine] = {}
    for line in lines:
        if line.key in indexed:
            raise InvalidValue(f"line {line.key} appears twice", code="duplicate-key")
        indexed[line.key] = line
    return indexed


def spread(lines: Sequence[AttributionLine], total: Money) -> tuple[Money, ...]:
    """``total`` split over ``lines`` by the weights attribution split the creators' pool by:
    across sources by their token counts (equally when no line has tokens: the equal-split
    fallback), then each source's part across its co-creators by their shares (equally if
    they carry none). One amount per line, in order, adding up to exactly ``total``.

    This is how the platform's cut is attributed to lines, and how a later change of that
    cut (a refund lowers it, a chargeback won back restores it) is spread: it depends only on
    the lines' sources, tokens and shares, never on their current amounts, so it can be
    recomputed from the ledger rows at any time. A negative total is the mirror image.
    """
    indexed = _index(lines)
    if not lines:
        if total.is_zero():
            return ()
        raise RuleViolation(f"there are no lines to spread {total} over", code="allocation-weights-all-zero")
    by_source: dict[str, list[AttributionLine]] = {}
    for line in lines:
        if line.amount.currency != total.currency:
            raise RuleViolation(
                "the total and the lines are in different currencies", code="currency-mismatch"
            )
        by_source.setdefault(line.source_id, []).append(line)
    tokens = {sid: max(line.token_count for line in group) for sid, group in by_source.items()}
    source_weights = tokens if any(tokens.values()) else dict.fromkeys(tokens, 1)
    parts: dict[tuple[str, str], int] = {}
    for source_id, source_part in allocate(total.minor, source_weights).items():
        group = by_source[source_id]
        shares: dict[str, Decimal] = {line.creator_id: line.share for line in group}
        if not any(shares.values()):
            shares = dict.fromkeys(shares, Decimal(1))
        for creator_id, part in allocate(source_part, shares).items():
            parts[(source_id, creator_id)] = part
    return tuple(Money(parts[key], total.currency) for key in indexed)


def reverse(lines: Sequence[AttributionLine], amount: Money) -> tuple[AttributionLine, ...]:
    """Reversal lines taking back ``amount`` from ``lines`` in proportion to their amounts.

    The result has one line per original line (same order, negative or zero amounts) and
    sums to exactly ``-amount``. Reversing the full total gives back every line's exact
    negative. ``amount`` must be between zero and the lines' total; to reverse in several
    steps, pass ``remaining_after(original, earlier_reversals)`` as ``lines``. The lines'
    ``platform_share`` is zero: what the platform gives up with them is the caller's to
    ``spread``.
    """
    indexed = _index(lines)
    if amount.is_negative():
        raise InvalidValue("the amount to reverse must not be negative", code="invalid-amount")
    for line in lines:
        if line.amount.currency != amount.currency:
            raise RuleViolation("reversal and lines are in different currencies", code="currency-mismatch")
        if line.amount.is_negative():
            raise InvalidValue("only non-negative lines can be reversed", code="invalid-amount")
    available = Money.total((line.amount for line in lines), amount.currency)
    if amount > available:
        raise RuleViolation(
            f"cannot reverse {amount}: only {available} was attributed", code="reversal-exceeds-attributed"
        )
    zero = Money.zero(amount.currency)
    if amount.is_zero():
        return tuple(replace(line, amount=zero, platform_share=zero) for line in lines)
    parts = allocate(-amount.minor, {key: line.amount.minor for key, line in indexed.items()})
    return tuple(
        replace(line, amount=Money(parts[line.key], amount.currency), platform_share=zero) for line in lines
    )


def reinstate(reversals: Sequence[AttributionLine]) -> tuple[AttributionLine, ...]:
    """Lines giving back exactly what ``reversals`` took: every amount and platform share
    negated, line for line, so a reversal and its reinstatement cancel to the cent (a
    chargeback the seller wins after it was lost). Only reversal lines (zero or negative
    amounts) can be reinstated."""
    _index(reversals)
    for line in reversals:
        if line.amount.is_positive():
            raise InvalidValue(
                "only reversal lines (zero or negative amounts) can be reinstated", code="invalid-amount"
            )
    return tuple(
        replace(line, amount=-line.amount, platform_share=-line.platform_share) for line in reversals
    )


def remaining_after(
    lines: Sequence[AttributionLine], reversals: Sequence[AttributionLine]
) -> tuple[AttributionLine, ...]:
    """The original lines net of later lines about them (reversals, reinstatements), which
    must match existing lines; platform shares are netted the same way."""
    indexed = _index(lines)
    totals = {key: (line.amount, line.platform_share) for key, line in indexed.items()}
    for rev in reversals:
        if rev.key not in totals:
            raise InvalidValue(f"reversal {rev.key} matches no original line", code="unknown-line")
        amount, platform = totals[rev.key]
        totals[rev.key] = (amount + rev.amount, platform + rev.platform_share)
    return tuple(
        replace(line, amount=totals[line.key][0], platform_share=totals[line.key][1]) for line in lines
    )

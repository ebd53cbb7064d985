"""Intake questions: what a chatbot asks a user before answering, and how answers are checked.

Answers are stored as JSON: text, a number, the chosen option(s), a file id, an ISO date or a
boolean. Checking is strict (no coercion: ``"5"`` is not a NUMBER) so what a chatbot reads from
a user's context is always of the type it asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Final

TEXT_MAX: Final = 5000


class IntakeType(StrEnum):
    TEXT = "TEXT"
    NUMBER = "NUMBER"
    SELECT = "SELECT"
    MULTI_SELECT = "MULTI_SELECT"
    FILE = "FILE"
    DATE = "DATE"
    BOOLEAN = "BOOLEAN"


CHOICE_TYPES: Final = frozenset({IntakeType.SELECT, IntakeType.MULTI_SELECT})


@dataclass(frozen=True, slots=True, kw_only=True)
class IntakeQuestion:
    id: str
    chatbot_id: str
    slug: str  # also the user-context key the answer is stored under
    text: str
    type: IntakeType
    display_order: int
    required: bool = False
    helper_text: str | None = None
    options: tuple[str, ...] = ()  # SELECT / MULTI_SELECT only


@dataclass(frozen=True, slots=True, kw_only=True)
class IntakeAnswer:
    question: IntakeQuestion
    value: Any  # checked JSON value
    file_id: str | None = None
    reusable: bool = False  # may other chatbots (frameworks) reuse it?


@dataclass(frozen=True, slots=True, kw_only=True)
class IntakeForm:
    questions: list[IntakeQuestion]
    prefilled: dict[str, Any] = field(default_factory=dict)  # slug -> a reusable earlier answer


def check_answer(question: IntakeQuestion, raw: object) -> tuple[Any, str | None]:
    """The JSON value to store (and the file id for FILE), or ``ValueError`` saying why not."""
    kind = question.type
    if kind is IntakeType.TEXT:
        if not isinstance(raw, str) or not raw.strip() or len(raw) > TEXT_MAX:
            raise ValueError(f"must be text of 1 to {TEXT_MAX} characters")
        return raw.strip(), None
    if kind is IntakeType.NUMBER:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise ValueError("must be a number")
        return raw, None
    if kind is IntakeType.SELECT:
        if raw not in question.options:
            raise ValueError(f"must be one of {', '.join(question.options)}")
        return raw, None
    if kind is IntakeType.MULTI_SELECT:
        if not isinstance(raw, list) or not raw or len(set(map(str, raw))) != len(raw):
            raise ValueError("must be a non-empty list of distinct options")
        unknown = [v for v in raw if v not in question.options]
        if unknown:
            raise ValueError(f"must only contain {', '.join(question.options)}")
        return list(raw), None
    if kind is IntakeType.FILE:
        if not isinstance(raw, str) or not raw.strip() or len(raw) > 64:
            raise ValueError("must be the id of an uploaded file")
        return raw, raw
    if kind is IntakeType.DATE:
        try:
            return date.fromisoformat(raw).isoformat(), None  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError("must be a date as YYYY-MM-DD") from None
    if not isinstance(raw, bool):
        raise ValueError("must be true or false")
    return raw, None

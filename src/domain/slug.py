"""Slugs: the human-readable, URL-safe names of creators and chatbots (``seth-godin``)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from domain.errors import InvalidValue

SLUG_MIN: Final = 2
SLUG_MAX: Final = 64
_SLUG_RE: Final = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Words the web app uses as path segments next to slugs; a creator called "new" would shadow
# the page for creating one.
_RESERVED: Final = "admin api app auth dashboard docs edit health login logout new settings"
RESERVED_SLUGS: Final = frozenset(_RESERVED.split())


@dataclass(frozen=True, slots=True)
class Slug:
    """Lowercase ASCII letters and digits in hyphen-separated words, 2-64 characters, not a
    reserved word. ``Slug.from_text("Seth Godin's Blog!")`` gives ``seth-godins-blog``."""

    value: str

    def __post_init__(self) -> None:
        v = self.value
        if not isinstance(v, str) or not _SLUG_RE.fullmatch(v) or not SLUG_MIN <= len(v) <= SLUG_MAX:
            raise InvalidValue(
                f"{v!r} is not a slug: use {SLUG_MIN}-{SLUG_MAX} lowercase letters, digits and single "
                "hyphens between words",
                code="invalid-slug",
            )
        if v in RESERVED_SLUGS:
            raise InvalidValue(f"{v!r} is reserved", code="reserved-slug")

    @classmethod
    def from_text(cls, text: str) -> Slug:
        """A slug suggested from a title: accents folded, apostrophes dropped, everything
        else that is not a letter or digit becomes a word break, cut to the maximum length."""
        folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
        folded = re.sub(r"['’`]", "", folded)
        words = re.findall(r"[a-z0-9]+", folded)
        slug = "-".join(words)[:SLUG_MAX].strip("-")
        return cls(slug)

    def __str__(self) -> str:
        return self.value

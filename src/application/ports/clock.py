from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """The time. Always timezone-aware UTC. Tests use a fake they can move."""

    def now(self) -> datetime: ...

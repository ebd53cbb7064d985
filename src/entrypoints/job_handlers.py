"""Imports every area's job registrations (one line per area)."""

from entrypoints import (
    jobs_catalogue,  # noqa: F401
    jobs_chat,  # noqa: F401
    jobs_money,  # noqa: F401
)

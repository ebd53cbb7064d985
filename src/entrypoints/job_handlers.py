"""Imports every area's job registrations (one line per area)."""

from entrypoints import jobs_catalogue  # noqa: F401

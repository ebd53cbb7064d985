"""Imports every area's job registrations (one line per area)."""

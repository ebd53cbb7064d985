"""Ingestion: turning an uploaded file into stored, embedded, searchable chunks."""

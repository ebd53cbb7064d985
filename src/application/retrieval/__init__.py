"""Retrieval: which passages of a creator's work answer a question (ports and pure ranking logic)."""

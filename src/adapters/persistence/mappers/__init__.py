"""Mapping between ORM rows and domain objects, where it is more than a few lines."""

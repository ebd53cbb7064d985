"""Ports shared by several areas. Area-specific ports live beside their use cases
(``application/<area>/ports.py``)."""

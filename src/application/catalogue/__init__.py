"""The catalogue: creators and their members, sources and their shares, uploaded files."""

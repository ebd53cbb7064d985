"""Text rules: tokens (the unit revenue is attributed by) and chunking."""

"""The `canon` command line."""

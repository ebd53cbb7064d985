"""Blob stores: a local directory (the embedded default) and S3-compatible object storage."""

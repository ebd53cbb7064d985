"""Embedder adapters: the offline lexical default and OpenAI embeddings."""

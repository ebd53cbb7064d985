"""Vector index adapters: in-memory (the fake), Qdrant (embedded on disk or a server), Pinecone."""

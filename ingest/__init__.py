"""Ingestion: load articles, chunk, embed and keep a Chroma collection in step with them."""

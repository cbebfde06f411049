"""Hybrid search: dense (Chroma) and BM25 (the keyword index), fused."""

"""Embedding models: sentence-transformers, and the same model exported to ONNX."""

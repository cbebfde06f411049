"""Answering from passages: the trained ranker and reader, the extractive rules, LLM answerers."""

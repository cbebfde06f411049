"""Answering: read a question, search the store, answer with citations; news rules on top."""

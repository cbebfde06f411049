"""The records of an article and its chunks and versions (pydantic at the edge, frozen inside)."""

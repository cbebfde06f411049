"""Rank fusion and per-article diversification (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], k: int = 60, weights: Sequence[float] | None = None
) -> list[tuple[str, float]]:
    """Fuse ranked id lists: score(id) = sum_i w_i / (k + rank_i(id)), ranks from 1."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def cap_per_group(
    ranked: Sequence[tuple[str, float]], group_of: Callable[[str], str], cap: int
) -> list[tuple[str, float]]:
    """Keep at most `cap` items per group, in order; 0 means no cap.

    With a cap, a question that spans two articles is not crowded out by one article's chunks.
    """
    if cap <= 0:
        return list(ranked)
    taken: Counter[str] = Counter()
    kept: list[tuple[str, float]] = []
    for item, score in ranked:
        group = group_of(item)
        if taken[group] < cap:
            taken[group] += 1
            kept.append((item, score))
    return kept


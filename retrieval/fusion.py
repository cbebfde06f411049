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


def fuse_by_article(
    rankings: Sequence[Sequence[str]],
    group_of: Callable[[str], str],
    *,
    k: int = 60,
    weights: Sequence[float] | None = None,
    cap: int = 2,
) -> list[tuple[str, float]]:
    """Rank articles by RRF over each list's article order, then emit chunks in rounds.

    Fusing chunk ids directly lets one article's weaker chunks that both lists share outrank
    the single best chunk of the article both lists put first. Here an article's rank in a
    list is the rank of its best chunk there. Output: the best chunk of each article in article
    order, then each article's second-best chunk, and so on up to `cap` (0 = no cap); a chunk
    carries its article's fused score.
    """
    chunk_order = [item for item, _ in reciprocal_rank_fusion(rankings, k, weights)]
    article_rankings = [list(dict.fromkeys(group_of(item) for item in r)) for r in rankings]
    article_scores = dict(reciprocal_rank_fusion(article_rankings, k, weights))
    articles = sorted(article_scores, key=lambda a: (-article_scores[a], a))
    chunks_of: dict[str, list[str]] = {a: [] for a in articles}
    for item in chunk_order:
        chunks_of[group_of(item)].append(item)
    rounds = max((len(c) for c in chunks_of.values()), default=0)
    if cap > 0:
        rounds = min(rounds, cap)
    return [
        (chunks_of[a][r], article_scores[a])
        for r in range(rounds) for a in articles if r < len(chunks_of[a])
    ]

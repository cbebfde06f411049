"""Wire copies: the same story republished with small edits (pure).

Candidates come from the store (the nearest stored first chunks by embedding, which ingest
has computed anyway) and from the articles written in the same batch; the decision is the
resemblance of the two texts' word shingles (Broder's measure), with a time window so that a
yearly notice written from the same template is not a copy of last year's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

SHINGLE_WORDS = 4
# Shingle resemblance at or above which two first chunks are copies of one story. Measured
# on the BBC corpus (bench/near_duplicates.py, read pair by pair): copies with edited
# headlines and sentences score 0.57–1.0; the next stories down, 0.41–0.48, are two days of
# one story (pension talks, oil prices) that a timeline wants apart — and two rewritten
# copies (0.40, 0.49) that this misses.
RESEMBLANCE = 0.5
# Copies run within days of each other; undated articles are compared regardless.
WINDOW = timedelta(days=7)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Lead:
    """The start of an article (its first chunk) as compared for copies; `group` is the id
    of the wire story it belongs to (its own id when it stands alone)."""

    article_id: str
    group: str
    text: str
    published: datetime | None = None


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[int]:
    words = _WORD.findall(text.lower())
    if len(words) < size:
        return frozenset({hash(tuple(words))}) if words else frozenset()
    return frozenset(hash(tuple(words[i:i + size])) for i in range(len(words) - size + 1))


def resemblance(a: frozenset[int], b: frozenset[int]) -> float:
    """Jaccard similarity of two shingle sets."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def copy_group(lead: Lead, candidates: Sequence[Lead], threshold: float = RESEMBLANCE,
               window: timedelta = WINDOW) -> str | None:
    """The group of the candidate `lead` is a copy of (the most alike), or None."""
    own = shingles(lead.text)
    best: tuple[float, str] | None = None
    for other in candidates:
        if lead.article_id in (other.article_id, other.group):
            continue  # itself, or a copy of it
        if (lead.published is not None and other.published is not None
                and abs(lead.published - other.published) > window):
            continue
        score = resemblance(own, shingles(other.text))
        if score >= threshold and (best is None or score > best[0]):
            best = (score, other.group)
    return best[1] if best else None

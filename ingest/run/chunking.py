"""Sentence-aware chunking bounded by the embedding model's token limit (pure).

Token counts come from a callable so the core stays free of the model: the adapter passes the
model tokenizer's batch counter. WordPiece and most subword tokenizers split on whitespace first,
so the tokens of whitespace-joined sentences add up; the pipeline still checks each chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ingest.model.records import Article, Chunk
from ingest.text.ids import chunk_id
from ingest.text.sentences import split_sentences

TokenCounter = Callable[[Sequence[str]], list[int]]

# [CLS] and [SEP] (or the model's equivalents) that the model adds to every input.
SPECIAL_TOKENS = 2
# A header may take at most this share of the budget; longer titles are cut.
MAX_HEADER_SHARE = 0.35


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int


def chunk_header(title: str, source: str | None, published: datetime | None) -> str:
    """The short context line embedded with every chunk: title, source and date."""
    parts = [title.strip()]
    if source:
        parts.append(source.strip())
    if published:
        parts.append(published.date().isoformat())
    return " | ".join(p for p in parts if p)


def chunk_article(
    article: Article,
    count_tokens: TokenCounter,
    max_tokens: int,
    overlap_tokens: int,
) -> list[Chunk]:
    """Split an article into chunks whose header + text stay within `max_tokens`."""
    header = chunk_header(article.title, article.source, article.published)
    header, header_tokens = _fit_header(header, count_tokens, max_tokens)
    budget = max_tokens - SPECIAL_TOKENS - header_tokens
    units = _units(article.text, count_tokens, budget)
    chunks: list[Chunk] = []
    for first, last in _pack(units, budget, overlap_tokens):
        start, end = units[first].start, units[last].end
        index = len(chunks)
        chunks.append(
            Chunk(
                id=chunk_id(article.id, index),
                article_id=article.id,
                index=index,
                text=article.text[start:end],
                header=header,
                start=start,
                end=end,
            )
        )
    return chunks


def _fit_header(header: str, count_tokens: TokenCounter, max_tokens: int) -> tuple[str, int]:
    limit = int(max_tokens * MAX_HEADER_SHARE)
    tokens = count_tokens([header])[0] if header else 0
    words = header.split()
    while tokens > limit and words:
        words = words[: max(1, len(words) * limit // tokens - 1)] if len(words) > 1 else []
        header = " ".join(words)
        tokens = count_tokens([header])[0] if header else 0
    return header, tokens


def _units(text: str, count_tokens: TokenCounter, budget: int) -> list[_Unit]:
    """Sentences with token counts; a sentence over budget is cut into word runs."""
    spans = split_sentences(text)
    counts = count_tokens([text[s:e] for s, e in spans]) if spans else []
    units: list[_Unit] = []
    for (start, end), tokens in zip(spans, counts, strict=True):
        if tokens <= budget:
            units.append(_Unit(start, end, tokens))
        else:
            units.extend(_split_long(text, start, end, count_tokens, budget))
    return units


def _split_long(
    text: str, start: int, end: int, count_tokens: TokenCounter, budget: int
) -> list[_Unit]:
    words: list[tuple[int, int]] = []
    position = start
    for word in text[start:end].split():
        word_start = text.index(word, position)
        words.append((word_start, word_start + len(word)))
        position = word_start + len(word)
    counts = count_tokens([text[s:e] for s, e in words])
    pieces: list[_Unit] = []
    run_start, run_end, run_tokens = words[0][0], words[0][0], 0
    for (word_start, word_end), count in zip(words, counts, strict=True):
        tokens = min(count, budget)  # a single absurd "word" is truncated by the model anyway
        if run_tokens and run_tokens + tokens > budget:
            pieces.append(_Unit(run_start, run_end, run_tokens))
            run_start, run_tokens = word_start, 0
        run_end = word_end
        run_tokens += tokens
    pieces.append(_Unit(run_start, run_end, run_tokens))
    return pieces


def _pack(units: Sequence[_Unit], budget: int, overlap_tokens: int) -> list[tuple[int, int]]:
    """Greedy packing into (first, last) unit ranges; each range after the first repeats the
    trailing units of the previous one that fit in `overlap_tokens`."""
    ranges: list[tuple[int, int]] = []
    first = 0
    while first < len(units):
        last, used = first, units[first].tokens
        while last + 1 < len(units) and used + units[last + 1].tokens <= budget:
            last += 1
            used += units[last].tokens
        ranges.append((first, last))
        if last + 1 >= len(units):
            break
        next_first, carried = last + 1, 0
        while (
            next_first - 1 > first
            and carried + units[next_first - 1].tokens <= overlap_tokens
            and carried + units[next_first - 1].tokens + units[last + 1].tokens <= budget
        ):
            next_first -= 1
            carried += units[next_first].tokens
        first = next_first
    return ranges

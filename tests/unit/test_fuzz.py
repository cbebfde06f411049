"""Property-based tests: no input crashes the loaders or the chunker."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.errors import SourceError
from config.settings import IngestSettings
from ingest.model.records import Article, Failure
from ingest.run.chunking import SPECIAL_TOKENS, chunk_article
from ingest.sources.articles import make_article
from ingest.sources.discover import SourceItem
from ingest.sources.loaders import load
from ingest.sources.parse import parse_text_article
from tests.helpers import HTML_PAGE, NoNetwork, rss_feed, word_counter

SUFFIXES = [".txt", ".md", ".html", ".json", ".jsonl", ".xml", ".rss", ".atom"]
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

VALID = {
    ".html": HTML_PAGE,
    ".json": json.dumps({"articles": [{"title": "A", "body": "Alpha text here.",
                                       "url": "https://a.example/1"}] * 3}),
    ".jsonl": "\n".join(json.dumps({"title": f"T{i}", "text": f"Body {i}."}) for i in range(5)),
    ".rss": rss_feed([("One", "https://f.example/1", "<p>" + "Words here. " * 50 + "</p>"),
                      ("Two", "https://f.example/2", "<p>" + "More words. " * 50 + "</p>")]),
    ".txt": "Title\n\nBy [Desk](#)\n\nMay 5, 2024\n\nCredit/Photo\n\nBody text.\n\n"
            "Original url: <https://t.example/x>",
}


def load_bytes(data: bytes, suffix: str) -> list[Article | Failure]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        item = SourceItem(location=str(path), origin=tmp, root=Path(tmp))
        return list(load(item, NoNetwork(), IngestSettings(fetch_entry_links=False)))


def check(results: list[Article | Failure]) -> None:
    for result in results:
        if isinstance(result, Failure):
            assert result.source and result.reason
        else:
            assert isinstance(result, Article)
            assert result.id and result.text.strip() and result.title
            assert len(result.content_hash) == 64
            assert result.published is None or result.published.tzinfo is not None


@FUZZ
@given(st.binary(max_size=3000), st.sampled_from(SUFFIXES))
def test_arbitrary_bytes_never_crash_a_loader(data: bytes, suffix: str) -> None:
    check(load_bytes(data, suffix))


@FUZZ
@given(st.text(max_size=1500), st.sampled_from(["utf-8", "utf-16", "latin-1", "cp1252",
                                                  "shift_jis", "koi8-r"]),
       st.sampled_from(SUFFIXES))
def test_text_in_random_encodings_never_crashes(text: str, encoding: str, suffix: str) -> None:
    check(load_bytes(text.encode(encoding, errors="ignore"), suffix))


@FUZZ
@given(st.sampled_from(sorted(VALID)), st.floats(0.0, 1.0))
def test_truncated_documents_load_or_fail_cleanly(suffix: str, cut: float) -> None:
    data = VALID[suffix].encode()
    check(load_bytes(data[: int(len(data) * cut)], suffix))


@FUZZ
@given(st.text(max_size=3000))
def test_text_parser_never_crashes_and_keeps_footer_out(raw: str) -> None:
    parsed = parse_text_article(raw)
    if parsed.url:
        assert parsed.url not in parsed.body


@FUZZ
@given(st.text(min_size=1, max_size=4000), st.integers(24, 256), st.integers(0, 64))
def test_chunk_offsets_always_map_back_into_the_article(text: str, max_tokens: int,
                                                        overlap: int) -> None:
    try:
        article = make_article(read_from="fuzz", fallback_id="f", origin="o",
                               title="Fuzz", text=text)
    except SourceError:
        return
    for chunk in chunk_article(article, word_counter, max_tokens, overlap):
        assert article.text[chunk.start:chunk.end] == chunk.text
        assert word_counter([chunk.embed_text])[0] + SPECIAL_TOKENS <= max_tokens

import itertools
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from config.errors import SourceError
from ingest.model.records import Article
from ingest.run.chunking import SPECIAL_TOKENS, chunk_article, chunk_header
from ingest.sources.articles import make_article
from tests.helpers import word_counter


def article(text: str, title: str = "A title") -> Article:
    return make_article(read_from="t", fallback_id="doc.txt", origin="o", title=title,
                        text=text)


def body(n_sentences: int, words: int = 9) -> str:
    return " ".join(
        f"Sentence {i} " + " ".join(["word"] * (words - 3)) + " end." for i in range(n_sentences)
    )


def test_chunks_respect_the_token_bound_including_header() -> None:
    a = article(body(40))
    chunks = chunk_article(a, word_counter, max_tokens=50, overlap_tokens=10)
    assert len(chunks) > 5
    for chunk in chunks:
        assert word_counter([chunk.embed_text])[0] + SPECIAL_TOKENS <= 50


def test_offsets_round_trip_and_ids_are_sequential() -> None:
    a = article(body(30))
    chunks = chunk_article(a, word_counter, max_tokens=60, overlap_tokens=12)
    for index, chunk in enumerate(chunks):
        assert chunk.id == f"doc.txt#{index}"
        assert a.text[chunk.start:chunk.end] == chunk.text
    assert chunks[0].start == 0
    assert chunks[-1].end == len(a.text)


def test_consecutive_chunks_overlap_by_whole_sentences_within_budget() -> None:
    a = article(body(30))
    chunks = chunk_article(a, word_counter, max_tokens=60, overlap_tokens=12)
    for previous, following in itertools.pairwise(chunks):
        assert following.start < previous.end, "no overlap"
        repeated = a.text[following.start:previous.end]
        assert repeated.startswith("Sentence") and repeated.endswith("end.")
        assert len(repeated.split()) <= 12


def test_no_overlap_when_disabled() -> None:
    a = article(body(30))
    chunks = chunk_article(a, word_counter, max_tokens=60, overlap_tokens=0)
    for previous, following in itertools.pairwise(chunks):
        assert following.start > previous.end


def test_a_sentence_longer_than_the_budget_is_split_by_words() -> None:
    a = article(" ".join(["long"] * 200) + ".")
    chunks = chunk_article(a, word_counter, max_tokens=40, overlap_tokens=0)
    assert len(chunks) >= 5
    assert all(word_counter([c.embed_text])[0] + SPECIAL_TOKENS <= 40 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == a.text.split()


def test_a_very_long_title_is_cut_to_leave_room_for_text() -> None:
    a = article(body(3), title=" ".join(["Title"] * 100))
    chunks = chunk_article(a, word_counter, max_tokens=40, overlap_tokens=0)
    assert all(word_counter([c.header])[0] <= 14 for c in chunks)
    assert all(word_counter([c.embed_text])[0] + SPECIAL_TOKENS <= 40 for c in chunks)


def test_header_has_title_source_and_date() -> None:
    header = chunk_header("Title", "BBC", datetime(2005, 1, 2, tzinfo=UTC))
    assert header == "Title | BBC | 2005-01-02"
    assert chunk_header("Title", None, None) == "Title"


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=2000), st.integers(20, 120), st.integers(0, 30))
def test_any_text_chunks_within_bounds_and_offsets_map_back(
    text: str, max_tokens: int, overlap: int
) -> None:
    try:
        a = article(text)
    except SourceError:
        return  # no article text: the loader reports it, nothing to chunk
    chunks = chunk_article(a, word_counter, max_tokens=max_tokens, overlap_tokens=overlap)
    assert chunks
    for chunk in chunks:
        assert a.text[chunk.start:chunk.end] == chunk.text
        assert word_counter([chunk.embed_text])[0] + SPECIAL_TOKENS <= max_tokens
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, ch in enumerate(a.text) if not ch.isspace())

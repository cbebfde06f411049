import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrieval.citations import CitationStream, cited_numbers, validate_citations
from retrieval.records import Passage


def passages(n: int) -> list[Passage]:
    return [Passage(chunk_id=f"a{i}#0", article_id=f"a{i}", title=f"T{i}", text=f"text {i}",
                    score=1.0) for i in range(1, n + 1)]


@pytest.mark.parametrize(
    ("text", "expected_text", "expected_articles"),
    [
        ("Fact [1].", "Fact [1].", ["a1"]),
        ("Fact [2]. Other [1].", "Fact [1]. Other [2].", ["a2", "a1"]),
        ("Fact [1, 3] and [3][1].", "Fact [1][2] and [2][1].", ["a1", "a3"]),
        ("Fact [7].", "Fact.", []),  # no passage 7: the marker is dropped
        ("Fact [0] [2].", "Fact [1].", ["a2"]),
        ("Mixed [2, 9].", "Mixed [1].", ["a2"]),
        ("In [2005] prices rose [1].", "In [2005] prices rose [1].", ["a1"]),  # not a citation
        ("No markers at all.", "No markers at all.", []),
        ("Repeated [3] and again [3].", "Repeated [1] and again [1].", ["a3"]),
    ],
)
def test_validate_citations(text: str, expected_text: str, expected_articles: list[str]) -> None:
    cleaned, citations = validate_citations(text, passages(3))
    assert cleaned == expected_text
    assert [c.passage.article_id for c in citations] == expected_articles
    assert [c.n for c in citations] == list(range(1, len(expected_articles) + 1))
    for citation in citations:  # every number in the text maps to a listed citation
        assert citation.n in cited_numbers(cleaned)
    assert set(cited_numbers(cleaned)) == {c.n for c in citations}


def test_cited_numbers_in_order() -> None:
    assert cited_numbers("a [2] b [1, 3] c [2]") == [2, 1, 3, 2]


def _streamed(pieces: list[str], count: int) -> list[str]:
    out: list[str] = []
    stream = CitationStream(out.append, count)
    for piece in pieces:
        stream(piece)
    stream.close()
    return out


def test_a_streamed_marker_is_the_final_answers_marker() -> None:
    # A client saw "[7]" in the stream while the answer it got had two citations.
    pieces = ["The toilet", " was stolen [", "7", "] from Blenheim [2", ", 9] ", ".",
              " It was [4]", " gold [4]", "."]
    text = "".join(pieces)
    assert "".join(_streamed(pieces, 7)) == validate_citations(text, passages(7))[0] \
        == "The toilet was stolen [1] from Blenheim [2]. It was [3] gold [3]."
    # A bracket waits until it closes (a year is no marker), a long one not even that.
    assert _streamed(["Prices of [2005", "] rose [", "1]."], 1) == ["Prices of",
                                                                   " [2005] rose", " [1]."]
    assert _streamed(["See [a note that never closes", " here [1]."], 1) == [
        "See [a note that never closes", " here [1]."]


_FRAGMENTS = st.sampled_from(["Fact", " fact", " [1]", " [2]", " [7]", "[3, 1]", " [2005]",
                              " .", ".", ",", " ", "[", "]", "1", " and", "\n"])


@given(st.lists(_FRAGMENTS, max_size=14), st.lists(st.integers(0, 60), max_size=5))
def test_any_split_of_a_stream_joins_to_the_validated_answer(fragments: list[str],
                                                             cuts: list[int]) -> None:
    text = "".join(fragments)
    bounds = sorted({0, len(text), *(min(c, len(text)) for c in cuts)})
    pieces = [text[a:b] for a, b in itertools.pairwise(bounds)]
    assert "".join(_streamed(pieces, 3)) == validate_citations(text, passages(3))[0]

import pytest

from retrieval.citations import cited_numbers, validate_citations
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

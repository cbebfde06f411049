import pytest

from ingest.text.sentences import split_sentences


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three?", ["One.", "Two!", "Three?"]),
        ("Mr. Smith paid $1.5m. He left.", ["Mr. Smith paid $1.5m.", "He left."]),
        ('"Really?" she asked. Yes.', ['"Really?" she asked.', "Yes."]),
        ("J. K. Rowling wrote it. Fine.", ["J. K. Rowling wrote it.", "Fine."]),
        ("The U.S. economy grew. Next.", ["The U.S. economy grew.", "Next."]),
        ("The board met K.C. Maurer on Monday. He agreed.",
         ["The board met K.C. Maurer on Monday.", "He agreed."]),
        ("J.R.R. Tolkien wrote it. Fine.", ["J.R.R. Tolkien wrote it.", "Fine."]),
        ("no end\n\nnew paragraph", ["no end", "new paragraph"]),
        ("", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_spans_point_into_the_text() -> None:
    text = "  First one.   Second one.  "
    for start, end in split_sentences(text):
        assert text[start:end].strip() == text[start:end]

"""What changed between versions of an article (retrieval/news/changes.py,
ingest/model/versions.py):
the pure diff, correction notes, questions that ask for changes, and the cited composition,
on short invented texts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.model.records import Article, ChunkMeta
from ingest.model.versions import ArticleVersion, rebuild_text, replaced_version, stored_version
from retrieval.answer.corrections import correction_notes
from retrieval.citations import validate_citations
from retrieval.news.changes import (
    StoryHistory,
    compose_changes,
    describe_changes,
)
from retrieval.question.intent import changes_question
from retrieval.records import Passage

OLD = ("Storm Orla killed three people in Kell on Friday, police said. The death toll rose to "
       "3 on Friday night as crews searched the harbour.\n\nTwo fishermen are still missing. "
       "Ferries to the islands were cancelled.")
NEW = ("Storm Orla killed five people in Kell on Friday, police said. The death toll rose to "
       "5 on Friday night as crews searched the harbour.\n\nFerries to the islands were "
       "cancelled. Volunteers opened the school hall as a shelter for 80 families.")


def test_a_raised_toll_is_one_value_change_not_a_sentence_swapped() -> None:
    summary = describe_changes(OLD, NEW)
    toll = next(v for v in summary.values if v.subject == "death toll")
    assert (toll.old, toll.new, toll.direction, toll.kind) == ("3", "5", "raised", "number")
    assert toll.describe() == "Death toll raised from 3 to 5"
    counted = next(v for v in summary.values if v.old == "three")
    assert (counted.new, counted.subject) == ("five", "number of people")
    assert summary.added == ("Volunteers opened the school hall as a shelter for 80 families.",)
    assert summary.removed == ("Two fishermen are still missing.",)
    assert summary.reworded == () and summary.corrections == () and summary.title is None


def test_identical_texts_change_nothing_whatever_their_whitespace() -> None:
    assert not describe_changes(OLD, OLD).changed
    assert not describe_changes(OLD, "  " + OLD.replace(" ", "  ").replace("\n\n", "\n\n\n")
                                ).changed


def test_a_number_written_otherwise_is_no_change() -> None:
    summary = describe_changes("Police said three people died in the fire on Monday.",
                               "Police said 3 people died in the fire on Monday.")
    assert summary.values == ()


@pytest.mark.parametrize(("old", "new", "kind", "expected"), [
    ("Repairs to the sea wall will cost 4 million euros, the council said.",
     "Repairs to the sea wall will cost 2.5 million euros, the council said.", "money",
     ("4 million euros", "2.5 million euros", "lowered")),
    ("The storm made landfall near Kell on Thursday, forecasters said.",
     "The storm made landfall near Kell on Friday, forecasters said.", "date",
     ("Thursday", "Friday", "changed")),
    ("The appeal was led by harbour master Jon Ellis and raised money for families.",
     "The appeal was led by harbour master Jan Ellison and raised money for families.", "name",
     ("Jon Ellis", "Jan Ellison", "changed")),
    ("Turnout in the ballot was 62% of the union's members, the union said.",
     "Turnout in the ballot was 58% of the union's members, the union said.", "percent",
     ("62%", "58%", "lowered")),
])
def test_each_kind_of_value_is_found_where_the_words_differ(old: str, new: str, kind: str,
                                                           expected: tuple[str, ...]) -> None:
    (value,) = describe_changes(old, new).values
    assert value.kind == kind and (value.old, value.new, value.direction) == expected
    assert value.new_sentence == new and value.old_sentence == old


def test_a_sentence_reworded_without_a_value_is_shown_reworded() -> None:
    summary = describe_changes("Crews worked through the night to clear the quay of debris.",
                               "Crews worked all night long to clear the quay of debris.")
    assert summary.values == () and len(summary.reworded) == 1


def test_a_new_correction_note_is_a_correction_not_an_added_sentence() -> None:
    old = "The bakery opened in 1921 and was run by four generations of the family."
    new = (old.replace("1921", "1912") + "\n\nCorrection: An earlier version of this article "
           "said the bakery opened in 1921. It opened in 1912.")
    summary = describe_changes(old, new)
    assert summary.corrections == ("Correction: An earlier version of this article said the "
                                   "bakery opened in 1921. It opened in 1912.",)
    assert summary.added == ()
    assert [(v.old, v.new) for v in summary.values] == [("1921", "1912")]
    assert summary.lines()[0].startswith("Correction: An earlier version")
    # A note already in the old version is not new.
    again = describe_changes(new, new + " Crowds queued.")
    assert again.corrections == () and again.added == ("Crowds queued.",)


def test_a_correction_note_in_place_of_the_sentence_it_fixes_is_no_edit_of_it() -> None:
    old = "The mayor said the bridge opened in 1921. It carries 9,000 cars a day."
    new = ("The mayor said the bridge opened in 1912. An earlier version of this article said "
           "the bridge opened in 1921. It carries 9,000 cars a day.")
    summary = describe_changes(old, new)
    assert summary.corrections == ("An earlier version of this article said the bridge opened "
                                   "in 1921.",)
    assert [(v.old, v.new) for v in summary.values] == [("1921", "1912")]
    assert summary.added == summary.removed == summary.reworded == ()


@pytest.mark.parametrize("text", [
    "An earlier version of this article gave the wrong date for the vote.",
    "This story has been corrected to show the vote was on Tuesday.",
    "This article was amended on 22 November to correct the spelling of a name.",
    "Clarification: the figures refer to the whole county.",
    "A previous version of this report misstated the fare.",
])
def test_correction_notes_in_newsroom_words(text: str) -> None:
    assert correction_notes(f"The council met on Monday.\n\n{text}") == [text]


@pytest.mark.parametrize("text", [
    "The minister said an earlier version of the bill was withdrawn.",
    "Officials corrected the timetable after complaints.",
    "The correction to house prices continued in November.",
])
def test_news_about_corrections_is_no_correction_note(text: str) -> None:
    assert correction_notes(text) == []


def test_a_changed_headline_is_reported() -> None:
    summary = describe_changes(OLD, OLD, old_title="Storm kills three",
                               new_title="Storm death toll rises to five")
    assert summary.title == ("Storm kills three", "Storm death toll rises to five")
    assert summary.changed


@pytest.mark.parametrize(("question", "topic", "explicit"), [
    ("What changed in the ferry strike story?", "ferry strike", True),
    ("what's changed about the Storm Orla article", "Storm Orla", True),
    ("What has been corrected in the bakery story?", "bakery", True),
    ("What's new in the ferry strike story?", "ferry strike", True),
    ("How has the Storm Orla story changed?", "Storm Orla", True),
    ("Show me the corrections to the museum report", "museum", True),
    ("Was the lighthouse story corrected?", "lighthouse", True),
    ("What changed in the budget?", "budget", False),
])
def test_questions_that_ask_what_changed(question: str, topic: str, explicit: bool) -> None:
    asked = changes_question(question)
    assert asked is not None and (asked.topic, asked.explicit) == (topic, explicit)


@pytest.mark.parametrize("question", [
    "What happened in the ferry strike?", "What's new?", "How much did the repairs cost?",
    "Timeline of the ferry strike", "What's new in the ferry strike?",
])
def test_other_questions_are_not_about_changes(question: str) -> None:
    assert changes_question(question) is None


def when(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def test_composed_changes_cite_the_version_each_line_comes_from() -> None:
    first = ArticleVersion("storm.txt", "Storm kills three", OLD, "h1", published=when(21),
                           seen=when(22, 10), number=1)
    current = ArticleVersion("storm.txt", "Storm kills five", NEW, "h2", published=when(21),
                             updated=when(22))
    half = NEW.index("\n\n")
    chunks = (Passage("storm.txt#0", "storm.txt", "Storm kills five", NEW[:half], 0.0),
              Passage("storm.txt#1", "storm.txt", "Storm kills five", NEW[half + 2:], 0.0))
    composed = compose_changes(StoryHistory(current, chunks, (first,)))
    text, citations = validate_citations(composed.text, composed.passages)
    lines = text.splitlines()
    assert lines[0] == "What changed in “Storm kills five” (2 versions: 21 Nov, updated 22 Nov):"
    toll = next(line for line in lines if line.startswith("Death toll"))
    assert toll.startswith("Death toll raised from 3 to 5 (updated 22 Nov, was 21 Nov) [")
    cited = {c.n: c.passage.chunk_id for c in citations}
    # The new value's sentence is in the first chunk; the old one in the kept version.
    assert toll.endswith(f"[{_n(cited, 'storm.txt#0')}][{_n(cited, 'storm.txt@v1')}]")
    added = next(line for line in lines if line.startswith("Added"))
    assert added.endswith(f"[{_n(cited, 'storm.txt#1')}]")
    removed = next(line for line in lines if line.startswith("Removed"))
    assert "Two fishermen are still missing." in removed
    assert removed.endswith(f"[{_n(cited, 'storm.txt@v1')}]")
    old_passage = next(c.passage for c in citations if c.passage.chunk_id == "storm.txt@v1")
    assert old_passage.text == OLD and old_passage.title == "Storm kills three"


def test_a_correction_note_comes_first_dated_by_the_version_that_added_it() -> None:
    old = "The bakery opened in 1921. Regulars queued for the last loaves."
    new = ("The bakery opened in 1912. Regulars queued for the last loaves.\n\nCorrection: An "
           "earlier version of this article said the bakery opened in 1921.")
    first = ArticleVersion("b", "Bakery closes", old, "h1", published=when(18), number=1,
                           seen=when(19, 12))
    current = ArticleVersion("b", "Bakery closes", new, "h2", published=when(18),
                             updated=when(19, 11))
    composed = compose_changes(StoryHistory(
        current, (Passage("b#0", "b", "Bakery closes", new, 0.0),), (first,)))
    lines = composed.text.splitlines()
    assert lines[1] == ("Correction (updated 19 Nov): An earlier version of this article said "
                        "the bakery opened in 1921. [1]")
    assert composed.notes and len(composed.steps) == 1


def test_a_story_without_earlier_versions_says_so_and_cites_its_text() -> None:
    current = ArticleVersion("lib", "Library hours", "The library opens late.", "h")
    composed = compose_changes(StoryHistory(
        current, (Passage("lib#0", "lib", "Library hours", "The library opens late.", 0.0),)))
    assert composed.text.startswith("No earlier version of “Library hours” is kept")
    assert composed.text.endswith("[1]") and composed.steps == ()


def test_a_correction_note_is_shown_when_no_earlier_version_is_kept() -> None:
    text = ("The bakery opened in 1912.\n\nThis article has been corrected to give the year "
            "the bakery opened.")
    current = ArticleVersion("b", "Bakery", text, "h", updated=when(19))
    composed = compose_changes(StoryHistory(current, (Passage("b#0", "b", "Bakery", text, 0.0),)))
    assert composed.text.splitlines() == [
        "No earlier version of “Bakery” is kept, but it carries a correction:",
        "Correction (updated 19 Nov): This article has been corrected to give the year the "
        "bakery opened. [1]"]


def test_a_version_without_a_new_date_is_dated_by_when_it_was_read() -> None:
    first = ArticleVersion("s", "S", OLD, "h1", published=when(21), seen=when(23, 7), number=1)
    current = ArticleVersion("s", "S", NEW, "h2", published=when(21))
    composed = compose_changes(StoryHistory(current, (Passage("s#0", "s", "S", NEW, 0.0),),
                                            (first,)))
    assert "Death toll raised from 3 to 5 (read 23 Nov, was 21 Nov)" in composed.text


def meta(index: int, count: int, start: int, end: int, content: str = "c1") -> ChunkMeta:
    return ChunkMeta("a", index, count, content, "t1", "Title", start=start, end=end,
                     published=when(21))


def test_the_stored_text_is_rebuilt_from_overlapping_chunks() -> None:
    text = "First sentence here. Second one follows.\n\nA new paragraph. And its end."
    pieces = [(0, 40, text[0:40]), (21, 58, text[21:58]), (42, len(text), text[42:])]
    assert rebuild_text(pieces) == text
    version = stored_version([(meta(i, 3, s, e), t) for i, (s, e, t) in enumerate(pieces)])
    assert version is not None and version.text == text and version.title == "Title"


def test_no_version_is_read_from_an_incomplete_set_of_chunks() -> None:
    text = "One. Two. Three."
    assert stored_version([(meta(0, 2, 0, 4), text[:4]),
                           (meta(1, 3, 5, 9, content="c2"), text[5:9])]) is None


def test_only_a_changed_headline_or_text_is_a_version_to_keep() -> None:
    stored = ArticleVersion("a", "Title", "Body.", "t1")
    same = Article("a", "Title", "Body.", text_hash="t1", updated=when(22))
    assert replaced_version(stored, same) is None  # only its dates changed
    assert replaced_version(stored, Article("a", "Title", "Body!", text_hash="t2")) is stored
    assert replaced_version(stored, Article("a", "New", "Body.", text_hash="t1")) is stored
    assert replaced_version(None, same) is None


def _n(cited: dict[int, str], chunk_id: str) -> int:
    return next(n for n, c in cited.items() if c == chunk_id)


def test_a_sentence_too_long_to_diff_is_told_as_removed_and_added() -> None:
    # A hostile publisher's one-"sentence" article of 8,000 numbers, edited: word diffs
    # and value spans over it cost the square of its length (seconds per comparison).
    for old, new in ((",1" * 8000 + ".", ",1" * 7999 + ",2."),
                     (",1" * 8000 + ".", ",1" * 8000 + "!"),
                     ("big " * 4000 + "news.", "big " * 3999 + "small news.")):
        summary = describe_changes(old, new)
        assert (summary.values, summary.added, summary.removed) == ((), (new,), (old,))
    edited = describe_changes("The toll rose to 2 euros. " + "Big " * 1000 + "news.",
                              "The toll rose to 3 euros. " + "Big " * 1000 + "news!")
    assert [(v.old, v.new) for v in edited.values] == [("2 euros", "3 euros")]

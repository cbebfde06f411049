"""Wire copies share their lead story, not a paragraph: the copy decision reads the
openings (headline and first paragraph) of the two leads (pure; no model, no store)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from ingest.text.near_duplicates import (
    THRESHOLDS,
    Lead,
    copy_group,
    features,
    is_copy,
    opening,
    opening_told,
)
from tests.shared_background import (
    CHIEF_ANSWER,
    CHIEF_OPENING,
    CHIEF_TITLE,
    COPY_ANSWER,
    COPY_OPENING,
    COPY_TITLE,
    MAYOR_ANSWER,
    MAYOR_OPENING,
    MAYOR_TITLE,
    lead_text,
)

DAY = datetime(2026, 11, 24, 9, tzinfo=UTC)
MAYOR = Lead("mayor", "mayor", lead_text(MAYOR_OPENING, MAYOR_ANSWER), DAY, MAYOR_TITLE)
CHIEF = Lead("chief", "chief", lead_text(CHIEF_OPENING, CHIEF_ANSWER), DAY, CHIEF_TITLE)
COPY = Lead("gazette", "gazette", lead_text(COPY_OPENING, COPY_ANSWER), DAY, COPY_TITLE)
# The cosines the real model gives these leads (the interviews 0.81, the copy 0.96).
INTERVIEWS_COSINE, COPY_COSINE = 0.81, 0.96


def test_two_interviews_sharing_a_background_paragraph_are_not_copies() -> None:
    f = features(MAYOR, CHIEF, INTERVIEWS_COSINE)
    # Everything the shared paragraph brings says "copy": the names, every number, the
    # embedding, shingles just short of the resemblance a copy with edits needs...
    assert f.day_gap == 0 and f.numbers == 1.0
    assert f.names is not None and f.names >= THRESHOLDS.rewrite_names
    assert f.cosine >= THRESHOLDS.rewrite_cosine and f.shingles > 0.5
    # ...but neither interview's headline and opening is told by the other.
    assert f.opening is not None and f.opening < 0.25
    assert not is_copy(f)
    # What grouped them before openings (and headlines' names) were read.
    assert is_copy(replace(f, opening=None, headline_names=None))
    assert copy_group(CHIEF, [(MAYOR, INTERVIEWS_COSINE)]) is None
    # A longer shared block (shingles past the resemblance of copies) changes nothing.
    assert not is_copy(replace(f, shingles=0.9, cosine=0.95))


def test_a_copy_of_one_interview_shares_its_opening_and_is_still_a_copy() -> None:
    f = features(MAYOR, COPY, COPY_COSINE)
    assert f.opening is not None and f.opening >= 0.8
    assert is_copy(f)
    assert copy_group(COPY, [(CHIEF, INTERVIEWS_COSINE), (MAYOR, COPY_COSINE)]) == "mayor"


def test_the_opening_is_the_first_paragraph_and_both_must_be_told() -> None:
    assert opening(MAYOR.text) == MAYOR_OPENING
    assert opening("One. Two. Three. Four.\n\nNext paragraph.") == "One. Two. Three."
    assert opening("Single line, no break") == "Single line, no break"
    # Each way: the chief's opening told by a lead holding it is not enough when the
    # mayor's is not told back (the lesser share decides).
    holding = replace(MAYOR, text=f"{MAYOR.text}\n\n{CHIEF_OPENING}", title=MAYOR_TITLE)
    share = opening_told(CHIEF, holding)
    assert share is not None and share < 0.3
    # Nothing to compare (no content words in an opening): the gate says nothing.
    assert opening_told(replace(MAYOR, text="", title=""), CHIEF) is None

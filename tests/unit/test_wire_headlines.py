"""Wire copies are about one subject: two pieces whose leads are all the same background
(two interviews with two candidates of one by-election, each lead the election's background
word for word, the candidate named in the headline and after it) are two stories when each
headline names someone the other never mentions, while another paper's rewrite of one of
them, under a headline in other words naming the same candidate, is still its copy (pure;
the events and people are invented)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from ingest.text.near_duplicates import (
    THRESHOLDS,
    Lead,
    copy_group,
    features,
    headline_names,
    headline_names_untold,
    is_copy,
    untold_names,
)

DAY = datetime(2026, 11, 26, 9, tzinfo=UTC)
BACKGROUND = (
    "Voters in the Harwick constituency go to the polls on Thursday in a by-election called "
    "after the death of Labour Union MP Agnes Thorley, who held the seat for 22 years. "
    "Harwick lies on the Carr estuary and takes in the port town of Selby Quay. At the last "
    "general election Thorley won 58% of the vote, and the seat has not changed hands since "
    "it was created in 1974.\n\n"
    "Pollsters expect a low turnout: 41% voted at the last by-election in the region, at "
    "Marrow Vale in 2024. Five candidates are standing, and the count will be held overnight "
    "at the Selby Quay leisure centre.")
# The rewrite keeps the background, a few words changed.
REWORDED = BACKGROUND.replace("go to the polls on Thursday", "vote on Thursday")

LINDQVIST = Lead(
    "desk/lindqvist", "desk/lindqvist",
    f"{BACKGROUND}\n\nThe Desk spoke to Petra Lindqvist, who is standing for the Green "
    "Alliance. Lindqvist is a marine biologist who ran the Carr estuary survey for nine "
    "years.", DAY,
    "The Desk interviews Petra Lindqvist, Green Alliance candidate in the Harwick by-election")
CASTELLAN = Lead(
    "desk/castellan", "desk/castellan",
    f"{BACKGROUND}\n\nThe Desk spoke to Omar Castellan, a ferry captain standing as an "
    "independent. Castellan has fought the closure of the Selby Quay ferry terminal.", DAY,
    "The Desk interviews Omar Castellan, independent candidate in the Harwick by-election")
# Another paper's rewrite of the Lindqvist interview: a headline sharing two of its words.
REWRITE = Lead(
    "courier/lindqvist", "courier/lindqvist",
    f"{REWORDED}\n\nPetra Lindqvist, the Green Alliance candidate, told the Desk that the "
    "Carr estuary survey she ran for nine years shaped her campaign.", DAY,
    "Marine biologist Lindqvist puts the estuary at the heart of her Harwick bid")
# The cosines the real model gives these leads (first chunks, headers included): the two
# interviews 0.82, the rewrite and its interview 0.95, the rewrite and the other interview
# 0.80.
INTERVIEWS_COSINE, REWRITE_COSINE, ACROSS_COSINE = 0.82, 0.95, 0.80


def test_two_interviews_whose_leads_are_the_same_background_are_not_copies() -> None:
    f = features(LINDQVIST, CASTELLAN, INTERVIEWS_COSINE)
    # Every other feature says "copy": the same day, the same opening paragraph, the same
    # names and numbers, the shingles of a copy with edits, a rewrite's cosine...
    assert f.day_gap == 0 and f.numbers == 1.0 and f.shingles > THRESHOLDS.resemblance
    assert f.opening is not None and f.opening > 0.85
    assert f.names is not None and f.names >= THRESHOLDS.rewrite_names
    assert f.cosine >= THRESHOLDS.rewrite_cosine
    assert is_copy(replace(f, headline_names=None))  # what grouped them before
    # ...but each headline names a candidate the other article never mentions.
    assert untold_names(LINDQVIST, CASTELLAN) == 4  # petra, lindqvist, green, alliance
    assert untold_names(CASTELLAN, LINDQVIST) == 2  # omar, castellan
    assert f.headline_names == 2
    assert not is_copy(f)
    assert copy_group(CASTELLAN, [(LINDQVIST, INTERVIEWS_COSINE)]) is None


def test_a_rewrite_under_another_headline_naming_the_same_candidate_is_a_copy() -> None:
    f = features(LINDQVIST, REWRITE, REWRITE_COSINE)
    assert f.title < 0.3  # the headlines share few words ("lindqvist", "harwick")
    # The rewrite's headline names nothing its original does not tell: the gate says nothing.
    assert untold_names(REWRITE, LINDQVIST) == 0
    assert f.headline_names == 0
    assert is_copy(f)
    # Against the other interview, which shares its background as much: its headline's
    # candidate is never mentioned there, nor the other's in it (one name is enough).
    across = features(REWRITE, CASTELLAN, ACROSS_COSINE)
    assert across.shingles > THRESHOLDS.resemblance
    assert is_copy(replace(across, headline_names=None))
    assert untold_names(REWRITE, CASTELLAN) == 1  # lindqvist
    assert across.headline_names == 1 and not is_copy(across)
    assert copy_group(REWRITE, [(CASTELLAN, ACROSS_COSINE)]) is None
    assert copy_group(REWRITE, [(CASTELLAN, ACROSS_COSINE), (LINDQVIST, REWRITE_COSINE)]) \
        == "desk/lindqvist"


def test_the_names_a_headline_gives() -> None:
    # The first word is capitalised by its place; a possessive's "'s" is dropped.
    assert headline_names("Thieves steal jewels from Dresden museum") == {"dresden"}
    assert headline_names("Fire chief Tomas Riedel's warning") == {"tomas", "riedel"}
    assert headline_names("Ex-Lumen Bank CEO Hale gets 7-year sentence") == {
        "bank", "ceo", "hale"}
    # In title case or capitals, capitals name nothing: nothing is compared.
    assert headline_names("The Desk Interviews Petra Lindqvist, Green Candidate") == set()
    assert headline_names("HARWICK BY-ELECTION: LINDQVIST WINS") == set()
    assert headline_names("") == set()


def test_a_name_is_mentioned_in_any_case_or_by_a_word_of_its_stem() -> None:
    original = Lead("a", "a", "Train drivers walked out across Belgium at dawn.", DAY,
                    "Rail strike halts trains across Belgium")
    rewrite = Lead("b", "b", "Belgian rail traffic stopped as drivers struck at dawn.", DAY,
                   "Strike by Belgian drivers halts Rail traffic")
    assert untold_names(original, rewrite) == 0  # "Belgium" by "Belgian"
    assert untold_names(rewrite, original) == 0  # "Rail" by "rail", "Belgian" by "Belgium"
    # No names in a headline: nothing to compare.
    assert untold_names(replace(original, title="Strike halts trains"), rewrite) is None
    assert headline_names_untold(replace(original, title=""), rewrite) is None

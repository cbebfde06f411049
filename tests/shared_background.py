"""Invented for the wire-copy tests (the events are fictional): two interviews after one
flood, with different people, questions and openings, that share one paragraph of
background word for word, and another paper's copy of the first interview (the same lead,
light edits). The interviews are not copies of each other; the copy is. Before openings were
compared, the two interviews were grouped as wire copies (the shared paragraph gave them
the names, the numbers and an embedding cosine of 0.81)."""

from __future__ import annotations

from pathlib import Path

BACKGROUND = (
    "The flood of 18 November destroyed the Kessel bridge and damaged 340 homes in Altmarkt "
    "after the Elme rose 4.2 metres in a single night. Around 1,200 residents of Altmarkt and "
    "Neudorf were evacuated to the Stadthalle and two schools, and 60 families are still in "
    "emergency housing. The regional government of Upper Elme has promised 25 million euros "
    "in emergency aid, and Chancellor Petra Lange visited the town on 20 November. Engineers "
    "from the federal agency THW are still assessing 3 kilometres of river walls, and the "
    "Kessel road will stay closed until at least January.")

MAYOR_TITLE = 'Mayor Lena Voss: "We will rebuild the bridge by spring"'
MAYOR_OPENING = ("Mayor Lena Voss told us the town will have a temporary crossing open "
                 "before Christmas.")
MAYOR_ANSWER = ('What was the hardest moment of the night?\n\n"Seeing the bridge go at four in '
                'the morning. We had cleared it twenty minutes earlier," Voss said.')

CHIEF_TITLE = 'Fire chief Tomas Riedel: "Our sirens failed in the lower town"'
CHIEF_OPENING = ("Fire chief Tomas Riedel admits the flood sirens in the lower town did not "
                 "sound.")
CHIEF_ANSWER = ('Why did the sirens not sound?\n\n"A power cut took out the control box on '
                'Hafenstrasse. The backup battery was flat," Riedel said.')

# Another paper's copy of the mayor's interview: a new headline, a few words changed.
COPY_TITLE = "Altmarkt mayor Voss promises new bridge by spring"
COPY_OPENING = ("Mayor Lena Voss said the town will have a temporary crossing open before "
                "Christmas.")
COPY_ANSWER = MAYOR_ANSWER.replace("the hardest moment", "the worst moment")

DAY = "24 November 2026"


def lead_text(opening: str, answer: str) -> str:
    """An interview's body (its lead, as ingest chunks it: it fits one chunk)."""
    return f"{opening}\n\n{BACKGROUND}\n\n{answer}"


def article(title: str, opening: str, answer: str) -> str:
    """The interview as a markdown article: a title line, a date line, the body."""
    return f"# {title}\n\n{DAY}\n\n{lead_text(opening, answer)}\n"


def write_interviews(folder: Path, with_copy: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mayor-interview.md").write_text(article(MAYOR_TITLE, MAYOR_OPENING, MAYOR_ANSWER))
    (folder / "fire-chief-interview.md").write_text(
        article(CHIEF_TITLE, CHIEF_OPENING, CHIEF_ANSWER))
    if with_copy:
        (folder / "mayor-interview-gazette.md").write_text(
            article(COPY_TITLE, COPY_OPENING, COPY_ANSWER))
    return folder

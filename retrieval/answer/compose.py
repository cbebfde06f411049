"""The answer's text: the chosen sentences with `[n]` markers, led by the value when it is
shown, or the abstention that names the closest articles (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from retrieval.answer.extractive import Evidence
from retrieval.question.time_window import day_label
from retrieval.records import ABSTENTION, Passage, closest_articles


def compose(evidence: Evidence, max_words: int) -> str:
    """Answer text with a `[n]` marker (1-based passage number) after each sentence, led by
    the asked-for value when the lead model is confident of it; a single sentence longer than
    the word limit is cut with an ellipsis. A sentence that dates its event relative to its
    article ("yesterday") is followed by the article's date. With `missing`, what the
    articles say instead, plainly marked."""
    if evidence.missing:
        best = evidence.chosen[0]
        asked = ", ".join(f"“{w}”" for w in evidence.missing)
        return (f"The articles don't say this for {asked}. The closest they come: "
                f"{best.text} [{best.passage_index + 1}]")
    parts: list[str] = []
    lead = evidence.span if evidence.span_shown else None
    if evidence.as_of is not None:
        date = day_label(evidence.as_of)
        parts = [f"{lead}, as of {date} —"] if lead else [f"As of {date}:"]
    elif lead:
        parts = [f"{lead} —"]
    budget = max_words
    referent = evidence.referent
    if referent is not None and referent.words + evidence.chosen[0].words <= max_words:
        parts.append(f"{referent.text} [{referent.passage_index + 1}]")
        budget -= referent.words
    for number, candidate in enumerate(evidence.chosen):
        words = candidate.text.split()
        if budget <= 0:
            break
        text = candidate.text if len(words) <= budget else " ".join(words[:budget]) + " …"
        budget -= len(words)
        dated = evidence.dated.get(number)
        if dated is not None and evidence.as_of is None:
            text += f" (reported {day_label(dated)})"
        parts.append(f"{text} [{candidate.passage_index + 1}]")
    return " ".join(parts)


def abstention_text(passages: Sequence[Passage], closest: int = 3) -> str:
    titles = [f"“{p.title}”" + (f" ({', '.join(p.details)})" if p.details else "")
              for p in closest_articles(passages, closest)]
    text = ABSTENTION
    if titles:
        text += " The closest articles: " + "; ".join(titles) + "."
    return text

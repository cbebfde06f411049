"""Terminal rendering (bot/cli/terminal.py): pure strings from the structured Answer."""

from __future__ import annotations

import click

from bot.cli.terminal import answer_screen, distinct, lead_in_bold, passages_text
from retrieval.question.time_window import TimeWindow
from retrieval.records import Answer, AnswerSpan, Passage


def test_a_confidence_just_under_its_threshold_never_prints_as_equal() -> None:
    assert distinct(0.8499, 0.85) == ("0.8499", "0.8500")
    assert distinct(0.64, 0.85) == ("0.64", "0.85")
    assert distinct(0.85, 0.85) == ("0.85", "0.85")


def test_the_lead_value_is_bold_only_when_the_answer_leads_with_it() -> None:
    shown = Answer(question="q", answer="84 million euros — The repair cost [1].",
                   abstained=False, citations=(), passages=(),
                   answer_span=AnswerSpan("84 million euros", 1, 0.95, True))
    hidden = Answer(question="q", answer="The repair cost 84 million euros [1].",
                    abstained=False, citations=(), passages=(),
                    answer_span=AnswerSpan("84 million euros", 1, 0.6, False))
    assert lead_in_bold(shown) == click.style("84 million euros", bold=True) + \
        " — The repair cost [1]."
    assert lead_in_bold(hidden) == hidden.answer


def test_the_window_is_named_above_the_answer_and_the_note_goes_apart() -> None:
    answer = Answer(question="q", answer="No articles say.", abstained=True, citations=(),
                    passages=(), note="the LLM timed out; this is the extractive answer",
                    window=TimeWindow(None, None, "ever"))
    screen = answer_screen(answer)
    assert click.unstyle(screen.out).splitlines() == ["All articles:", "No articles say."]
    assert "timed out" in click.unstyle(screen.note)


def test_an_empty_search_says_so() -> None:
    assert click.unstyle(passages_text([], TimeWindow(None, None))) == \
        "All articles:\nNo passages match. Try a wider window."
    listed = click.unstyle(passages_text([Passage(
        chunk_id="a#0", article_id="a", title="Bridge reopens", text="The bridge reopened.",
        score=0.5)]))
    assert listed.startswith("1. ") and "The bridge reopened." in listed


def test_two_passages_of_one_article_are_one_source() -> None:
    from retrieval.records import Citation

    def chunk(article: str, n: int, title: str) -> Passage:
        return Passage(chunk_id=f"{article}#{n}", article_id=article, title=title,
                       text="Text.", score=0.5)

    one, two, other = chunk("a", 0, "Bridge reopens"), chunk("a", 1, "Bridge reopens"), \
        chunk("b", 0, "Ferry strike ends")
    answer = Answer(question="q", answer="One. [1] Two. [2] Three. [3]", abstained=False,
                    citations=(Citation(1, one), Citation(2, two), Citation(3, other)),
                    passages=(one, two, other))
    lines = click.unstyle(answer_screen(answer).out).splitlines()
    assert lines[-2:] == ["  [1][2] Bridge reopens [a]", "  [3] Ferry strike ends [b]"]

"""The shipped int8 reader (retrieval/answer/reader_model/) on invented passages."""

from __future__ import annotations

import pytest

from retrieval.answer.reader import Reader, ReaderInput, model_directory, span_text
from retrieval.answer.spans import shaped_span
from retrieval.question.answer_types import answer_type

HEADLINE = "Basketball star killed in helicopter crash"
ARTICLE = [
    "A former basketball star and eight other people have died in a helicopter accident.",
    "The helicopter crashed in Calabasas on Sunday.",
    "Fans gathered outside the arena in Los Angeles to pay tribute.",
    "The pilot had asked for special permission to fly in thick fog, officials said.",
    "A tweet from the league said it was devastated by the news.",
]
OTHER = [
    "The city council voted to raise parking fees by 10% next year.",
    "Shares in the carmaker rose 4% after it reported record sales.",
]


def candidates(sentences: list[str], headline: str,
               context: str | None = None) -> list[ReaderInput]:
    return [ReaderInput(sentence=s,
                        previous=sentences[i - 1] if i else "",
                        next=sentences[i + 1] if i + 1 < len(sentences) else "",
                        headline=headline, question_context=context)
            for i, s in enumerate(sentences)]


@pytest.fixture(scope="module")
def reader() -> Reader:
    assert (model_directory() / "model.onnx").is_file(), "the reader model is not shipped"
    return Reader(threads=2)


def test_the_reader_finds_the_sentence_and_the_span(reader: Reader) -> None:
    pool = candidates(ARTICLE, HEADLINE) + candidates(OTHER, "Council news")
    readings = reader.read("Where did the helicopter crash?", pool)
    assert len(readings) == len(pool)
    best = max(range(len(pool)), key=lambda i: readings[i].p_answer)
    assert pool[best].sentence == "The helicopter crashed in Calabasas on Sunday."
    assert "Calabasas" in span_text(pool[best], readings[best])
    # ahead of the lead that tells of the crash without its place, and far ahead of the other
    # article's sentences (its calibration is the answerer's weights' job)
    assert all(readings[best].p_answer > r.p_answer for i, r in enumerate(readings) if i != best)
    assert all(readings[best].p_answer > 10 * r.p_answer for r in readings[len(ARTICLE):])
    assert 0.0 <= reader.no_answer(readings) < reader.thresholds["no_answer"]  # not refused
    assert reader.last_cost.candidates == len(pool)


NUMBER_SENTENCES = ["Volodymyr Zhukovskyy, 23, pleaded not guilty to seven counts of "
                    "negligent homicide.",
                    "The crash in New Hampshire killed seven motorcyclists.",
                    "His lawyer said he would contest the charges."]
NUMBER_QUESTION = "How old is the driver charged over the motorcycle crash?"


def test_the_span_head_takes_the_age_from_the_sentence_that_has_it(reader: Reader) -> None:
    pool = candidates(NUMBER_SENTENCES, "Driver pleads not guilty over motorcycle crash")
    readings = reader.read(NUMBER_QUESTION, pool)
    # run 3's span reads "Volodymyr Zhukovskyy, 23": the age, with the name it belongs to;
    # the engine's value shaping (spans.shaped_span) makes it the asked-for number
    assert "23" in span_text(pool[0], readings[0])
    span = readings[0].span
    assert span is not None
    start, end = shaped_span(pool[0].sentence, *span, NUMBER_QUESTION,
                             answer_type(NUMBER_QUESTION))
    assert pool[0].sentence[start:end].strip(" ,") == "23"


def test_a_number_question_ranks_the_sentence_with_the_number_first(reader: Reader) -> None:
    pool = candidates(NUMBER_SENTENCES, "Driver pleads not guilty over motorcycle crash")
    readings = reader.read(NUMBER_QUESTION, pool)
    assert max(range(len(pool)), key=lambda i: readings[i].p_answer) == 0


def test_a_question_no_candidate_answers_scores_higher_no_answer(reader: Reader) -> None:
    pool = candidates(OTHER, "Council news")
    unanswered = reader.no_answer(reader.read("Who won the rugby grand final?", pool))
    answered = reader.no_answer(reader.read("Where did the helicopter crash?",
                                            candidates(ARTICLE, HEADLINE)))
    assert unanswered > answered


def test_spans_lie_inside_their_sentences_and_thresholds_ship(reader: Reader) -> None:
    pool = candidates(ARTICLE, HEADLINE, context="Who died in the crash?")
    for candidate, reading in zip(pool, reader.read("When did it happen?", pool),
                                  strict=True):
        assert 0.0 <= reading.p_answer <= 1.0
        assert 0.0 <= reading.span_probability <= 1.0
        assert reading.span is not None
        assert 0 <= reading.span[0] < reading.span[1] <= len(candidate.sentence)
    # The reader's own thresholds, chosen by its training run
    # (retrieval/answer/reader_model/README.md).
    assert set(reader.thresholds) == {"no_answer", "bold"}
    assert all(0.0 < value < 1.0 for value in reader.thresholds.values())

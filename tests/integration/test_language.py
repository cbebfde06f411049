"""The question-language check (retrieval/question/language.py) with the packaged langid model: full
questions in the six languages an archive holds besides English are told apart; a name or a
few keywords stay English (the trained answerer's)."""

from __future__ import annotations

import pytest

from retrieval.question.language import is_english, question_language


@pytest.mark.parametrize(("question", "language"), [
    ("How much did the bridge repair cost?", "en"),
    ("Where did Kobe Bryant's helicopter crash?", "en"),
    ("What did Merkel say in Berlin?", "en"),
    ("Wie viel kostet die Sanierung der Hafenbrücke in Kellbach?", "de"),
    ("Wann soll die Brücke wieder öffnen?", "de"),
    ("Combien a coûté la rénovation du pont ?", "fr"),
    ("¿Cuánto costó la reparación del puente?", "es"),
    ("Quanto è costata la riparazione del ponte?", "it"),
    ("Hoeveel heeft de reparatie van de brug gekost?", "nl"),
    ("Quanto custou a reparação da ponte?", "pt"),
])
def test_a_question_is_read_in_its_language(question: str, language: str) -> None:
    assert question_language(question) == language


@pytest.mark.parametrize("words", ["Bayern Munich result?", "Arsenal v Chelsea score",
                                   "Petra Lindner", "Tony Blair resignation date"])
def test_names_and_keywords_count_as_english(words: str) -> None:
    assert is_english(words)

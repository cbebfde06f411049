"""How the answer engine weighs the ranker and the reader for one candidate sentence (pure).

A logistic model over a handful of model outputs — no word lists, no hand-made sentence
features. Its weights and thresholds are fitted by `bench/fit_answerer.py` on fold 5 of our
question set (neither model trained on it) and shipped in
`retrieval/answer/ranker_model/ranker.json`
("answerer"); figures in `retrieval/answer/ranker_model/answerer_figures.json`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# No rank feature: it split near-ties in the ranker's cosine by a whole step (a cost sentence
# lost to an overrun sentence 0.001 of cosine behind); without it fold 5 and dev chose right
# more often (bench/fit_answerer.py, 5 Dec 2026: 0.769 → 0.785 and 0.728 → 0.735).
FEATURES = ("cosine", "cosine_gap", "reader_logit", "span_probability", "lead")


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def features(cosine: float, best_cosine: float, p_answer: float, span_probability: float,
             place: int) -> dict[str, float]:
    """One read candidate's inputs to the model.

    cosine: the ranker's question-sentence cosine; best_cosine: the best among every
    candidate of the question (so the gap says how far behind this one is); p_answer and
    span_probability: the reader's (0..1); place: the sentence's position in its article
    (0 = headline, 1 = the lead, ...)."""
    return {"cosine": cosine, "cosine_gap": cosine - best_cosine,
            "reader_logit": _logit(p_answer), "span_probability": span_probability,
            "lead": 1.0 if place <= 1 else 0.0}


# The bold value's model: whether the chosen sentence's span is the answer, from what the
# models said of it and of the question (fitted out of fold by bench/answer_thresholds.py).
BOLD_FEATURES = ("probability_logit", "span_probability", "reader_logit", "margin",
                 "asks_value", "asks_name", "span_is_value", "span_words", "span_in_question")
_VALUE_KINDS = ("money", "number", "percent", "date")
_NAME_KINDS = ("person", "place", "name")


def bold_features(probability: float, span_probability: float, p_answer: float,
                  second: float, kind: str, span_words: int, span_is_value: bool,
                  span_in_question: float) -> dict[str, float]:
    """The bold model's inputs for the chosen sentence.

    probability: the join's P(this sentence holds the answer); span_probability and p_answer:
    the reader's (0..1); second: the next sentence's probability (0 when none); kind: the
    asked-for kind (retrieval.question.answer_types.AnswerType's value); span_words: the span's
    length in words; span_is_value: whether the span is exactly an amount, date, number or
    name as the value patterns find them; span_in_question: share of the span's words the
    question already holds (0..1)."""
    return {"probability_logit": _logit(probability), "span_probability": span_probability,
            "reader_logit": _logit(p_answer), "margin": probability - second,
            "asks_value": 1.0 if kind in _VALUE_KINDS else 0.0,
            "asks_name": 1.0 if kind in _NAME_KINDS else 0.0,
            "span_is_value": 1.0 if span_is_value else 0.0,
            "span_words": math.log1p(span_words), "span_in_question": span_in_question}


@dataclass(frozen=True)
class BoldModel:
    """Logistic weights in BOLD_FEATURES order and a bias: P(the span shown in bold is the
    answer)."""

    weights: tuple[float, ...]
    bias: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BoldModel:
        """From ranker.json's "answerer" → "bold_model". ValueError when its features are not
        ours."""
        if tuple(config.get("features", ())) != BOLD_FEATURES:
            raise ValueError(f"bold model features {config.get('features')} are not "
                             f"{BOLD_FEATURES}")
        return cls(tuple(float(w) for w in config["weights"]), float(config["bias"]))

    def probability(self, values: Mapping[str, float]) -> float:
        z = self.bias + sum(w * values[name] for w, name in zip(self.weights, BOLD_FEATURES,
                                                                 strict=True))
        return 1 / (1 + math.exp(-max(min(z, 40.0), -40.0)))


@dataclass(frozen=True)
class AnswerWeights:
    """The fitted model: weights in FEATURES order, bias; `read` how many of the ranker's best
    candidates the reader reads; `refuse_below` the probability under which the best
    candidate does not answer; `bold` the confidence from which its span is shown in bold:
    `bold_model`'s probability, or without one probability × span probability."""

    weights: tuple[float, ...]
    bias: float
    read: int = 8
    refuse_below: float = 0.2
    bold: float = 0.9
    bold_model: BoldModel | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AnswerWeights:
        """From ranker.json's "answerer" entry. ValueError when its features are not ours."""
        if tuple(config.get("features", ())) != FEATURES:
            raise ValueError(f"answerer features {config.get('features')} are not {FEATURES}")
        bold_model = config.get("bold_model")
        return cls(tuple(float(w) for w in config["weights"]), float(config["bias"]),
                   int(config.get("read", 8)), float(config["refuse_below"]),
                   float(config["bold"]),
                   BoldModel.from_config(bold_model) if bold_model else None)

    def probability(self, values: Mapping[str, float]) -> float:
        """P(this sentence holds the answer), 0..1."""
        z = self.bias + sum(w * values[name] for w, name in zip(self.weights, FEATURES,
                                                                 strict=True))
        return 1 / (1 + math.exp(-max(min(z, 40.0), -40.0)))

    def contributions(self, values: Mapping[str, float]) -> dict[str, float]:
        """Each feature's share of the logit, largest first (for --explain)."""
        parts = {name: w * values[name] for w, name in zip(self.weights, FEATURES,
                                                           strict=True)}
        return dict(sorted(parts.items(), key=lambda kv: -abs(kv[1])))


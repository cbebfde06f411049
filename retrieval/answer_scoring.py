"""How the answer engine weighs the ranker and the reader for one candidate sentence (pure).

A logistic model over a handful of model outputs — no word lists, no hand-made sentence
features. Its weights and thresholds are fitted by `bench/fit_answerer.py` on fold 5 of our
question set (neither model trained on it) and shipped in `retrieval/ranker_model/ranker.json`
("answerer"); figures in `retrieval/ranker_model/answerer_figures.json`.
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


@dataclass(frozen=True)
class AnswerWeights:
    """The fitted model: weights in FEATURES order, bias; `read` how many of the ranker's best
    candidates the reader reads; `refuse_below` the probability under which the best
    candidate does not answer; `bold` the confidence (probability × span probability) from
    which its span is shown in bold."""

    weights: tuple[float, ...]
    bias: float
    read: int = 8
    refuse_below: float = 0.2
    bold: float = 0.9

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AnswerWeights:
        """From ranker.json's "answerer" entry. ValueError when its features are not ours."""
        if tuple(config.get("features", ())) != FEATURES:
            raise ValueError(f"answerer features {config.get('features')} are not {FEATURES}")
        return cls(tuple(float(w) for w in config["weights"]), float(config["bias"]),
                   int(config.get("read", 8)), float(config["refuse_below"]),
                   float(config["bold"]))

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


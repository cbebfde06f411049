"""The extractive answerer's learned scorers: linear models over named features (pure).

Two logistic-regression models, fitted by `bench/train_scorer.py` on labelled questions
(bbc-qa `dev.jsonl` ∪ `dev2.jsonl`) and shipped as `retrieval/answer/answer_model.json`:

- `sentence`: P(a candidate sentence holds the answer), from the features of
  retrieval.answer.candidates (topic coverage, focus, type fit, span fit, semantic similarity...).
  The best sentence is answered with when its probability clears `abstain_below`.
- `lead`: P(the value found in the best sentence is the right answer). The value is shown
  first, in bold, only when this clears `lead_above`, a threshold chosen for precision.

Evaluating a model needs no scikit-learn: a dot product and a logistic function. Features a
model does not know count as 0; features it knows that a candidate lacks count as 0 too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MODEL_FORMAT = 1


class ModelFormatError(ValueError):
    """The model file is not of a format this code reads."""


@dataclass(frozen=True)
class LinearModel:
    """logit = bias + Σ weight·value over `features`; standardisation is folded in."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float

    def logit(self, values: Mapping[str, float]) -> float:
        return self.bias + sum(w * values.get(f, 0.0)
                               for f, w in zip(self.features, self.weights, strict=True))

    def probability(self, values: Mapping[str, float]) -> float:
        return sigmoid(self.logit(values))

    def contributions(self, values: Mapping[str, float]) -> dict[str, float]:
        """Each feature's share of the logit (weight × value), largest magnitude first."""
        parts = {f: w * values.get(f, 0.0)
                 for f, w in zip(self.features, self.weights, strict=True)}
        return dict(sorted(parts.items(), key=lambda kv: -abs(kv[1])))

    def as_dict(self) -> dict[str, Any]:
        return {"features": list(self.features), "weights": [round(w, 6) for w in self.weights],
                "bias": round(self.bias, 6)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinearModel:
        features = tuple(str(f) for f in data["features"])
        weights = tuple(float(w) for w in data["weights"])
        if len(features) != len(weights):
            raise ModelFormatError("a model needs one weight per feature")
        return cls(features, weights, float(data["bias"]))


@dataclass(frozen=True)
class AnswerModel:
    """The two scorers and their decision thresholds (probabilities, 0..1), with where they
    came from (`source`: the training run and its out-of-fold figures)."""

    sentence: LinearModel
    lead: LinearModel
    abstain_below: float
    lead_above: float
    source: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"format": MODEL_FORMAT, "sentence": self.sentence.as_dict(),
                "lead": self.lead.as_dict(), "abstain_below": round(self.abstain_below, 4),
                "lead_above": round(self.lead_above, 4), "source": dict(self.source)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnswerModel:
        if data.get("format") != MODEL_FORMAT:
            raise ModelFormatError(f"answer model format {data.get('format')!r}, "
                                   f"expected {MODEL_FORMAT}")
        return cls(LinearModel.from_dict(data["sentence"]), LinearModel.from_dict(data["lead"]),
                   float(data["abstain_below"]), float(data["lead_above"]),
                   dict(data.get("source", {})))


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))

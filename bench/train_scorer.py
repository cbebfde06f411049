"""Fit the extractive answerer's scorers on labelled questions, report them out of fold, and
write the model the package ships (retrieval/answer/answer_model.json).

    python bench/train_scorer.py --data-dir DIR [--questions A.jsonl B.jsonl] [--write]

--data-dir holds a Newsdesk store of the questions' corpus (`newsdesk ingest
../shared/bench/bbc`). Default questions: bbc-qa dev.jsonl ∪ dev2.jsonl (320).

1. Rows: for each question, the passages the engine's answerer reads, and every candidate
   sentence with its features (retrieval.answer.candidates.candidate_table; semantic similarity
   for all of them). A sentence that holds the gold answer (or an alias) is a positive.
   Rows are cached beside the results (delete the cache after changing features).
2. Folds: 5-fold cross-validation grouped by article (questions that share an evidence
   article stay on one side); unanswerable questions are their own groups.
3. In each fold the sentence model (logistic regression, standardised features) is fitted
   on the training folds; the lead model is fitted on the training folds' best sentences
   as scored by inner out-of-fold sentence models; both thresholds are chosen on those
   inner out-of-fold scores (abstention: the most right answers with at most 8% of
   answerable questions refused; lead: the lowest confidence whose precision's 80% lower
   confidence bound is >= 0.9).
   The held-out fold is then answered by the real engine with that fold's model and scored
   with the bbc-qa rules (retrieval.answer.evaluation): the out-of-fold figures.
4. --write fits on all questions and writes the model, with the out-of-fold figures in its
   `source`.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, SHARED, median, save
from bot.factory import Components
from config import load_settings
from ingest.embed.embedder import EmbeddingSimilarity
from retrieval.answer.candidates import Candidate, candidate_table, lead_features
from retrieval.answer.evaluation import EvalQuestion, answer_matches, score_question, summarise
from retrieval.answer.extractive_config import ExtractiveConfig
from retrieval.answer.scorer import AnswerModel, LinearModel
from retrieval.engine import AnswerEngine
from retrieval.question.intent import read_asked
from retrieval.question.reading import read_question

KS = [1, 5, 10]
FOLDS = 5
MAX_FALSE_ABSTENTION = 0.08
LEAD_PRECISION = 0.9
MODEL_PATH = Path(__file__).resolve().parent.parent / "retrieval" / "answer" / "answer_model.json"


@dataclass
class Row:
    """One question's candidates: feature dicts, labels, and what the lead model needs."""

    item: EvalQuestion
    candidates: list[Candidate]
    labels: list[int]
    reading_text: str
    context: str

    def label_of(self, candidate: Candidate) -> int:
        return dict(zip((c.text for c in self.candidates), self.labels, strict=True)).get(
            candidate.text, 0)


def load_questions(paths: Sequence[Path]) -> list[EvalQuestion]:
    items = []
    for path in paths:
        items += [EvalQuestion.model_validate_json(line)
                  for line in path.read_text().splitlines() if line.strip()]
    return items


@dataclass
class Retrieved:
    """What the answerer reads for one question, and the similarity of each sentence to it
    (the costly part: one model call per sentence), cached between runs."""

    passages: list[Any]
    context: str
    similarity: dict[str, float]


def retrieve(engine: AnswerEngine, components: Components, items: list[EvalQuestion],
             config: ExtractiveConfig, cache: dict[str, Retrieved]) -> dict[str, Retrieved]:
    similarity = EmbeddingSimilarity(components.query_embedder)
    analyzer = components.keyword_index.latest()
    for number, item in enumerate(items, start=1):
        if item.id in cache:
            continue
        history = [(question, answer) for question, answer in item.history]
        asked = read_asked(item.question, history)
        passages = engine.retrieve(engine.search_text(asked, history), max(KS), None).read
        candidates = candidate_table(item.question, passages, analyzer, config, asked.context,
                                     similarity)
        cache[item.id] = Retrieved(list(passages), asked.context,
                                   {c.text: c.features["similarity"] for c in candidates})
        if number % 40 == 0:
            print(f"  retrieved: {number}/{len(items)}", file=sys.stderr)
    return cache


def collect(items: list[EvalQuestion], cache: dict[str, Retrieved], analyzer: Any,
            config: ExtractiveConfig) -> list[Row]:
    """Candidates with today's features (recomputed: cheap), similarity from the cache."""
    rows = []
    for item in items:
        got = cache[item.id]
        candidates = [replace(c, features={**c.features,
                                           "similarity": got.similarity.get(c.text, 0.0)})
                      for c in candidate_table(item.question, got.passages, analyzer, config,
                                               got.context)]
        labels = [int(item.answerable and answer_matches(c.text, item.answer, item.aliases))
                  for c in candidates]
        rows.append(Row(item, candidates, labels, item.question, got.context))
    return rows


def groups(items: list[EvalQuestion]) -> list[int]:
    """Connected components of questions that share an evidence article."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for item in items:
        docs = [e.doc for e in item.evidence] or [f"q:{item.id}"]
        for doc in docs[1:]:
            parent[find(doc)] = find(docs[0])
    roots: dict[str, int] = {}
    out = []
    for item in items:
        root = find(item.evidence[0].doc if item.evidence else f"q:{item.id}")
        out.append(roots.setdefault(root, len(roots)))
    return out


def fit_linear(x: np.ndarray, y: np.ndarray, features: Sequence[str], c: float = 1.0
               ) -> LinearModel:
    """Logistic regression on standardised features, folded back to raw-feature weights."""
    from sklearn.linear_model import LogisticRegression

    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit((x - mean) / std, y)
    weights = model.coef_[0] / std
    bias = float(model.intercept_[0] - (model.coef_[0] * mean / std).sum())
    return LinearModel(tuple(features), tuple(float(w) for w in weights), bias)


def sentence_matrix(rows: Sequence[Row], features: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    x = [[c.features.get(f, 0.0) for f in features] for r in rows for c in r.candidates]
    y = [label for r in rows for label in r.labels]
    return np.array(x, dtype=float).reshape(-1, len(features)), np.array(y)


def best_of(row: Row, model: LinearModel) -> tuple[list[Candidate], Candidate | None]:
    scored = sorted((replace(c, score=model.probability(c.features)) for c in row.candidates),
                    key=lambda c: -c.score)
    return scored, (scored[0] if scored else None)


LEAD_FEATURES = ("sentence_logit", "margin", "span_near", "span_counted", "span_choices",
                 "agreement", "span_in_title", "span_words", "kind_money", "kind_number",
                 "kind_percent", "kind_date", "kind_person", "kind_place", "kind_name")


def inner_scores(rows: list[Row], features: Sequence[str], fold_groups: list[int]
                 ) -> list[tuple[Row, list[Candidate]]]:
    """Each row's candidates scored by a sentence model that did not see it (inner CV)."""
    from sklearn.model_selection import GroupKFold

    out: list[tuple[Row, list[Candidate]]] = [None] * len(rows)  # type: ignore[list-item]
    for train, test in GroupKFold(n_splits=FOLDS).split(rows, groups=fold_groups):
        model = fit_linear(*sentence_matrix([rows[i] for i in train], features), features)
        for i in test:
            out[i] = (rows[i], best_of(rows[i], model)[0])
    return out


def fit_lead(scored: list[tuple[Row, list[Candidate]]], analyzer_free_reading: Any
             ) -> tuple[LinearModel, list[tuple[float, bool]]]:
    x, y = [], []
    for row, ranked in scored:
        if not ranked or ranked[0].span is None:
            continue
        reading = analyzer_free_reading(row)
        values = lead_features(reading, ranked[0], ranked)
        x.append([values.get(f, 0.0) for f in LEAD_FEATURES])
        y.append(int(row.item.answerable and answer_matches(ranked[0].span.text, row.item.answer,
                                                            row.item.aliases)))
    xa, ya = np.array(x, dtype=float), np.array(y)
    model = fit_linear(xa, ya, LEAD_FEATURES, c=0.5)
    pairs = [(model.probability(dict(zip(LEAD_FEATURES, v, strict=True))), bool(label))
             for v, label in zip(x, y, strict=True)]
    return model, pairs


def choose_abstain(scored: list[tuple[Row, list[Candidate]]]) -> float:
    """The threshold with the most right decisions, refusing at most 8% of answerable."""
    best_t, best_right = 0.0, -1.0
    answerable = sum(r.item.answerable for r, _ in scored)
    for t in np.arange(0.02, 0.9, 0.01):
        right, refused = 0, 0
        for row, ranked in scored:
            p = ranked[0].score if ranked else 0.0
            holds = bool(ranked) and row.label_of(ranked[0]) == 1
            if row.item.answerable:
                refused += p < t
                right += p >= t and holds
            else:
                right += p < t
        if refused / max(1, answerable) <= MAX_FALSE_ABSTENTION and right > best_right:
            best_t, best_right = float(t), right
    return best_t


def choose_lead(pairs: list[tuple[float, bool]]) -> float:
    """The lowest confidence at which the values shown are right with a precision whose
    lower confidence bound (Wilson, z = 0.84: one-sided 80%) is >= LEAD_PRECISION: a small
    lucky streak does not set the threshold."""
    for t in np.arange(0.3, 0.99, 0.01):
        shown = [right for p, right in pairs if p >= t]
        if shown and wilson_lower(sum(shown), len(shown)) >= LEAD_PRECISION:
            return float(t)
    return 0.99


def wilson_lower(successes: int, n: int, z: float = 0.84) -> float:
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * ((p * (1 - p) + z * z / (4 * n)) / n) ** 0.5
    return (centre - spread) / (1 + z * z / n)


def fit_all(rows: list[Row], features: Sequence[str], analyzer: Any) -> AnswerModel:
    fold_groups = groups([r.item for r in rows])
    sentence = fit_linear(*sentence_matrix(rows, features), features)
    scored = inner_scores(rows, features, fold_groups)

    def reading(row: Row) -> Any:
        return read_question(row.reading_text, analyzer, row.context)

    lead, pairs = fit_lead(scored, reading)
    return AnswerModel(sentence, lead, choose_abstain(scored), choose_lead(pairs))


def evaluate(engine: AnswerEngine, items: list[EvalQuestion]) -> tuple[list[Any], list[float]]:
    scores, latencies = [], []
    for item in items:
        started = time.perf_counter()
        answer = engine.ask(item.question, [tuple(t) for t in item.history], k=max(KS))
        latencies.append(time.perf_counter() - started)
        scores.append(score_question(item, answer, KS, max(KS)))
    return scores, latencies


FEATURES = ("topic", "focus", "context", "coverage", "prior", "passage", "type_ok", "type_miss",
            "reason", "lead", "position", "length", "missing", "repeated", "span", "span_near",
            "span_counted", "similarity", "focus_prefix", "pairs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--questions", type=Path, nargs="+",
                        default=[SHARED / "bbc-qa" / "dev.jsonl", SHARED / "bbc-qa" / "dev2.jsonl"])
    parser.add_argument("--cache", type=Path, default=RESULTS / "cache" / "scorer-retrieved.pkl")
    parser.add_argument("--write", action="store_true",
                        help="write retrieval/answer/answer_model.json")
    parser.add_argument("--no-cv", action="store_true")
    args = parser.parse_args()

    components = Components(load_settings(data_dir=str(args.data_dir)))
    engine = components.build_engine()
    answerer: Any = engine.answerer
    items = load_questions(args.questions)
    config: ExtractiveConfig = answerer.config
    analyzer = components.keyword_index.latest()
    cache = pickle.loads(args.cache.read_bytes()) if args.cache.exists() else {}
    if any(item.id not in cache for item in items):
        cache = retrieve(engine, components, items, config, cache)
        args.cache.parent.mkdir(parents=True, exist_ok=True)
        args.cache.write_bytes(pickle.dumps(cache))
    rows = collect(items, cache, analyzer, config)
    features = FEATURES
    report: dict[str, Any] = {"questions": len(rows), "features": list(features)}

    if not args.no_cv:
        from sklearn.model_selection import GroupKFold

        fold_groups = groups([r.item for r in rows])
        all_scores, latencies, thresholds = [], [], []
        for fold, (train, test) in enumerate(GroupKFold(n_splits=FOLDS).split(
                rows, groups=fold_groups)):
            model = fit_all([rows[i] for i in train], features, analyzer)
            thresholds.append((model.abstain_below, model.lead_above))
            answerer.config = replace(config, model=model)
            scores, times = evaluate(engine, [rows[i].item for i in test])
            all_scores += scores
            latencies += times
            print(f"  fold {fold}: abstain_below {model.abstain_below:.2f}, "
                  f"lead_above {model.lead_above:.2f}", file=sys.stderr)
        report["out_of_fold"] = summarise(all_scores, KS, max(KS))
        report["fold_thresholds"] = thresholds
        report["ask_p50_ms"] = round(median(latencies) * 1000, 1)
        answerer.config = config
        by_set: dict[str, list[Any]] = defaultdict(list)
        for s in all_scores:
            by_set["dev2" if s.id.startswith("d2-") else "dev"].append(s)
        report["out_of_fold_by_set"] = {k: summarise(v, KS, max(KS))["overall"]
                                        for k, v in by_set.items()}
        print(json.dumps(report["out_of_fold"]["overall"], indent=1), file=sys.stderr)

    if args.write:
        model = fit_all(rows, features, analyzer)
        source = {"trained_by": "bench/train_scorer.py",
                  "questions": [p.name for p in args.questions], "rows": len(rows),
                  "out_of_fold": report.get("out_of_fold", {}).get("overall")}
        model = replace(model, source=source)
        MODEL_PATH.write_text(json.dumps(model.as_dict(), indent=1) + "\n")
        report["model"] = model.as_dict()
        print(f"wrote {MODEL_PATH}", file=sys.stderr)
    save("train_scorer", report)


if __name__ == "__main__":
    main()

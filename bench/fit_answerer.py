"""Fit how the answer engine weighs the ranker and the reader, out of fold, and measure it.

    python bench/train_ranker.py --rows /tmp/ranker_rows.json      # writes the ranker's rows
    python bench/fit_answerer.py --rows /tmp/ranker_rows.json [--read 8]

Per question of fold 5 (neither model trained on it) and of bbc-qa dev ∪ dev2: the ranker's
best `--read` candidates are read by the reader; each gets the features of
`retrieval.answer.scoring.FEATURES` (ranker cosine, its gap to the best, reader logit, span
probability, the sentence's place). A logistic model of "this sentence holds the answer" is
fitted on fold 5 (its own figures 5-fold cross-validated by article group, so out of fold) and
measured on dev ∪ dev2, on which nothing was fitted. Thresholds — refusal (answerable refused
≤ 0.08) and bold (precision ≥ 0.90) — are chosen on fold 5's cross-validated scores. Writes
the weights and thresholds into retrieval/answer/ranker_model/ranker.json ("answerer") and the
figures into retrieval/answer/ranker_model/answerer_figures.json.
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.train_reader import (  # noqa: E402
    auc,
    context_of,
    label,
    load_articles,
    read_questions,
    span_verdict,
)
from retrieval.answer.reader import Reader  # noqa: E402
from retrieval.answer.scoring import FEATURES, features  # noqa: E402


def read_rows(rows: list[dict[str, Any]], articles: Any, questions: dict[str, Any],
              reader: Reader, read: int) -> list[dict[str, Any]]:
    """Per question: its read candidates' features, labels and spans."""
    out = []
    for number, row in enumerate(rows):
        q = questions[(row["set"], row["id"])]
        scores = np.array(row["scores"])
        order = [int(i) for i in np.argsort(-scores)[:read]]
        keys = [tuple(row["candidates"][i]) for i in order]
        inputs = [articles[d].candidate(i, context_of(q.item)) for d, i in keys]
        readings = reader.read(q.item["question"], inputs)
        best = float(scores.max()) if len(scores) else 0.0
        table = []
        for rank, ((_doc, index), reading, i) in enumerate(zip(keys, readings, order,
                                                              strict=True)):
            values = features(float(scores[i]), best, reading.p_answer,
                              reading.span_probability, index)
            span = (inputs[rank].sentence[reading.span[0]:reading.span[1]]
                    if reading.span else "")
            table.append({"x": [values[f] for f in FEATURES], "label": row["labels"][i],
                          "span": span, "span_p": reading.span_probability})
        out.append({"set": row["set"], "id": row["id"], "type": row["type"],
                    "answerable": row["answerable"], "answers": q.answers,
                    "doc": keys[0][0] if keys else "", "table": table,
                    "any_label": max(row["labels"]) if row["labels"] else 0})
        if number % 200 == 0:
            print(f"  read {number}/{len(rows)}", flush=True)
    return out


def fit(rows: list[dict[str, Any]]) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    x = np.array([c["x"] for r in rows for c in r["table"]])
    y = np.array([c["label"] for r in rows for c in r["table"]])
    model = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
    return model.coef_[0], float(model.intercept_[0])


def score(rows: list[dict[str, Any]], weights: np.ndarray, bias: float
          ) -> list[dict[str, Any]]:
    """Per question: the chosen candidate, its probability, its span's verdicts."""
    verdicts = []
    for r in rows:
        if not r["table"]:
            verdicts.append({**r, "p": 0.0, "right": False, "bold_conf": 0.0,
                             "bold_right": False})
            continue
        probs = [1 / (1 + math.exp(-(float(np.dot(weights, c["x"])) + bias)))
                 for c in r["table"]]
        best = int(np.argmax(probs))
        top = r["table"][best]
        _, contains, bold_right = (span_verdict(top["span"], r["answers"]) if r["answerable"]
                                   else (False, False, False))
        verdicts.append({"set": r["set"], "type": r["type"], "answerable": r["answerable"],
                         "p": probs[best], "right": bool(top["label"]),
                         "bold_conf": probs[best] * top["span_p"],
                         "bold_right": bool(bold_right), "contains": bool(contains),
                         "any_label": r["any_label"]})
    return verdicts


def cross_validated(rows: list[dict[str, Any]], folds: int = 5) -> list[dict[str, Any]]:
    groups = sorted({r["doc"] for r in rows})
    fold_of = {g: n % folds for n, g in enumerate(groups)}
    out: list[dict[str, Any]] = [{}] * len(rows)
    for f in range(folds):
        train = [r for r in rows if fold_of[r["doc"]] != f]
        weights, bias = fit(train)
        held = [(n, r) for n, r in enumerate(rows) if fold_of[r["doc"]] == f]
        for (n, _), verdict in zip(held, score([r for _, r in held], weights, bias),
                                   strict=True):
            out[n] = verdict
    return out


def refuse_threshold(verdicts: list[dict[str, Any]], max_answerable: float = 0.08) -> float:
    answerable = sorted(v["p"] for v in verdicts if v["answerable"])
    # refuse below t: at most max_answerable of answerable questions fall under it
    k = int(max_answerable * len(answerable))
    return answerable[k] if k < len(answerable) else 0.0


def bold_threshold(verdicts: list[dict[str, Any]], refuse: float, target: float = 0.90
                   ) -> float:
    answered = [v for v in verdicts if v["p"] >= refuse]
    for t in sorted({round(v["bold_conf"], 4) for v in answered}):
        shown = [v for v in answered if v["bold_conf"] >= t]
        if len(shown) >= 10 and np.mean([v["bold_right"] for v in shown]) >= target:
            return float(t)
    return 1.01


def summarise(verdicts: list[dict[str, Any]], refuse: float, bold: float) -> dict[str, Any]:
    answerable = [v for v in verdicts if v["answerable"]]
    unanswerable = [v for v in verdicts if not v["answerable"]]
    answered = [v for v in verdicts if v["p"] >= refuse]
    shown = [v for v in answered if v["bold_conf"] >= bold]
    by_kind: dict[str, list[bool]] = collections.defaultdict(list)
    for v in answerable:
        by_kind[v["type"]].append(v["right"])
    no_answer = auc([-v["p"] for v in unanswerable], [-v["p"] for v in answerable])
    return {
        "answerable": len(answerable), "unanswerable": len(unanswerable),
        "sentence_right": round(float(np.mean([v["right"] for v in answerable])), 3),
        "pool_holds_answer": round(float(np.mean([v["any_label"] for v in answerable])), 3),
        "span_contains": round(float(np.mean([v["contains"] for v in answerable])), 3),
        "answered_and_right": round(float(np.mean([v["right"] and v["p"] >= refuse
                                                   for v in answerable])), 3),
        "no_answer_auc": None if no_answer is None else round(no_answer, 3),
        "unanswerable_refused": round(float(np.mean([v["p"] < refuse
                                                     for v in unanswerable])), 3)
        if unanswerable else None,
        "answerable_refused": round(float(np.mean([v["p"] < refuse for v in answerable])), 3),
        "bold_shown_of_answered": round(len(shown) / max(1, len(answered)), 3),
        "bold_precision": round(float(np.mean([v["bold_right"] for v in shown])), 3)
        if shown else None,
        "by_kind": {k: {"n": len(x), "right": round(float(np.mean(x)), 3)}
                    for k, x in sorted(by_kind.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "bench")
    parser.add_argument("--questions", type=Path, default=ROOT / "bench" / "reader_questions")
    parser.add_argument("--rows", type=Path, required=True)
    parser.add_argument("--read", type=int, default=8)
    parser.add_argument("--out", type=Path, default=ROOT / "retrieval" / "answer" / "ranker_model")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    articles = load_articles(args.corpus)
    items = read_questions(sorted(args.questions.glob("*.jsonl")))
    dev_items = read_questions([args.corpus / "bbc-qa" / "dev.jsonl",
                                args.corpus / "bbc-qa" / "dev2.jsonl"])
    questions = {("fold5", i["id"]): label(i, articles) for i in items}
    questions.update({("dev", i["id"]): label(i, articles, prefix="bbc/") for i in dev_items})
    rows = json.loads(args.rows.read_text())
    reader = Reader(threads=args.threads, batch_size=16)
    read = read_rows(rows, articles, questions, reader, args.read)
    fold5 = [r for r in read if r["set"] == "fold5"]
    dev = [r for r in read if r["set"] == "dev"]
    fold5_cv = cross_validated(fold5)
    refuse = refuse_threshold(fold5_cv)
    bold = bold_threshold(fold5_cv, refuse)
    weights, bias = fit(fold5)
    dev_verdicts = score(dev, weights, bias)
    # the ranker alone, for comparison: its top candidate (rank 0), no reader
    figures = {
        "read_per_question": args.read, "features": list(FEATURES),
        "weights": [round(float(w), 4) for w in weights], "bias": round(bias, 4),
        "thresholds": {"refuse_below": round(refuse, 4), "bold": round(bold, 4),
                       "chosen_on": "fold 5, 5-fold cross-validated scores"},
        "fold5_cross_validated": summarise(fold5_cv, refuse, bold),
        "bbc_qa_dev_dev2": summarise(dev_verdicts, refuse, bold),
    }
    print(json.dumps(figures, indent=1))
    (args.out / "answerer_figures.json").write_text(json.dumps(figures, indent=1) + "\n")
    path = args.out / "ranker.json"
    config = json.loads(path.read_text()) if path.is_file() else {}
    config["answerer"] = {"features": list(FEATURES),
                          "weights": figures["weights"], "bias": figures["bias"],
                          "read": args.read, **figures["thresholds"]}
    path.write_text(json.dumps(config, indent=1) + "\n")


if __name__ == "__main__":
    main()

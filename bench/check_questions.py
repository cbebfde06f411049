"""Check the reader's question set (bench/reader_questions/*.jsonl) against the shared corpora.

Usage: python bench/check_questions.py [FILES...] [--corpus ../shared/bench]

Each line is one question in the bbc-qa schema plus `as_of`:
  id (unique), type (factoid | latest | window | followup | multi | unanswerable), question,
  history ([[question, answer], ...]; non-empty for followup), answer ("" for unanswerable),
  aliases (list), evidence ([{doc, quote}]; doc relative to shared/bench/, e.g.
  "bbc/business/001.txt" or "wikinews/0101.txt"), as_of (ISO date "YYYY-MM-DD" or null).

Checked: every doc is listed in train-articles.txt (questions that fit a model are written over
those only), every quote is an exact substring of its article (whitespace-normalised, BBC's
Latin-1 file read with the fallback), every answer or alias appears in a quote, unanswerable
items carry no evidence, multi items cite two different docs. Exits 1 listing each problem.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import re
import sys
from pathlib import Path

KINDS = {"factoid", "latest", "window", "followup", "multi", "unanswerable"}
HERE = Path(__file__).resolve().parent


def read_corpus_file(path: Path) -> str:
    """A corpus file as text: UTF-8, or Latin-1 (BBC's sport/199.txt)."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def check(files: list[Path], corpus: Path) -> list[str]:
    allowed = {
        line.strip()
        for line in (corpus / "train-articles.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    texts: dict[str, str] = {}
    problems: list[str] = []
    seen: set[str] = set()
    kinds: collections.Counter[str] = collections.Counter()
    total = 0
    for file in files:
        for number, line in enumerate(file.read_text().splitlines(), 1):
            if not line.strip():
                continue
            where = f"{file.name}:{number}"
            try:
                item = json.loads(line)
            except json.JSONDecodeError as error:
                problems.append(f"{where}: not JSON ({error})")
                continue
            total += 1
            ident = item.get("id")
            if not ident or ident in seen:
                problems.append(f"{where}: missing or repeated id {ident!r}")
            seen.add(ident)
            kind = item.get("type")
            kinds[kind] += 1
            if kind not in KINDS:
                problems.append(f"{where}: type {kind!r} not one of {sorted(KINDS)}")
            if not str(item.get("question", "")).strip():
                problems.append(f"{where}: empty question")
            history = item.get("history", [])
            if kind == "followup" and not history:
                problems.append(f"{where}: followup without history")
            if not isinstance(history, list) or any(
                not isinstance(turn, list) or len(turn) != 2 for turn in history
            ):
                problems.append(f"{where}: history must be [[question, answer], ...]")
            as_of = item.get("as_of")
            if as_of is not None:
                try:
                    dt.date.fromisoformat(as_of)
                except (TypeError, ValueError):
                    problems.append(f"{where}: as_of {as_of!r} is not YYYY-MM-DD")
            evidence = item.get("evidence", [])
            answer = str(item.get("answer", ""))
            if kind == "unanswerable":
                if evidence or answer:
                    problems.append(f"{where}: unanswerable items have no answer or evidence")
                continue
            if not answer.strip():
                problems.append(f"{where}: empty answer")
            if not evidence:
                problems.append(f"{where}: no evidence")
            docs = []
            quotes = []
            for entry in evidence:
                doc, quote = entry.get("doc", ""), entry.get("quote", "")
                docs.append(doc)
                quotes.append(_squash(quote))
                if doc not in allowed:
                    problems.append(f"{where}: {doc} is not in train-articles.txt")
                    continue
                if doc not in texts:
                    path = corpus / doc
                    texts[doc] = _squash(read_corpus_file(path)) if path.exists() else ""
                if not quote.strip() or _squash(quote) not in texts[doc]:
                    problems.append(f"{where}: quote not found in {doc}: {quote[:60]!r}")
            if kind == "multi" and len(set(docs)) < 2:
                problems.append(f"{where}: multi needs two different docs")
            answers = [answer, *item.get("aliases", [])]
            joined = " ".join(quotes).lower()
            if answer and not any(_squash(a).lower() in joined for a in answers if a):
                problems.append(f"{where}: answer {answer!r} is in no quote")
    print(f"{total} questions: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--corpus", type=Path, default=HERE.parent.parent / "shared" / "bench")
    args = parser.parse_args()
    files = args.files or sorted((HERE / "reader_questions").glob("*.jsonl"))
    problems = check(files, args.corpus)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

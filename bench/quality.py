"""Answer-quality benchmark on bbc-qa/dev.jsonl over the full BBC corpus.

Scores Newsdesk (hybrid retrieval + configured answerer) and, in the same run, two baselines
on the same questions: the LangChain tutorial RAG (1000/200-character chunks, MiniLM, Chroma
top-k) and plain BM25 (bm25s over the same 1000/200 chunks). Baselines are retrieval only;
they are scored with the same rules (bbc-qa README) via retrieval.answer.evaluation.

    pip install -e '.[bench]'   # the LangChain baseline's splitter and vector store
    python bench/quality.py [--data-dir DIR] [--cache DIR]

--data-dir must hold a Newsdesk store of the corpus (`newsdesk ingest ../shared/bench/bbc`);
without it the corpus is ingested into the cache directory first.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, SHARED, bbc_corpus, median, percentile, save
from bot.factory import Components
from config import load_settings
from ingest.embed.embedder import Embedder
from ingest.sources.decode import decode_bytes
from retrieval.answer.evaluation import EvalQuestion, score_question, summarise
from retrieval.question.history import search_query
from retrieval.records import Answer, Passage

KS = [1, 5, 10]


def load_questions(path: Path) -> list[EvalQuestion]:
    return [EvalQuestion.model_validate_json(line) for line in path.read_text().splitlines()
            if line.strip()]


def raw_documents(corpus: Path) -> list[tuple[str, str]]:
    docs = []
    for path in sorted(corpus.rglob("*.txt")):
        if path.parent == corpus:
            continue  # the corpus README
        docs.append((path.relative_to(corpus).as_posix(), decode_bytes(path.read_bytes(),
                                                                       str(path))))
    return docs


class _LangChainEmbeddings:
    """MiniLM behind LangChain's Embeddings interface, as the tutorial wires it."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._embedder.embed([text])[0].tolist()


def tutorial_chunks(docs: Sequence[tuple[str, str]]) -> list[Any]:
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200,
                                              add_start_index=True)
    return splitter.split_documents([Document(page_content=text, metadata={"source": doc_id})
                                     for doc_id, text in docs])


def as_answer(question: str, ids_texts: Sequence[tuple[str, str]]) -> Answer:
    passages = tuple(Passage(chunk_id=f"{doc}#{i}", article_id=doc, title="", text=text,
                             score=0.0) for i, (doc, text) in enumerate(ids_texts))
    return Answer(question=question, answer="", abstained=True, citations=(), passages=passages)


def run_baselines(items: list[EvalQuestion], embedder: Embedder, cache: Path,
                  corpus: Path) -> dict[str, Any]:
    import bm25s
    from langchain_chroma import Chroma

    from ingest.text.terms import analyze

    chunks = tutorial_chunks(raw_documents(corpus))
    store_dir = cache / "tutorial-chroma"
    fresh = not store_dir.exists()
    vectorstore = Chroma(collection_name="tutorial", embedding_function=_LangChainEmbeddings(
        embedder), persist_directory=str(store_dir))  # type: ignore[arg-type]
    if fresh:
        for start in range(0, len(chunks), 2000):
            vectorstore.add_documents(chunks[start:start + 2000])
    retriever = vectorstore.as_retriever(search_kwargs={"k": max(KS)})

    bm25 = bm25s.BM25()
    bm25.index([analyze(c.page_content) for c in chunks], show_progress=False)

    results: dict[str, Any] = {}
    for name in ("langchain_tutorial_rag", "bm25"):
        scores = []
        for item in items:
            # The baselines get the same history-aware query as Newsdesk's extractive path.
            query = search_query(item.question, item.history)
            if name == "bm25":
                docs, _ = bm25.retrieve([analyze(query)], k=max(KS), show_progress=False)
                hits = [(chunks[int(i)].metadata["source"], chunks[int(i)].page_content)
                        for i in docs[0]]
            else:
                hits = [(d.metadata["source"], d.page_content) for d in retriever.invoke(query)]
            scores.append(score_question(item, as_answer(item.question, hits), KS, max(KS)))
        results[name] = _retrieval_only(summarise(scores, KS, max(KS)))
    results["tutorial_chunks"] = len(chunks)
    return results


_ANSWER_METRICS = ("answer_accuracy", "lead", "words_mean", "abstention_accuracy",
                   "false_abstention_rate", "citation_precision")


def _retrieval_only(summary: dict[str, Any]) -> dict[str, Any]:
    """Baselines retrieve but do not answer: keep only the retrieval metrics."""
    def strip(block: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in block.items() if k not in _ANSWER_METRICS}

    return {"overall": strip(summary["overall"]),
            "by_type": {t: strip(b) for t, b in summary["by_type"].items()
                        if t != "unanswerable"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=Path, default=SHARED / "bbc-qa" / "dev.jsonl")
    parser.add_argument("--corpus", type=Path, default=bbc_corpus())
    parser.add_argument("--data-dir", type=Path, help="an existing Newsdesk store of the corpus")
    parser.add_argument("--cache", type=Path, default=RESULTS / "cache")
    parser.add_argument("--no-baselines", action="store_true")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)

    data_dir = args.data_dir or args.cache / "newsdesk"
    components = Components(load_settings(data_dir=str(data_dir)))
    if args.data_dir is None:
        components.build_ingestor().ingest([str(args.corpus)])
    engine = components.build_engine()
    items = load_questions(args.questions)
    engine.ask("warm up")  # model and BM25 index loaded outside the timings

    scores, latencies = [], []
    for item in items:
        started = time.perf_counter()
        answer = engine.ask(item.question, item.history, k=max(KS))
        latencies.append(time.perf_counter() - started)
        scores.append(score_question(item, answer, KS, max(KS)))
    report: dict[str, Any] = {
        "questions": len(items),
        "answerer": components.settings.answer.mode,
        "newsdesk": summarise(scores, KS, max(KS)),
        "ask_latency_ms": {"p50": round(median(latencies) * 1000, 1),
                           "p95": round(percentile(latencies, 95) * 1000, 1)},
    }
    if not args.no_baselines:
        report["baselines"] = run_baselines(items, components.embedder, args.cache, args.corpus)
    save("quality", report)


if __name__ == "__main__":
    main()

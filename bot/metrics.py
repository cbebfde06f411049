"""Prometheus metrics for the server (prometheus-client, on a registry of our own)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from ingest.records import IngestSummary, SearchFilter
from retrieval.records import Answer, Turn

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.questions = Counter(
            "newsdesk_questions", "Questions by front end and outcome.",
            ["route", "outcome"], registry=self.registry)
        self.latency = Histogram(
            "newsdesk_answer_seconds", "Time to answer a question.", ["route"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60), registry=self.registry)
        self.ingest_runs = Counter(
            "newsdesk_ingest_runs", "In-process ingest runs (--refresh) by outcome.",
            ["outcome"], registry=self.registry)
        self.ingested = Counter(
            "newsdesk_ingested_articles", "Articles changed by in-process ingest runs.",
            ["change"], registry=self.registry)

    def answered(self, route: str, answer: Answer | None, seconds: float) -> None:
        """Count one question: `answer` None means it failed."""
        outcome = "error" if answer is None else "abstained" if answer.abstained else "answered"
        self.questions.labels(route=route, outcome=outcome).inc()
        self.latency.labels(route=route).observe(seconds)

    def ingest_run(self, summary: IngestSummary) -> None:
        self.ingest_runs.labels(outcome="failed" if summary.failed else "ok").inc()
        for change in ("added", "updated", "removed"):
            self.ingested.labels(change=change).inc(getattr(summary, change))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class Asker(Protocol):
    def ask(self, question: str, history: Sequence[Turn] = (), *,
            where: SearchFilter | None = None) -> Answer: ...


class MeteredAsker:
    """An Asker whose questions are counted under `route` (the Slack app's engine)."""

    def __init__(self, inner: Asker, metrics: Metrics, route: str) -> None:
        self._inner = inner
        self._metrics = metrics
        self._route = route

    def ask(self, question: str, history: Sequence[Turn] = (), *,
            where: SearchFilter | None = None) -> Answer:
        started = time.perf_counter()
        answer: Answer | None = None
        try:
            answer = self._inner.ask(question, history, where=where)
            return answer
        finally:
            self._metrics.answered(self._route, answer, time.perf_counter() - started)

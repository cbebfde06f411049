"""Prometheus metrics for the server (prometheus-client, on a registry of our own)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from ingest.model.records import IngestSummary
from retrieval.records import Answer

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
        self.requests = Counter(
            "newsdesk_requests", "Searches and statistics requests by front end, operation "
            "and outcome (questions are counted in newsdesk_questions).",
            ["route", "operation", "outcome"], registry=self.registry)
        self.responses = Counter(
            "newsdesk_http_responses", "HTTP responses by route (its path template, or "
            "\"unknown\") and status, those the request guard refuses included (401, 404, "
            "408, 413, 429, 503).", ["route", "status"], registry=self.registry)
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

    def served(self, route: str, operation: str, outcome: str, seconds: float) -> None:
        """Count one search or stats request; `outcome` e.g. found, empty, rejected, error."""
        self.requests.labels(route=route, operation=operation, outcome=outcome).inc()

    def responded(self, route: str, status: int) -> None:
        """Count one HTTP response; `route` is a route's path template or "unknown"."""
        self.responses.labels(route=route, status=str(status)).inc()

    def ingest_run(self, summary: IngestSummary) -> None:
        self.ingest_runs.labels(outcome="failed" if summary.failed else "ok").inc()
        for change in ("added", "updated", "removed"):
            self.ingested.labels(change=change).inc(getattr(summary, change))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

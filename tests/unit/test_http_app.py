"""The HTTP app's error paths with a stand-in engine (Starlette's test client, no server)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.asking import Desk
from bot.http_app import Service, build_app
from bot.metrics import Metrics
from config.errors import StoreError
from config.settings import ServeSettings

LEAKY = "sk-leaky-secret-value-123456"


class FailingEngine:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def ask(self, question: str, history: Any = (), **kwargs: Any) -> Any:
        raise self.error

    def search(self, question: str, **kwargs: Any) -> Any:
        raise self.error

    def timeline(self, topic: str, **kwargs: Any) -> Any:
        raise self.error

    def windowed(self, question: str, where: Any, as_of: Any) -> Any:
        return question, where


def client(error: Exception, readiness: str | None = None) -> TestClient:
    metrics = Metrics()
    service = Service(desk=Desk(FailingEngine(error), stats=dict, recorder=metrics),
                      readiness=lambda: readiness, metrics=metrics, limits=ServeSettings(),
                      answers=ThreadPoolExecutor(max_workers=1))
    return TestClient(build_app(service))


def test_a_store_outage_is_503_and_counted_as_an_error() -> None:
    with client(StoreError("cannot search: the store at http://chroma:8000 failed")) as http:
        response = http.post("/api/ask", json={"question": "Who won?"})
        assert response.status_code == 503
        assert response.json() == {
            "error": "cannot search: the store at http://chroma:8000 failed"}
        assert http.get("/api/search", params={"q": "x"}).status_code == 503
        metrics = http.get("/metrics").text
    assert 'newsdesk_questions_total{outcome="error",route="api"} 1.0' in metrics


def test_an_unexpected_failure_is_500_without_internals(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", LEAKY)
    with client(RuntimeError(f"provider said: bad key {LEAKY}")) as http:
        response = http.post("/api/ask", json={"question": "Who won?"})
        assert response.status_code == 500 and response.json() == {"error": "internal error"}
        streamed = http.post("/api/ask", json={"question": "Who won?"},
                             headers={"Accept": "text/event-stream"})
    assert streamed.text.startswith("event: error\ndata: ")
    assert "internal error" in streamed.text and LEAKY not in streamed.text


def test_not_ready_says_why() -> None:
    with client(RuntimeError("unused"), readiness="loading the model") as http:
        response = http.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"ready": False, "reason": "loading the model"}


def test_a_deeply_nested_body_is_a_400_not_a_crash() -> None:
    body = b'{"question": "q", "history": ' + b"[" * 300_000 + b"]" * 300_000 + b"}"
    with client(RuntimeError("unused")) as http:
        response = http.post("/api/ask", content=body)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid request: body: is not valid JSON"}

"""The web page's server side without a browser: the answer's view (pure functions of the
Answer record), the page's HTML and headers, and the API routes added for it (feedback,
alerts, asking again without the question's time words). The page in a browser:
tests/integration/test_web_page.py."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from starlette.testclient import TestClient

from bot.app.asking import Desk, read_request
from bot.app.feedback import FeedbackStore
from bot.app.metrics import Metrics
from bot.app.watches import WatchStore
from bot.http.answer_view import answer_parts, answer_view, cited_sentences, cited_span
from bot.http.app import build_app
from bot.http.service import Service
from bot.http.web_page import CONTENT_SECURITY_POLICY, render_page
from config.settings import ServeSettings
from retrieval.news.alerts import Alert
from retrieval.records import Answer, AnswerSpan, Citation, Passage

BRIDGE = ("The Kestrel Harbour Bridge reopened to traffic on Friday after a two-year repair "
          "that cost the city 84 million euros, officials in Port Alder said.\n\nEngineers "
          "replaced all 212 suspension cables. Critics on the city council said the repair "
          "ran eight months late and 19 million euros over budget.")
FERRY = "Ferry crews walked out on Monday. The strike ended on Thursday with a 4% pay rise."

# A loopback address, as the server checks Host (cross-site guard).
LOCAL = "http://127.0.0.1:8080"



def passage(article: str, text: str) -> Passage:
    return Passage(chunk_id=f"{article}#0", article_id=article, title=article.title(),
                   text=text, score=1.0)


def test_the_answer_is_cut_into_text_and_markers_with_the_lead_value_apart() -> None:
    text = "84 million euros — The bridge reopened after a repair. [1]\nCritics said so. [2]"
    bold, parts = answer_parts(text, "84 million euros")
    assert bold == "84 million euros"
    assert parts == [{"text": " — The bridge reopened after a repair. "}, {"cite": 1},
                     {"text": "\nCritics said so. "}, {"cite": 2}]
    assert answer_parts("Plain [3]", None) == (None, [{"text": "Plain "}, {"cite": 3}])
    assert answer_parts("5 dead, as of 2 Dec 2026 — The toll rose. [1]", "5 dead")[0] == (
        "5 dead, as of 2 Dec 2026")
    assert answer_parts("Biscuit the tabby won — judges said [1]", "Biscuit")[0] == "Biscuit"
    # A lead the text does not start with is not shown apart.
    assert answer_parts("Other text [1]", "84 million euros")[0] is None


def test_each_marker_cites_its_own_sentence_without_what_the_answerer_added() -> None:
    text = ("84 million euros — The bridge reopened. (reported 14 Mar 2025) [1] Critics "
            "said it ran late. [1] [2]\n12 Nov 2026 — The strike ended. [3]")
    assert cited_sentences(text) == [(1, "The bridge reopened."), (1, "Critics said it ran late."),
                                     (2, "Critics said it ran late."), (3, "The strike ended.")]


def test_a_cited_sentence_is_found_in_its_passage_word_for_word_or_by_its_words() -> None:
    start, end = cited_span(BRIDGE, "Engineers replaced all  212 suspension cables.") or (0, 0)
    assert BRIDGE[start:end] == "Engineers replaced all 212 suspension cables."
    # An LLM's paraphrase: the passage sentence sharing most of its words.
    loose = cited_span(BRIDGE, "Council critics said the repair ran eight months late.")
    assert loose is not None and BRIDGE[loose[0]:loose[1]].startswith("Critics on the city")
    assert cited_span(BRIDGE, "The ferry strike ended with a pay rise.") is None
    assert cited_span(BRIDGE, "  ") is None


def test_the_view_of_an_answer_points_each_marker_at_its_sentence() -> None:
    bridge, ferry = passage("bridge", BRIDGE), passage("ferry", FERRY)
    answer = Answer(
        question="q", abstained=False, passages=(bridge, ferry),
        answer=("84 million euros — The Kestrel Harbour Bridge reopened to traffic on Friday "
                "after a two-year repair that cost the city 84 million euros, officials in Port "
                "Alder said. [1] The strike ended on Thursday with a 4% pay rise. [2] Critics on "
                "the city council said the repair ran eight months late and 19 million euros "
                "over budget. [1] [9]"),
        citations=(Citation(1, bridge), Citation(2, ferry)),
        answer_span=AnswerSpan("84 million euros", 1))
    view = answer_view(answer)
    assert view["lead"] == "84 million euros"
    quoted = [(p["cite"], p["quote"]) for p in view["parts"] if "cite" in p]
    assert [n for n, _ in quoted] == [1, 2, 1, 9]
    texts = {1: BRIDGE, 2: FERRY}
    shown = [texts[n][q[0]:q[1]] if q else None for n, q in quoted]
    assert shown[0] is not None and shown[0].startswith("The Kestrel Harbour Bridge reopened")
    assert shown[1] == "The strike ended on Thursday with a 4% pay rise."
    assert shown[2] is not None and shown[2].startswith("Critics on the city council")
    assert shown[3] is None  # a number no citation has
    assert view["quotes"] == {"1": quoted[0][1], "2": quoted[1][1]}


def test_the_page_is_a_shell_with_no_inline_script_style_or_handler() -> None:
    html = render_page(token_required=True)
    assert 'data-token-required="true"' in html and "$" not in html
    assert 'data-token-required="false"' in render_page(token_required=False)
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts == ['<script src="/static/page.js" defer>']
    assert "</script>" in html and not re.search(r"<script[^>]*>[^<]+</script>", html)
    assert not re.search(r"\s(style|on[a-z]+)=", html)
    assert "<style" not in html and "http" not in html  # nothing from another origin
    for field in re.findall(r'<(?:input|textarea|select)[^>]*\sid="([^"]+)"', html):
        assert f'<label for="{field}">' in html, field


def test_the_script_never_parses_text_as_html() -> None:
    script = resources.files("bot.http").joinpath("web", "page.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                 "new Function", "setAttribute(\"style\""):
        assert sink not in script, sink
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY


class QuietEngine:
    """Answers with the question it was asked (so that tests see what reached it)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def ask(self, question: str, history: Any = (), *, time_words: bool = True,
            **kwargs: Any) -> Answer:
        # As the engine reads it: time words off, they are taken out and set no window.
        asked = question if time_words else question.replace(" last week", "")
        self.asked.append(asked)
        return Answer(question=question, answer=f"asked: {asked}", abstained=True,
                      citations=(), passages=())

    def windowed(self, question: str, where: Any, as_of: Any) -> tuple[str, Any]:
        return question.replace(" last week", ""), where


def service(tmp_path: Path, engine: Any = None, token: str | None = None) -> Service:
    metrics = Metrics()
    return Service(desk=Desk(engine or QuietEngine(), stats=dict, recorder=metrics),
                   readiness=lambda: None, metrics=metrics, limits=ServeSettings(),
                   answers=ThreadPoolExecutor(max_workers=1),
                   api_token=SecretStr(token) if token else None,
                   feedback=FeedbackStore(tmp_path / "feedback.sqlite3"))


def test_the_page_and_its_files_need_no_token_but_the_api_does(tmp_path: Path) -> None:
    served = service(tmp_path, token="t0ken-for-the-page")
    with TestClient(build_app(served), base_url=LOCAL) as http:
        page = http.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert page.headers["x-content-type-options"] == "nosniff"
        assert http.get("/static/page.js").headers["content-type"].startswith("text/javascript")
        assert http.get("/static/page.py").status_code == 404
        assert http.get("/static/web/page.js").status_code == 404
        assert http.post("/api/feedback", json={}).status_code == 401


def test_asking_without_time_words_reaches_the_engine_without_them(tmp_path: Path) -> None:
    engine = QuietEngine()
    with TestClient(build_app(service(tmp_path, engine)), base_url=LOCAL) as http:
        read = http.post("/api/ask", json={"question": "Who struck last week?"}).json()
        unread = http.post("/api/ask", json={"question": "Who struck last week?",
                                             "time_words": False, "source": "AFP"}).json()
    assert engine.asked == ["Who struck last week?", "Who struck?"]
    assert unread["question"] == "Who struck last week?"  # as the person asked it
    assert read["filters"] == {"sources": [], "since": None, "until": None, "as_of": None,
                               "time_words": True}
    assert unread["filters"]["sources"] == ["AFP"] and unread["filters"]["time_words"] is False
    assert unread["view"] == {"lead": None, "parts": [{"text": "asked: Who struck?"}],
                              "quotes": {}}
    given = read_request({"question": "Who struck last week?", "since": "2026-11-01",
                          "time_words": False})
    assert given.filters()["since"] == "2026-11-01T00:00:00+00:00"


def test_a_vote_from_the_page_is_stored_beside_slacks(tmp_path: Path) -> None:
    served = service(tmp_path)
    vote = {"answer_id": "a1b2", "vote": "up", "question": "Who won?",
            "answer": "United won. [1]", "citations": [{"n": 1, "article_id": "cup",
                                                        "text": "dropped", "title": "Cup"}]}
    with TestClient(build_app(served), base_url=LOCAL) as http:
        assert http.post("/api/feedback", json=vote).status_code == 201
        assert http.post("/api/feedback", json={**vote, "vote": "down"}).status_code == 201
        bad = http.post("/api/feedback", json={**vote, "vote": "meh"})
        assert bad.status_code == 400 and bad.json()["error"].startswith("invalid request: vote")
        assert http.post("/api/feedback", json={**vote, "answer_id": "../x"}).status_code == 400
    votes = served.feedback.votes()
    assert [(v["vote"], v["channel"], v["question"], v["answer"]) for v in votes] == [
        ("up", "web", "Who won?", "United won. [1]"),
        ("down", "web", "Who won?", "United won. [1]")]
    assert votes[0]["citations"] == [{"n": 1, "article_id": "cup", "title": "Cup", "url": None}]


def test_the_alerts_sent_are_listed_newest_first(tmp_path: Path) -> None:
    store = WatchStore(tmp_path / "watches.sqlite3")
    first, second = store.add("Who won?"), store.add("How much?", channel="C1")
    for watch, answer, stories in ((first, "United. [1]", ("s1", "s2")),
                                   (second, "Ten euros. [1]", ("s3",))):
        store.record(Alert(watch=watch, kind="new", articles=(), stories=stories,
                           answer=Answer(question=watch.question, answer=answer,
                                         abstained=False, citations=(), passages=())))
    alerts = store.alerts()
    assert [(a["watch"], a["answer"], a["stories"]) for a in alerts][-1] == (
        first.id, "United. [1]", 2)  # one alert however many stories it covered
    assert {a["watch"] for a in alerts} == {first.id, second.id}
    assert [a["question"] for a in store.alerts("C1")] == ["How much?"]
    assert all(datetime.fromisoformat(a["sent_at"]).tzinfo == UTC for a in alerts)
    store.close()

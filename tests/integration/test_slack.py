"""The Slack app driven for real: signed HTTP requests to the app, a fake Slack Web API."""

from __future__ import annotations

import json
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
from click.testing import CliRunner
from pydantic import SecretStr
from slack_bolt.request import BoltRequest

from bot.app.asking import Desk
from bot.app.feedback import FeedbackStore
from bot.app.metrics import Metrics
from bot.app.watches import WatchStore
from bot.app.watching import WatchService
from bot.cli.commands import cli
from bot.factory import Components
from bot.http.app import build_app
from bot.http.server import HttpServer
from bot.http.service import Service
from bot.slack.app import NOT_HERE, NewsdeskSlackBot, SlackTokens
from bot.slack.watches import SlackWatchCommands
from config import load_settings
from config.errors import StoreError
from config.settings import ServeSettings, SlackSettings
from ingest.embed.embedder import Embedder
from retrieval.news.alerts import Alert
from retrieval.question.history import Turn
from retrieval.records import Answer, Citation, Passage, Reprint
from tests.fakes import MemoryStore
from tests.helpers import FIXTURES, SAMPLES, ingested_copy
from tests.peers import BOT_USER, FakeSlack, slack_signature

pytestmark = pytest.mark.slow

SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token-123"
BRIDGE_URL = "https://example.com/samples/2025/03/harbour-bridge-reopens"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Any:
    return ingested_copy(SAMPLES, tmp_path_factory.mktemp("slack"), embedder).build_engine()


class Gated:
    """An engine whose answers wait until `open()`: Slack's acks must not wait for them."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._gate = threading.Event()

    def open(self) -> None:
        self._gate.set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def ask(self, *args: Any, **kwargs: Any) -> Any:
        self._gate.wait(timeout=120)
        return self._inner.ask(*args, **kwargs)


class Running:
    def __init__(self, fake: FakeSlack, bot: NewsdeskSlackBot, server: HttpServer,
                 feedback: FeedbackStore) -> None:
        self.fake, self.bot, self.server, self.feedback = fake, bot, server, feedback
        self.url = f"http://127.0.0.1:{server.port}/slack/events"


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Any]:
    started: list[Running] = []

    def run(engine: Any, unreachable_at_start: bool = False, **options: Any) -> Running:
        fake = FakeSlack()
        feedback = FeedbackStore(tmp_path / f"feedback-{len(started)}.sqlite3")
        tokens = SlackTokens(bot=SecretStr(BOT_TOKEN), app=None,
                             signing_secret=SecretStr(SECRET),
                             api_url=closed_url() if unreachable_at_start else fake.api_url)
        metrics = Metrics()
        desk = Desk(engine, stats=dict, recorder=metrics)
        bot = NewsdeskSlackBot(desk, feedback, tokens, SlackSettings(**options))
        bot.client.base_url = fake.api_url  # Slack comes back
        # The server of `newsdesk slack --http`: Slack events, health and metrics.
        limits = ServeSettings(host="127.0.0.1")
        service = Service(desk=desk, readiness=lambda: None,
                          metrics=metrics, limits=limits,
                          answers=ThreadPoolExecutor(max_workers=2), api=False, slack=bot)
        server = HttpServer(build_app(service), "127.0.0.1", 0, limits.header_timeout)
        server.start()
        running = Running(fake, bot, server, feedback)
        started.append(running)
        return running

    yield run
    for running in started:
        running.server.stop()
        running.bot.close()
        running.fake.close()


def closed_url() -> str:
    """A Slack Web API address nothing listens on."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/"


def sign(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    return slack_signature(body, secret, timestamp)


def post(url: str, body: str, headers: dict[str, str],
         content_type: str = "application/json") -> tuple[int, str, float]:
    request = Request(url, data=body.encode(), method="POST",
                      headers={"Content-Type": content_type, **headers})
    started = time.perf_counter()
    try:
        with urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(), time.perf_counter() - started
    except HTTPError as error:
        return error.code, error.read().decode(), time.perf_counter() - started


def event_body(event: dict[str, Any], event_id: str) -> str:
    return json.dumps({"token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                       "event_id": event_id, "event_time": int(time.time()), "event": event,
                       "authorizations": [{"user_id": BOT_USER, "is_bot": True}]})


def mention(text: str, ts: str, channel: str = "C1", thread_ts: str | None = None
            ) -> dict[str, Any]:
    event = {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> {text}", "ts": ts,
             "channel": channel, "event_ts": ts}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def send(running: Running, event: dict[str, Any], event_id: str,
         extra: dict[str, str] | None = None) -> tuple[int, str, float]:
    body = event_body(event, event_id)
    return post(running.url, body, {**sign(body), **(extra or {})})


def blocks_of(params: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = params.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def block_text(params: dict[str, Any]) -> str:
    texts = []
    for block in blocks_of(params):
        if "text" in block:
            texts.append(block["text"]["text"])
        for element in block.get("elements", []):
            if isinstance(element.get("text"), str):
                texts.append(element["text"])
    return "\n".join(texts)


def answers(running: Running) -> list[dict[str, Any]]:
    """chat.update calls that carry a final answer (not a placeholder or apology)."""
    return [p for p in running.fake.calls_to("chat.update") if "Sources" in block_text(p)
            or "articles don't say" in block_text(p)]


def test_mention_gets_one_threaded_cited_answer(engine: Any, start: Any) -> None:
    gated = Gated(engine)
    running = start(gated)
    status, _, _ = send(running, mention("How much did the bridge repair cost?", "100.1"),
                        "Ev1")
    assert status == 200  # acked while the answer is still held back
    assert not answers(running)
    gated.open()
    running.fake.wait_for(lambda: len(answers(running)) == 1)
    placeholder = running.fake.calls_to("chat.postMessage")[0]
    assert placeholder["thread_ts"] == "100.1" and placeholder["channel"] == "C1"
    update = answers(running)[0]
    text = block_text(update)
    assert "84 million euros" in text and "said. (reported 14 Mar 2025) [1]" in text
    assert f"<{BRIDGE_URL}|Harbour Bridge Reopens After Two-Year Repair>" in text
    # The value leads (in bold) only when the answerer is confident of it; never unbolded.
    assert text.startswith(("*84 million euros* — The Kestrel Harbour Bridge",
                            "The Kestrel Harbour Bridge"))
    assert update["text"].startswith(("84 million euros — The Kestrel", "The Kestrel"))
    assert any(b.get("type") == "actions" for b in blocks_of(update))
    running.fake.wait_for(lambda: len(running.fake.calls_to("reactions.remove")) == 1)
    assert running.fake.calls_to("reactions.add")[0]["timestamp"] == "100.1"


def test_slack_out_of_reach_at_start_is_logged_and_answered_once_back(
        engine: Any, start: Any, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    running = start(engine, unreachable_at_start=True)
    assert "Slack is unreachable" in caplog.text and BOT_TOKEN not in caplog.text
    assert send(running, mention("Who saved two penalties in the cup final?", "150.1"),
                "EvBack")[0] == 200
    running.fake.wait_for(lambda: len(answers(running)) == 1)
    assert "Jonas Lind" in block_text(answers(running)[0])
    assert running.bot.bot_user_id == BOT_USER and running.bot.unreachable() is None
    away = NewsdeskSlackBot(Desk(engine, stats=dict), FeedbackStore(tmp_path / "away.sqlite3"),
                            SlackTokens(bot=SecretStr(BOT_TOKEN), app=None,
                                        signing_secret=SecretStr(SECRET), api_url=closed_url()),
                            SlackSettings())
    try:  # what `slack --http`'s readiness says while Slack is away
        assert (away.unreachable() or "").startswith("Slack's Web API is unreachable")
    finally:
        away.close()


def test_direct_message_is_answered_in_its_thread(engine: Any, start: Any) -> None:
    running = start(engine)
    event = {"type": "message", "channel_type": "im", "channel": "D1", "user": "U1",
             "text": "Who saved two penalties in the cup final?", "ts": "300.1"}
    assert send(running, event, "EvDM")[0] == 200
    running.fake.wait_for(lambda: len(answers(running)) == 1)
    assert running.fake.calls_to("chat.postMessage")[0]["thread_ts"] == "300.1"
    assert "Jonas Lind" in block_text(answers(running)[0])


def test_slash_command_acks_and_responds_in_channel(engine: Any, start: Any) -> None:
    gated = Gated(engine)
    running = start(gated)
    form = urlencode({"command": "/ask", "text": "How many suspension cables were replaced?",
                      "user_id": "U1", "channel_id": "C1", "team_id": "T1",
                      "response_url": f"{running.fake.url}/response/1", "trigger_id": "t1"})
    status, body, _ = post(running.url, form, sign(form),
                           "application/x-www-form-urlencoded")
    assert status == 200 and "Looking through the articles" in body  # before any answer
    assert not running.fake.responses
    gated.open()
    running.fake.wait_for(lambda: len(running.fake.responses) == 1)
    response = running.fake.responses[0]
    assert response["response_type"] == "in_channel"
    assert "212" in block_text(response)


def test_thread_followup_without_mention_uses_history(engine: Any, start: Any) -> None:
    running = start(engine)
    running.fake.replies[("C1", "200.1")] = [
        {"user": "U1", "text": f"<@{BOT_USER}> Who scored both United goals in the cup final?",
         "ts": "200.1"},
        {"user": BOT_USER, "bot_id": "BBOT", "ts": "200.2",
         "text": "Striker Nadia Kowalski scored both of their goals. [1]\n[1] Cup final"},
        {"user": "U1", "text": "How much did the club pay for her?", "ts": "200.3",
         "thread_ts": "200.1"},
    ]
    followup = {"type": "message", "channel_type": "channel", "channel": "C1", "user": "U1",
                "text": "How much did the club pay for her?", "ts": "200.3",
                "thread_ts": "200.1"}
    assert send(running, followup, "EvF")[0] == 200
    running.fake.wait_for(lambda: len(answers(running)) == 1)
    assert "3.5 million euros" in block_text(answers(running)[0])
    # A thread the bot never answered in is left alone.
    running.fake.replies[("C1", "400.1")] = [{"user": "U2", "text": "lunch?", "ts": "400.1"}]
    other = {**followup, "ts": "400.2", "thread_ts": "400.1", "text": "anyone?"}
    send(running, other, "EvOther")
    time.sleep(1.0)
    assert len(running.fake.calls_to("chat.postMessage")) == 1


def test_retried_event_is_answered_once(engine: Any, start: Any) -> None:
    running = start(engine)
    event = mention("Who is the head librarian?", "500.1")
    assert send(running, event, "EvRetry")[0] == 200
    assert send(running, event, "EvRetry", {"X-Slack-Retry-Num": "1",
                                             "X-Slack-Retry-Reason": "http_timeout"})[0] == 200
    running.fake.wait_for(lambda: len(answers(running)) == 1)
    time.sleep(1.0)
    assert len(running.fake.calls_to("chat.postMessage")) == 1
    assert len(answers(running)) == 1


def test_bad_missing_and_stale_signatures_are_rejected(engine: Any, start: Any) -> None:
    running = start(engine)
    body = event_body(mention("How much did the bridge repair cost?", "600.1"), "EvSig")
    calls_before = len(running.fake.calls)
    assert post(running.url, body, sign(body, secret="wrong"))[0] == 401
    assert post(running.url, body, {})[0] == 401
    assert post(running.url, body, sign(body, timestamp=int(time.time()) - 400))[0] == 401
    tampered = body.replace("bridge", "ferry")
    assert post(running.url, tampered, sign(body))[0] == 401
    time.sleep(0.5)
    assert len(running.fake.calls) == calls_before


def test_feedback_click_is_recorded_and_shown(engine: Any, start: Any, data_dir: Path) -> None:
    running = start(engine)
    send(running, mention("How much did the bridge repair cost?", "700.1"), "EvFb")
    running.fake.wait_for(lambda: len(answers(running)) == 1)
    update = answers(running)[0]
    payload = {"type": "block_actions", "user": {"id": "U9"}, "team": {"id": "T1"},
               "channel": {"id": "C1"}, "container": {"type": "message",
                                                      "message_ts": update["ts"]},
               "message": {"ts": update["ts"], "text": update["text"],
                           "blocks": blocks_of(update)},
               "actions": [{"action_id": "newsdesk_feedback_up", "value": "up",
                            "block_id": "newsdesk_feedback", "type": "button"}],
               "response_url": f"{running.fake.url}/response/fb", "trigger_id": "t2"}
    form = urlencode({"payload": json.dumps(payload)})
    status, _, _ = post(running.url, form, sign(form), "application/x-www-form-urlencoded")
    assert status == 200
    running.fake.wait_for(lambda: len(running.fake.calls_to("chat.update")) == 2)
    shown = running.fake.calls_to("chat.update")[-1]
    assert "feedback was recorded" in block_text(shown)
    assert not any(b.get("type") == "actions" for b in blocks_of(shown))
    # The same signed click replayed (within Slack's signature window) is not a second vote.
    assert post(running.url, form, sign(form), "application/x-www-form-urlencoded")[0] == 200
    time.sleep(1.0)
    assert len(running.fake.calls_to("chat.update")) == 2
    [vote] = running.feedback.votes()
    assert (vote["vote"], vote["user"], vote["channel"]) == ("up", "U9", "C1")
    assert vote["question"] == "How much did the bridge repair cost?"
    assert "84 million euros" in vote["answer"]
    assert vote["citations"][0]["url"] == BRIDGE_URL
    # `newsdesk feedback` reads the same store.
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(running.feedback.path, data_dir / "feedback.sqlite3")
    listed = CliRunner().invoke(cli, ["feedback", "--json"])
    assert listed.exit_code == 0 and json.loads(listed.stdout.splitlines()[0])["vote"] == "up"


class Boom:
    def ask(self, question: str, history: Sequence[Turn] = (), **kwargs: Any) -> Answer:
        raise RuntimeError("the store caught fire")


def test_engine_failure_becomes_an_apology_in_the_thread(start: Any) -> None:
    running = start(Boom())
    send(running, mention("Anything?", "800.1"), "EvBoom")
    running.fake.wait_for(lambda: any("Sorry" in block_text(p)
                                      for p in running.fake.calls_to("chat.update")))
    assert running.fake.calls_to("chat.postMessage")[0]["thread_ts"] == "800.1"
    assert "caught fire" not in json.dumps(running.fake.calls)  # internals stay in the log


class StoreEchoingItsToken:
    """A store whose failure repeats what its proxy said: the bearer token it was sent, and
    the store's URL with its credentials."""

    def ask(self, question: str, history: Sequence[Turn] = (), **kwargs: Any) -> Answer:
        raise StoreError("cannot search: the store at http://desk:hunter2-pass@chroma:8000 "
                         "failed (Exception: 401 bad token 'chroma-token-0123456789')")


def test_a_store_failure_shown_in_slack_carries_no_secret(start: Any,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setenv("NEWSDESK_CHROMA_TOKEN", "chroma-token-0123456789")
    running = start(StoreEchoingItsToken())
    send(running, mention("Anything?", "801.1"), "EvEcho")
    running.fake.wait_for(lambda: any("Sorry" in block_text(p)
                                      for p in running.fake.calls_to("chat.update")))
    shown = json.dumps(running.fake.calls)
    assert "the store at" in shown  # our message is shown ...
    assert "chroma-token-0123456789" not in shown and "hunter2" not in shown  # ... redacted
    assert "[redacted]" in shown


def test_rate_limited_web_api_call_is_retried(engine: Any, start: Any) -> None:
    running = start(engine)
    running.fake.rate_limit["chat.update"] = 1
    send(running, mention("How much did the bridge repair cost?", "900.1"), "Ev429")
    # The first chat.update gets a 429 with Retry-After: 1; the client waits and sends it again.
    running.fake.wait_for(lambda: len(answers(running)) == 2)
    first, retried = running.fake.calls_to("chat.update")
    assert first == retried


def test_twenty_concurrent_mentions_get_twenty_answers(engine: Any, start: Any) -> None:
    gated = Gated(engine)
    running = start(gated, workers=4)
    questions = ["How much did the bridge repair cost?", "Who saved two penalties?",
                 "How many homes will the solar farm power?", "Who is the head librarian?"]

    def one(i: int) -> tuple[int, str, float]:
        return send(running, mention(questions[i % 4], f"{1000 + i}.1"), f"EvC{i}")

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(one, range(20)))
    assert all(status == 200 for status, _, _ in results)  # all acked, none answered yet
    assert not answers(running)
    gated.open()
    running.fake.wait_for(lambda: len(answers(running)) == 20, timeout=120)
    threads = [p["thread_ts"] for p in running.fake.calls_to("chat.postMessage")]
    assert sorted(threads) == sorted(f"{1000 + i}.1" for i in range(20))
    assert len({p["ts"] for p in answers(running)}) == 20


class Verbose:
    def ask(self, question: str, history: Sequence[Turn] = (), **kwargs: Any) -> Answer:
        passages = tuple(
            Passage(chunk_id=f"a{i}#0", article_id=f"a{i}", title=f"Article {i} " + "x" * 200,
                    text="text", score=1.0, url=f"https://example.com/{i}", source="wire")
            for i in range(40))
        body = " ".join(f"Sentence number {i} says something long enough [1]." for i in range(250))
        assert len(body) > 10_000
        return Answer(question, body, False, tuple(Citation(i + 1, p) for i, p in
                                                   enumerate(passages)), passages)


class Quoting:
    """Answers every question by quoting an article that quotes Slack markup; records the
    questions (and their thread history) it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, list[Turn]]] = []

    def ask(self, question: str, history: Sequence[Turn] = (), **kwargs: Any) -> Answer:
        self.asked.append((question, list(history)))
        hoax = Passage(chunk_id="hoax#0", article_id="hoax", title="Hoax <!here> message",
                       text="t", score=1.0, url="https://n.example/hoax", source="Herald")
        return Answer(question, 'The message began "<!channel> <@U0BOSS> evacuate" [1].',
                      False, (Citation(1, hoax),), (hoax,))


def test_slack_text_is_unescaped_in_and_escaped_out(start: Any) -> None:
    quoting = Quoting()
    running = start(quoting)
    # What Slack sends for "@Newsdesk Did Bay & Coast <really> post it in #desk?" typed with a
    # link and a channel reference:
    send(running, mention("Did Bay &amp; Coast &lt;really&gt; post <https://bay.example/p|it> "
                          "in <#C9|desk>?", "1600.1"), "EvEsc")
    running.fake.wait_for(lambda: len(answers(running)) == 1)
    typed = "Did Bay & Coast <really> post it in #desk?"
    assert quoting.asked[0][0] == typed
    placeholder = block_text(running.fake.calls_to("chat.postMessage")[0])
    assert "_Did Bay &amp; Coast &lt;really&gt; post it in #desk?_" in placeholder
    update = answers(running)[0]
    for rendered in (update["text"], block_text(update)):
        assert "<!channel>" not in rendered and "<@U0BOSS>" not in rendered
        assert "&lt;!channel&gt; &lt;@U0BOSS&gt;" in rendered
    assert "<!here>" not in update["text"] and "Hoax &lt;!here&gt; message" in update["text"]
    # The follow-up in the thread sees the question as typed and our answer as we meant it,
    # although Slack hands both back escaped.
    running.fake.replies[("C1", "1600.1")] = [
        {"user": "U1", "ts": "1600.1",
         "text": f"<@{BOT_USER}> Did Bay &amp; Coast &lt;really&gt; post it?"},
        {"user": BOT_USER, "bot_id": "BBOT", "ts": "1600.2", "text": update["text"]},
    ]
    send(running, mention("And &amp; then?", "1600.3", thread_ts="1600.1"), "EvEsc2")
    running.fake.wait_for(lambda: len(answers(running)) == 2)
    question, history = quoting.asked[1]
    assert question == "And & then?"
    assert history == [("Did Bay & Coast <really> post it?",
                        'The message began "<!channel> <@U0BOSS> evacuate" [1].')]


def test_a_huge_answer_still_fits_slack_limits(start: Any) -> None:
    running = start(Verbose())
    send(running, mention("Tell me everything", "1100.1"), "EvHuge")
    running.fake.wait_for(lambda: len(answers(running)) == 1)
    update = answers(running)[0]
    blocks = blocks_of(update)
    assert len(blocks) <= 50
    for block in blocks:
        assert len(block.get("text", {}).get("text", "")) <= 3000
    assert len(update["text"]) <= 3000


def test_socket_mode_dispatch_uses_the_same_handlers(engine: Any, start: Any) -> None:
    running = start(engine)
    payload = json.loads(event_body(mention("How much did the bridge repair cost?", "1200.1"),
                                    "EvSock"))
    response = running.bot.app.dispatch(BoltRequest(body=payload, mode="socket_mode"))
    assert response.status == 200
    running.fake.wait_for(lambda: len(answers(running)) == 1)
    assert "84 million euros" in block_text(answers(running)[0])


def test_own_bot_and_edited_messages_are_ignored(engine: Any, start: Any) -> None:
    running = start(engine)
    base = {"type": "message", "channel_type": "im", "channel": "D1", "ts": "1300.1",
            "text": "How much did the bridge repair cost?"}
    send(running, {**base, "user": BOT_USER}, "EvOwn")
    send(running, {**base, "bot_id": "B2", "user": "U7"}, "EvBot")
    send(running, {**base, "subtype": "message_changed", "user": "U1"}, "EvEdit")
    time.sleep(1.5)
    assert running.fake.calls_to("chat.postMessage") == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "not-a-token"}, "does not look like a bot token"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN}, "needs SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xoxb-wrong"}, "app-level token"),
    ],
)
def test_slack_command_rejects_missing_or_malformed_tokens(
        env: dict[str, str], message: str, data_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["slack"], env=env)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    for value in env.values():
        assert value not in result.stderr


def test_channel_allowlist_and_per_user_rate_limit(engine: Any, start: Any) -> None:
    running = start(engine, channels=("C1",), user_rate_limit=1)
    send(running, mention("How much did the bridge repair cost?", "1400.1", channel="C9"),
         "EvNotAllowed")
    send(running, mention("How much did the bridge repair cost?", "1400.2"), "EvFirst")
    running.fake.wait_for(lambda: len(answers(running)) == 1)
    send(running, mention("Who saved two penalties?", "1400.3"), "EvSecond")
    running.fake.wait_for(lambda: len(running.fake.calls_to("chat.postMessage")) == 3)
    posts = running.fake.calls_to("chat.postMessage")
    # No answer in the channel not allowed, but a reply saying why, in the asker's thread.
    assert [p["channel"] for p in posts] == ["C9", "C1", "C1"]
    assert posts[0]["text"] == NOT_HERE and posts[0]["thread_ts"] == "1400.1"
    assert "give me a moment" in posts[2]["text"] and posts[2]["thread_ts"] == "1400.3"
    assert len(answers(running)) == 1


def test_a_message_with_a_file_or_sent_to_the_channel_is_a_question(engine: Any,
                                                                     start: Any) -> None:
    running = start(engine)
    base = {"type": "message", "channel_type": "im", "channel": "D1", "user": "U1",
            "text": "Who saved two penalties in the cup final?"}
    send(running, {**base, "subtype": "file_share", "ts": "1500.1",
                   "files": [{"id": "F1", "name": "map.png"}]}, "EvFile")
    send(running, {**base, "subtype": "thread_broadcast", "ts": "1500.2"}, "EvBroadcast")
    send(running, {**base, "subtype": "message_deleted", "ts": "1500.3"}, "EvDeleted")
    running.fake.wait_for(lambda: len(answers(running)) == 2)
    time.sleep(1.0)
    assert len(answers(running)) == 2
    assert all("Jonas Lind" in block_text(a) for a in answers(running))


def test_newsdesk_slack_command_serves_http_mode(data_dir: Path, tmp_path: Path,
                                                 embedder: Embedder) -> None:
    import os
    import socket
    import subprocess
    import sys

    corpus = tmp_path / "news"
    shutil.copytree(SAMPLES, corpus)
    Components(load_settings(), embedder=embedder).build_ingestor().ingest([str(corpus)])
    fake = FakeSlack()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": fake.api_url}
    env.pop("SLACK_APP_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "slack", "--http", "--host",
                             "127.0.0.1", "--port", str(port)], env=env,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        first_line = proc.stderr.readline()
        assert first_line.startswith("Newsdesk is listening on http://127.0.0.1"), first_line
        url = f"http://127.0.0.1:{port}/slack/events"
        body = event_body(mention("How much did the bridge repair cost?", "1500.1"), "EvCli")
        assert post(url, body, sign(body))[0] == 200
        fake.wait_for(lambda: any("84 million euros" in block_text(p)
                                  for p in fake.calls_to("chat.update")))
    finally:
        proc.terminate()
        _, rest = proc.communicate(timeout=30)
        fake.close()
    assert BOT_TOKEN not in first_line + rest


# -- desks: per-channel sources and reply modes --------------------------------------------------


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> tuple[Any, Path]:
    workspace = tmp_path_factory.mktemp("desks")
    components = ingested_copy(FIXTURES / "newsroom", workspace, embedder)
    return components.build_engine(), workspace / "newsroom"


def channel_message(text: str, ts: str, channel: str) -> dict[str, Any]:
    return {"type": "message", "channel_type": "channel", "channel": channel, "user": "U1",
            "text": text, "ts": ts}


def cited_urls(params: dict[str, Any]) -> list[str]:
    return re.findall(r"<(https?://[^|>]+)\|", block_text(params))


def test_each_channel_desk_answers_from_its_own_sources(newsroom: tuple[Any, Path],
                                                       start: Any) -> None:
    engine, corpus = newsroom
    running = start(engine, channels=["C1"], desks=[
        {"channel": "CHERALD", "sources": ["Coast Herald"], "reply": "questions"},
        {"channel": "CWIRE", "sources": ["Reuters"]},
        {"channel": "CFOLDER", "sources": [str(corpus)]},
    ])
    # A desk in "questions" mode answers any question asked in its channel, no mention needed,
    # from its own source only.
    send(running, channel_message("How much will the airport tram extension cost?", "10.1",
                                  "CHERALD"), "EvD1")
    running.fake.wait_for(lambda: len(answers(running)) == 1)
    herald = answers(running)[0]
    assert herald["channel"] == "CHERALD"
    assert "1.2 billion" not in block_text(herald)  # the tram story is not the Herald's
    assert all("coastherald" in url for url in cited_urls(herald))
    # A message that is no question is left alone there, and a plain question in a channel
    # without that mode is left alone too (mentions only).
    send(running, channel_message("lunch at noon", "10.2", "CHERALD"), "EvD2")
    send(running, channel_message("How many people died in Storm Orla?", "10.3", "C1"), "EvD3")
    # A mention in the Reuters desk: the tram story from Reuters' copy, not AFP's.
    send(running, mention("How much will the airport tram extension cost?", "11.1",
                          channel="CWIRE"), "EvD4")
    running.fake.wait_for(lambda: len(answers(running)) == 2)
    wire = answers(running)[1]
    assert wire["channel"] == "CWIRE" and "1.2 billion euro" in block_text(wire)
    assert cited_urls(wire) == ["https://wire.example/reuters/council-tram"]
    # A folder desk: articles read from files under it (the JSON storm reports are there;
    # the wire stories too, but it is their folder that is named).
    send(running, mention("How many people died in Storm Orla?", "12.1", channel="CFOLDER"),
         "EvD5")
    running.fake.wait_for(lambda: len(answers(running)) == 3)
    assert "Five people" in block_text(answers(running)[2])
    # A DM keeps the default: every article.
    dm = {"type": "message", "channel_type": "im", "channel": "D1", "user": "U1",
          "text": "How much will the airport tram extension cost?", "ts": "13.1"}
    send(running, dm, "EvD6")
    running.fake.wait_for(lambda: len(answers(running)) == 4)
    assert "1.2 billion euro" in block_text(answers(running)[3])
    time.sleep(0.5)
    threads = [p["thread_ts"] for p in running.fake.calls_to("chat.postMessage")]
    assert sorted(threads) == ["10.1", "11.1", "12.1", "13.1"]


def test_a_timeline_question_in_slack_gets_the_dated_developments(
        newsroom: tuple[Any, Path], start: Any) -> None:
    running = start(newsroom[0])
    send(running, mention("How did the ferry strike unfold?", "20.1"), "EvT1")
    running.fake.wait_for(lambda: len(answers(running)) == 1)
    text = block_text(answers(running)[0])
    days = re.findall(r"^(\d+ Nov 2026) — ", text, re.MULTILINE)
    assert days == ["10 Nov 2026", "14 Nov 2026", "19 Nov 2026", "24 Nov 2026"]
    assert "[4] " in text and "— newsroom, 24 Nov 2026" in text


def test_a_desk_filters_slash_commands_from_its_channel(newsroom: tuple[Any, Path],
                                                        start: Any) -> None:
    running = start(newsroom[0], desks=[{"channel": "CHERALD", "sources": ["Coast Herald"]}])
    for n, channel in enumerate(("CHERALD", "C1")):
        form = urlencode({"command": "/ask",
                          "text": "How much will the airport tram extension cost?",
                          "user_id": "U1", "channel_id": channel, "team_id": "T1",
                          "response_url": f"{running.fake.url}/response/d{n}",
                          "trigger_id": f"t{n}"})
        assert post(running.url, form, sign(form), "application/x-www-form-urlencoded")[0] == 200
        running.fake.wait_for(lambda n=n: len(running.fake.responses) == n + 1)
    herald, anywhere = (block_text(r) for r in running.fake.responses)
    assert "1.2 billion" not in herald  # the Herald never ran the tram story
    assert "1.2 billion euro" in anywhere


def test_a_what_changed_question_in_slack_names_the_old_and_new_values(
        tmp_path: Path, embedder: Embedder, start: Any) -> None:
    versions = FIXTURES / "versions"
    corpus = tmp_path / "news"
    corpus.mkdir()
    shutil.copy(versions / "storm-kell-v1.txt", corpus / "storm-kell.txt")
    components = Components(load_settings(data_dir=str(tmp_path / "data")), embedder=embedder)
    components.build_ingestor().ingest([str(corpus)])
    shutil.copy(versions / "storm-kell-v2.txt", corpus / "storm-kell.txt")
    components.build_ingestor().ingest([str(corpus)])
    running = start(components.build_engine())
    send(running, mention("What changed in the Storm Orla story?", "30.1"), "EvV1")
    running.fake.wait_for(lambda: len(answers(running)) == 1)
    text = block_text(answers(running)[0])
    assert "Death toll raised from 3 to 5 (updated 22 Nov, was 21 Nov) [1][2]" in text
    assert "Storm Orla kills three in Kell" in text  # the earlier version, cited as [2]


# -- hostile articles and requests: nothing pings, forges a link, loops or runs twice ------------


HOSTILE = "<!channel> <!here> <@U0BOSS> <#C1|general> <https://evil.example|click>"
# What a person typing HOSTILE sends (Slack escapes what it does not parse as markup).
TYPED_HOSTILE = "&lt;!channel&gt; &lt;@U0BOSS&gt; &lt;#C1|general&gt; &lt;https://e.example|x&gt;"
EVIL_URL = "https://news.example/>pwn<!channel>/x|<@U0BOSS> y"
EVIL_TARGET = "https://news.example/%3Epwn%3C!channel%3E/x%7C%3C@U0BOSS%3E%20y"


class Hostile:
    """Answers every question citing articles whose every field carries Slack markup."""

    def ask(self, question: str, history: Sequence[Turn] = (), **kwargs: Any) -> Answer:
        evil = Passage(chunk_id="e#0", article_id="e", title=f"Evil {HOSTILE}", text=HOSTILE,
                       score=1.0, url=EVIL_URL, source=f"Wire {HOSTILE}",
                       reprints=(Reprint("e2", source=f"AFP {HOSTILE}",
                                         author=f"Jo {HOSTILE}"),))
        odd = Passage(chunk_id="o#0", article_id="o", title="Odd", text="t", score=1.0,
                      url="javascript:alert('<!here>')", source="Wire")
        return Answer(question, f"It says {HOSTILE} [1][2].", False,
                      (Citation(1, evil), Citation(2, odd)), (evil, odd),
                      note=f"note {HOSTILE}")


def markup(sent: Any) -> list[str]:
    """Every `<…>` that Slack would read as markup in what the bot sent (blocks and text)."""
    return re.findall(r"<[^<>]*>", json.dumps(sent, ensure_ascii=False))


def only_safe_links(sent: Any) -> None:
    for found in markup(sent):
        assert found.startswith(f"<{EVIL_TARGET}|Evil &lt;!channel&gt;"), found


def slash(running: Running, text: str | None, trigger: str, channel: str | None = "C1",
          **extra: str) -> tuple[int, str]:
    fields = {"command": "/ask", "text": text, "user_id": "U1", "channel_id": channel,
              "team_id": "T1", "response_url": f"{running.fake.url}/response/{trigger}",
              "trigger_id": trigger, **extra}
    form = urlencode({k: v for k, v in fields.items() if v is not None})
    status, body, _ = post(running.url, form, sign(form), "application/x-www-form-urlencoded")
    return status, body


def watch_commands(running: Running, tmp_path: Path) -> WatchService:
    """The sub-commands (watch, unwatch, brief) as `newsdesk slack` sets them up."""
    room = WatchService(WatchStore(tmp_path / "watches.sqlite3"), MemoryStore)
    running.bot.watch_commands = SlackWatchCommands(room, running.bot.client)
    return room


def test_an_article_url_can_neither_ping_nor_forge_a_link(start: Any) -> None:
    running = start(Hostile())
    send(running, mention("Who sent it?", "1700.1"), "EvHostile")
    running.fake.wait_for(lambda: len(answers(running)) == 1)
    sent = [params for method, params in running.fake.calls if method.startswith("chat.")]
    only_safe_links(sent)
    assert len(markup(answers(running))) == 1  # the one http(s) source, as a link
    shown = block_text(answers(running)[0])
    assert "[2] *Odd* (javascript:alert('&lt;!here&gt;'))" in shown  # not a link: text


def test_hostile_slash_commands_are_echoed_inert(start: Any, tmp_path: Path) -> None:
    running = start(Hostile())
    watch_commands(running, tmp_path)
    texts = [f"Did {TYPED_HOSTILE} say it?", f"watch Did {TYPED_HOSTILE} say it?", "watches",
             f"unwatch {TYPED_HOSTILE}", f"brief {TYPED_HOSTILE}", "x" * 3000 + TYPED_HOSTILE]
    acks = []
    for n, text in enumerate(texts):
        status, body = slash(running, text, f"tHostile{n}")
        assert status == 200
        acks.append(body)
    assert "&lt;!channel&gt;" in acks[0] and "Saved question 1" in acks[1]
    running.fake.wait_for(lambda: len(running.fake.responses) == 2)  # the answer; the brief's
    only_safe_links([acks, running.fake.responses])


def test_an_alert_notification_is_escaped_once(start: Any, tmp_path: Path) -> None:
    running = start(Hostile())
    room = watch_commands(running, tmp_path)
    slash(running, "watch Is A &amp; B &lt;ok&gt;?", "tAlert")
    [watch] = room.list("C1")
    assert running.bot.watch_commands is not None
    answer = Answer("q", "A &lt;b&gt; <!channel> [1].", False, (), ())
    running.bot.watch_commands.post_alert(Alert(watch, "new", answer, ("a",), ("a",)))
    [posted] = running.fake.calls_to("chat.postMessage")
    assert posted["text"] == ("New for “Is A &amp; B &lt;ok&gt;?”: "
                              "A &amp;lt;b&amp;gt; &lt;!channel&gt; [1].")


@pytest.mark.parametrize("body", [
    {"type": "event_callback", "event_id": "EvM1"},  # no event
    {"type": "event_callback", "event_id": "EvM2", "event": "app_mention"},
    {"type": "event_callback", "event_id": "EvM3", "event": ["app_mention"]},
    {"type": "event_callback", "event_id": "EvM3b", "event": {"text": "no type"}},
    {"type": "event_callback", "event_id": "EvM4", "event": {"type": "app_mention"}},
    {"type": "event_callback", "event_id": "EvM5",
     "event": {"type": "app_mention", "user": "U1", "text": None, "ts": "1.1", "channel": "C1"}},
    {"type": "event_callback", "event_id": "EvM6",
     "event": {"type": "message", "channel_type": "im", "user": "U1", "text": ["hi"]}},
    {"type": "block_actions", "actions": [{"action_id": "newsdesk_feedback_up"}]},
    [],
    "just a string",
])
def test_a_signed_but_malformed_event_gets_no_500(start: Any, body: Any,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    running = start(Hostile())
    text = json.dumps(body)
    if isinstance(body, dict) and body["type"] == "block_actions":
        text = urlencode({"payload": text})
        status, reply, _ = post(running.url, text, sign(text),
                                "application/x-www-form-urlencoded")
    else:
        status, reply, _ = post(running.url, text, sign(text))
    assert status in (200, 400), (status, reply)
    time.sleep(0.5)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


@pytest.mark.parametrize(("text", "channel", "said"), [
    (None, "C1", "can't ask that"),  # no text at all
    ("Who won?", None, "channel"),  # no channel
    ("unwatch 99999999999999999999999", "C1", "saved question"),
    ("unwatch -1", "C1", "saved question"),
    ("brief 99999999999d", "C1", "Composing"),
])
def test_a_signed_but_malformed_slash_command_gets_a_polite_reply(
        start: Any, tmp_path: Path, text: str | None, channel: str | None, said: str,
        caplog: pytest.LogCaptureFixture) -> None:
    running = start(Hostile())
    watch_commands(running, tmp_path)
    status, reply = slash(running, text, "tMalformed", channel=channel)
    assert status == 200 and said in reply, reply
    time.sleep(0.5)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


def test_other_bots_and_the_bot_itself_are_never_answered(start: Any) -> None:
    running = start(Hostile())
    question = mention("Who sent it?", "1800.1")
    send(running, {**question, "bot_id": "B2", "user": "U7"}, "EvBot1")
    send(running, {**question, "subtype": "bot_message", "user": "U7"}, "EvBot2")
    send(running, {**question, "bot_profile": {"id": "B2"}, "user": "U7"}, "EvBot3")
    send(running, {**question, "user": BOT_USER}, "EvBot4")
    dm = {"type": "message", "channel_type": "im", "channel": "D1", "ts": "1800.2",
          "text": "Who sent it?", "user": "U7", "bot_profile": {"id": "B2"}}
    send(running, dm, "EvBot5")
    send(running, mention("And a person?", "1800.3"), "EvPerson")
    running.fake.wait_for(lambda: len(answers(running)) == 1)
    time.sleep(1.0)
    [placeholder] = running.fake.calls_to("chat.postMessage")
    assert placeholder["thread_ts"] == "1800.3"


def test_a_replayed_slash_command_runs_once(start: Any, tmp_path: Path) -> None:
    running = start(Hostile())
    room = watch_commands(running, tmp_path)
    for _ in range(2):  # the same signed request, twice
        assert slash(running, "watch Who won the cup?", "tReplay1")[0] == 200
        assert slash(running, "Who won the cup?", "tReplay2")[0] == 200
    running.fake.wait_for(lambda: len(running.fake.responses) >= 1)
    time.sleep(1.0)
    assert len(room.list("C1")) == 1
    assert len(running.fake.responses) == 1
    # Another command (another trigger id) with the same text is new.
    assert "Saved question 2" in slash(running, "watch Who won the cup?", "tReplay3")[1]


def test_a_replayed_event_is_answered_once(start: Any) -> None:
    running = start(Hostile())
    body = event_body(mention("Who sent it?", "1900.1"), "EvReplay")
    headers = sign(body)
    for extra in ({}, {}, {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"}):
        assert post(running.url, body, {**headers, **extra})[0] == 200
    running.fake.wait_for(lambda: len(answers(running)) == 1)
    time.sleep(1.0)
    assert len(running.fake.calls_to("chat.postMessage")) == 1

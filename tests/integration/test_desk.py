"""Saved questions and the daily brief end to end on the desk fixture newsroom
(tests/fixtures/desk: what arrives on 1, 2 and 3 Dec 2026), with the real model and Chroma:
each day is ingested in turn, and the alerts of every ingest are kept for the tests."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.commands import cli
from bot.factory import Components
from config import load_settings
from ingest.embed.embedder import Embedder
from ingest.model.records import IngestSummary
from tests.helpers import FIXTURES

pytestmark = pytest.mark.slow

DESK = FIXTURES / "desk"
AFP = "https://wire.example/afp/orrin-feldmark"
REUTERS = "https://wire.example/reuters/orrin-feldmark"
LIBRARY = "https://gazette.example/lindqvist-appeal"
QUESTIONS = ["How many jobs will Orrin Motors cut at Feldmark?",
             "How much has the Lindqvist Library appeal raised?",
             "How many homes were flooded in Brennock?"]


@dataclass
class Desk:
    components: Components
    corpus: Path
    runs: dict[str, IngestSummary] = field(default_factory=dict)
    cli_ingest: str = ""

    def cli(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = CliRunner().invoke(cli, ["--data-dir", str(self.components.settings.data_dir),
                                          *args], env=env)
        assert result.exit_code == 0, result.output
        return result.stdout


def arrive(corpus: Path, *names: str) -> None:
    for name in names:
        shutil.copy(DESK / name, corpus / Path(name).name)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Desk:
    root = tmp_path_factory.mktemp("desk")
    corpus = root / "corpus"
    corpus.mkdir()
    components = Components(load_settings(data_dir=str(root / "data")), embedder=embedder)
    desk = Desk(components, corpus)
    for question in QUESTIONS:
        desk.cli("watch", "add", question)
    ingestor = components.build_ingestor()

    def ingest(name: str) -> None:
        desk.runs[name] = ingestor.ingest([str(corpus)])

    arrive(corpus, "day1/flood-1.json", "day1/orrin-afp.json", "day1/library.json",
           "day1/cup.json")
    ingest("day1")
    ingest("again")
    arrive(corpus, "day2/flood-2.json", "day2/orrin-reuters.json")
    ingest("copy")
    arrive(corpus, "day2/library.json")
    ingest("update")
    arrive(corpus, "day3/flood-3.json")
    # The last day as a user runs it: the CLI prints the alerts of its ingest.
    desk.cli_ingest = desk.cli("ingest", str(corpus),
                               env={"NEWSDESK_EMBEDDING__ONNX_QUERIES": "false"})
    return desk


def alerts(summary: IngestSummary) -> list[tuple[int, str, list[str]]]:
    return [(a["watch"], a["kind"], a["articles"]) for a in summary.alerts]


def test_each_saved_question_fires_once_for_the_article_that_answers_it(desk: Desk) -> None:
    first = desk.runs["day1"]
    assert first.added == 4
    assert alerts(first) == [(1, "new", [AFP]), (2, "new", [LIBRARY]),
                             (3, "new", ["https://courier.example/tallis-flood"])]
    answers = [a["answer"] for a in first.alerts]
    assert "1,200 jobs" in answers[0] and "2 million euros" in answers[1]
    assert "40 homes" in answers[2]
    assert first.alerts[0]["citations"][0]["article_id"] == AFP


def test_a_reingest_of_unchanged_articles_fires_nothing(desk: Desk) -> None:
    again = desk.runs["again"]
    assert again.unchanged == 4 and again.changed == {} and again.alerts == []


def test_a_wire_copy_of_an_alerted_story_fires_nothing_and_is_listed_as_a_reprint(
        desk: Desk) -> None:
    copy = desk.runs["copy"]
    assert copy.wire_copies == [{"id": REUTERS, "copy_of": AFP}]
    assert REUTERS in copy.changed
    assert all(watch != 1 for watch, _, _ in alerts(copy))
    # The flood's second day is news for the flood question.
    assert alerts(copy) == [(3, "new", ["https://countyradio.example/brennock-evacuation"])]
    answer = desk.components.build_engine().ask(QUESTIONS[0])
    cited = answer.citations[0].passage
    assert {cited.article_id, *(r.article_id for r in cited.reprints)} == {AFP, REUTERS}


def test_an_update_that_changes_the_answer_fires_updated(desk: Desk) -> None:
    update = desk.runs["update"]
    assert update.changed == {LIBRARY: "updated"}
    assert alerts(update) == [(2, "updated", [LIBRARY])]
    assert "3.5 million euros" in update.alerts[0]["answer"]
    # The alert says what the update changed, from the version kept (retrieval/news/changes.py).
    changes = " ".join(update.alerts[0]["changes"])
    assert "2 million euros" in changes and "3.5 million euros" in changes, changes
    listed = json.loads(desk.cli("watch", "list", "--json"))
    assert listed[1]["last_answer"] == update.alerts[0]["answer"]


def test_the_cli_ingest_prints_its_alerts(desk: Desk) -> None:
    out = desk.cli_ingest
    assert out.startswith("added 1, updated 0, unchanged 6")
    assert f"alert (new) for saved question 3: {QUESTIONS[2]!r}" in out
    assert "<https://courier.example/tallis-falls>" in out
    assert "saved question 1" not in out and "saved question 2" not in out


def test_the_brief_groups_copies_and_orders_by_coverage(desk: Desk) -> None:
    data = json.loads(desk.cli("brief", "--since", "2026-12-01", "--until", "2026-12-03",
                               "--json"))
    stories = data["stories"]
    assert data["articles"] == 7 and len(stories) == 4
    flood, jobs = stories[0], stories[1]
    # Two sources each; the flood folds three articles, the wire story two copies.
    assert (flood["articles"], flood["sources"]) == (3, ["Brennock Courier", "County Radio"])
    assert (jobs["articles"], jobs["sources"]) == (2, ["AFP", "Reuters"])
    assert jobs["article_id"] == AFP and jobs["timeline"] == []
    assert flood["article_id"] == "https://courier.example/tallis-falls"
    assert [step["published"][:10] for step in flood["timeline"]] == [
        "2026-12-01", "2026-12-02", "2026-12-03"]
    assert {s["article_id"] for s in stories[2:]} == {LIBRARY,
                                                       "https://islandsport.example/cup-final"}
    library = next(s for s in stories if s["article_id"] == LIBRARY)
    assert "3.5 million euros" in library["lead"] and library["updated"][:10] == "2026-12-02"
    text = desk.cli("brief", "--since", "2026-12-01", "--until", "2026-12-03")
    assert "Articles from 1–3 Dec 2026: 4 stories from 7 articles." in text
    assert "— ran in 2 sources" in text and "also ran in: Reuters" in text
    one_day = json.loads(desk.cli("brief", "--since", "2026-12-03", "--json"))
    assert [s["article_id"] for s in one_day["stories"]] == [
        "https://courier.example/tallis-falls"]


# -- Slack, HTTP and MCP through the factory's wiring, with the fake Slack Web API --------------


def test_slack_saves_a_question_posts_its_alert_and_the_brief(
        tmp_path: Path, embedder: Embedder) -> None:
    from urllib.parse import urlencode
    from urllib.request import Request, urlopen

    from pydantic import SecretStr

    from bot.app.metrics import Metrics
    from bot.http.app import build_app
    from bot.http.server import HttpServer
    from bot.slack.app import SlackTokens
    from tests.peers import FakeSlack, slack_signature

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    arrive(corpus, "day1/flood-1.json", "day1/orrin-afp.json", "day1/cup.json")
    components = Components(load_settings(data_dir=str(tmp_path / "data")), embedder=embedder)
    ingestor = components.build_ingestor()  # what `slack --refresh` runs
    ingestor.ingest([str(corpus)])
    fake = FakeSlack()
    tokens = SlackTokens(bot=SecretStr("xoxb-test"), app=None,
                         signing_secret=SecretStr("secret"), api_url=fake.api_url)
    metrics = Metrics()
    bot = components.build_slack_bot(tokens, components.build_desk(metrics))
    service = components.build_service(api=True, desk=components.build_desk(metrics), slack=bot,
                                       metrics=metrics, host="127.0.0.1")
    server = HttpServer(build_app(service), "127.0.0.1", 0, 10.0)
    server.start()
    url = f"http://127.0.0.1:{server.port}"

    def slash(text: str, n: int) -> str:
        form = urlencode({"command": "/ask", "text": text, "user_id": "U1",
                          "channel_id": "C0DESK", "team_id": "T1", "trigger_id": "t",
                          "response_url": f"{fake.url}/response/{n}"})
        request = Request(f"{url}/slack/events", data=form.encode(), method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded",
            **slack_signature(form, "secret")})
        with urlopen(request, timeout=30) as response:
            return str(response.read().decode())

    try:
        assert "Saved question 1" in slash(f"watch {QUESTIONS[2]}", 1)
        assert components.watch_service.list("C0DESK")[0].question == QUESTIONS[2]
        arrive(corpus, "day2/flood-2.json")
        summary = ingestor.ingest([str(corpus)])
        assert [(a["watch"], a["kind"]) for a in summary.alerts] == [(1, "new")]
        posted = fake.calls_to("chat.postMessage")
        assert [p["channel"] for p in posted] == ["C0DESK"]
        assert "300 residents" in str(posted[0]["blocks"])
        assert "New for" in posted[0]["text"]
        slash("brief 2026-12-01", 2)
        fake.wait_for(lambda: len(fake.responses) == 1)
        brief = str(fake.responses[0]["blocks"])
        assert "Tallis river bursts its banks in Brennock" in brief
        assert "Orrin Motors" in brief
        # The same saved questions and brief over the HTTP API.
        with urlopen(f"{url}/api/watches?channel=C0DESK", timeout=30) as response:
            assert [w["id"] for w in json.loads(response.read())] == [1]
        with urlopen(f"{url}/api/brief?since=2026-12-01&until=2026-12-02", timeout=30) as reply:
            assert json.loads(reply.read())["articles"] == 4
    finally:
        server.stop()
        bot.close()
        fake.close()
        service.answers.shutdown(wait=False)
        components.close()

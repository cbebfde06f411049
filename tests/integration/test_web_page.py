"""The web page (`/` of `newsdesk serve`) in a real browser: Chromium driven by Playwright,
against a real `newsdesk serve` process over a real store (the sample articles, the desk
fixture's first two days, and an article that carries markup), with the real model.

The tests run in file order over one server: the last one stops it mid-question. Without a
browser they fail, saying how to install one (tests/integration/browsing.py). The screenshot
the README shows is made here: set NEWSDESK_UPDATE_SCREENSHOT=1 to write docs/web-page.png.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.factory import Components
from config import load_settings
from ingest.embed.embedder import Embedder
from tests.helpers import FIXTURES, SAMPLES
from tests.integration.browsing import TOKEN, ServeProcess, launch_browser

pytestmark = [pytest.mark.slow, pytest.mark.browser]

DESK = FIXTURES / "desk"
SCREENSHOT = Path(__file__).parents[2] / "docs" / "web-page.png"
LIBRARY_URL = "https://gazette.example/lindqvist-appeal"
LIBRARY_QUESTION = "How much has the Lindqvist Library appeal raised?"
# An article whose headline, byline and text hold markup that would run if inserted as HTML.
HOSTILE = {
    "title": 'Cat show <img src=x onerror="window.__pwned=1"> crowns a tabby',
    "body": "The Port Alder cat show drew 400 cats on Sunday. Organisers pinned "
            "<script>window.__pwned=2;alert(1)</script> to the noticeboard by mistake. "
            "Judges named a tabby called Biscuit best in show, ahead of 38 Maine Coons.",
    "source": "Hostile Gazette", "author": "<b onmouseover=alert(3)>Mallory</b>",
    "published_at": "2026-11-20T09:00:00Z", "url": "https://hostile.example/cat-show",
}
# Records every text node added to the streaming answer, to see that tokens arrive before the
# whole answer is drawn (Playwright injects it beside the page: the page's CSP is untouched).
TOKEN_WATCH = """
window.__tokens = [];
new MutationObserver((records) => {
  for (const record of records) for (const node of record.addedNodes) {
    const parent = node.parentElement;
    if (node.nodeType === 3 && parent && parent.classList.contains("streaming"))
      window.__tokens.push(node.textContent);
  }
}).observe(document, {childList: true, subtree: true});
"""


@dataclass
class Desk:
    server: ServeProcess
    components: Components
    corpus: Path
    browser: Any
    library_updated: bool = False

    def update_library(self) -> None:
        """The library appeal's second version arrives (2 Dec: 3.5 million euros), ingested
        by another process than the server, as `newsdesk ingest` would; once."""
        if not self.library_updated:
            shutil.copy(DESK / "day2" / "library.json", self.corpus / "library.json")
            summary = self.components.build_ingestor().ingest([str(self.corpus)])
            assert summary.updated == 1, summary
            self.library_updated = True


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder,
         playwright: Any) -> Iterator[Desk]:
    browser = launch_browser(playwright)  # first: without a browser, fail before the rest
    root = tmp_path_factory.mktemp("web")
    corpus = root / "corpus"
    shutil.copytree(SAMPLES, corpus)
    for name in ("day1/flood-1.json", "day1/orrin-afp.json", "day1/library.json",
                 "day1/cup.json", "day2/flood-2.json", "day2/orrin-reuters.json"):
        shutil.copy(DESK / name, corpus / Path(name).name)
    (corpus / "cat-show.json").write_text(json.dumps(HOSTILE), encoding="utf-8")
    components = Components(load_settings(data_dir=str(root / "data")), embedder=embedder)
    components.build_ingestor().ingest([str(corpus)])
    server = ServeProcess(root / "data")
    try:
        server.wait_ready()
        yield Desk(server, components, corpus, browser)
    finally:
        server.stop()
        components.close()
        browser.close()


@dataclass
class Page:
    """A browser tab on the desk, with what it saw: dialogs, script errors, CSP reports and
    the bodies it sent to /api/ask."""

    page: Any
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    asked: list[dict[str, Any]] = field(default_factory=list)

    def enter_token(self, token: str = TOKEN) -> None:
        self.page.get_by_label("API token").fill(token)
        self.page.get_by_role("button", name="Use this token").click()

    def ask(self, question: str) -> Any:
        """Type `question`, send it with Enter; the newest answered turn."""
        before = self.page.locator(".turn:not(.pending)").count()
        box = self.page.get_by_label("Your question")
        box.fill(question)
        box.press("Enter")
        turn = self.page.locator(".turn:not(.pending)").nth(before)
        turn.locator(".answer").wait_for()
        return turn

    def tab(self, name: str) -> None:
        self.page.get_by_role("navigation", name="Views").get_by_role(
            "button", name=name, exact=True).click()


def open_page(desk: Desk, token: str | None = TOKEN, **context: Any) -> Page:
    browser_context = desk.browser.new_context(**context)
    page = browser_context.new_page()
    page.set_default_timeout(60_000)  # a question on a busy CI machine: a deadline only
    seen = Page(page)

    def dialog(opened: Any) -> None:
        seen.dialogs.append(opened.message)
        opened.dismiss()

    def console(message: Any) -> None:
        if "Content Security Policy" in message.text:
            seen.errors.append(message.text)

    def request(sent: Any) -> None:
        if sent.url.endswith("/api/ask") and sent.method == "POST":
            seen.asked.append(json.loads(sent.post_data or "{}"))

    page.on("dialog", dialog)
    page.on("console", console)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.on("request", request)
    page.add_init_script(TOKEN_WATCH)
    page.goto(desk.server.base + "/")
    if token is not None:
        seen.enter_token(token)
        page.locator("#status").filter(has_text="articles").wait_for()
    return seen


@pytest.fixture
def tab(desk: Desk) -> Iterator[Page]:
    seen = open_page(desk, viewport={"width": 1280, "height": 900})
    yield seen
    assert seen.errors == [] and seen.dialogs == []
    seen.page.context.close()


def test_the_page_asks_for_the_token_first_and_nothing_is_answered_before_it(
        desk: Desk) -> None:
    seen = open_page(desk, token=None)
    page = seen.page
    answered: list[str] = []
    page.on("response", lambda r: answered.append(r.url) if "/api/" in r.url and r.ok
            else None)
    assert page.get_by_label("API token").is_visible()
    assert not page.get_by_label("Your question").is_visible()
    seen.enter_token("not-the-token")
    page.locator("#error").filter(has_text="not this desk's").wait_for()
    assert page.get_by_label("API token").is_visible() and answered == []
    seen.enter_token()
    page.locator("#status").filter(has_text="articles").wait_for()
    assert page.get_by_label("Your question").is_visible() and answered
    # The token is never in a URL, and the page itself carries no store data.
    assert all(TOKEN not in url for url in answered)
    html = httpx.get(desk.server.base + "/").text
    assert "Harbour" not in html and 'data-token-required="true"' in html
    assert seen.errors == [] and seen.dialogs == []
    page.context.close()


def test_the_page_is_sent_with_a_strict_content_security_policy(desk: Desk) -> None:
    for path in ("/", "/static/page.js", "/static/page.css"):
        response = httpx.get(desk.server.base + path)
        policy = response.headers["content-security-policy"]
        assert response.status_code == 200 and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy and "default-src 'none'" in policy
    assert httpx.get(desk.server.base + "/static/../config/default.toml").status_code == 404
    assert httpx.get(desk.server.base + "/api/stats").status_code == 401


def test_an_answer_streams_then_its_marker_opens_the_passage_with_the_sentence_marked(
        tab: Page) -> None:
    page = tab.page
    box = page.get_by_label("Your question")
    box.fill("first line")
    box.press("Shift+Enter")
    box.press_sequentially("second line")
    assert box.input_value() == "first line\nsecond line" and tab.asked == []
    turn = tab.ask("How much did the Kestrel Harbour Bridge repair cost?")
    streamed = "".join(page.evaluate("window.__tokens"))
    assert "84 million euros" in streamed
    assert "84 million euros" in turn.locator(".answer").inner_text()
    marker = turn.get_by_role("link", name="[1]").first
    marker.focus()
    marker.press("Enter")  # the keyboard opens it as a click does
    panel = page.locator("#passage")
    panel.wait_for()
    assert panel.get_by_role("heading").inner_text() == (
        "Harbour Bridge Reopens After Two-Year Repair")
    assert "published 14 Mar 2025" in panel.locator("#passage-meta").inner_text()
    highlighted = panel.locator("mark").inner_text()
    assert "84 million euros" in highlighted and "212 suspension cables" not in highlighted
    assert "212 suspension cables" in panel.locator("#passage-text").inner_text()
    # "Why this answer": the question as read, the candidates, the decision.
    turn.get_by_role("button", name="Why this answer").click()
    trace = turn.locator(".trace")
    assert "money" in trace.inner_text() and "Decision" in trace.inner_text()
    assert trace.locator("tbody tr").count() >= 1
    if os.environ.get("NEWSDESK_UPDATE_SCREENSHOT") == "1":
        page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_a_copy_of_a_wire_story_is_listed_under_its_source(tab: Page) -> None:
    turn = tab.ask("How many jobs will Orrin Motors cut at Feldmark?")
    assert "1,200" in turn.locator(".answer").inner_text()
    turn.get_by_role("link", name="[1]").first.click()
    also = tab.page.locator("#passage-also").inner_text()
    assert also.startswith("Also ran in: ") and ("Reuters" in also or "AFP" in also)


def test_a_follow_up_sends_the_conversation_which_survives_a_reload_until_a_new_one(
        tab: Page) -> None:
    page = tab.page
    first = tab.ask("When did the Kestrel Harbour Bridge reopen?")
    said = first.locator(".answer").inner_text()
    second = tab.ask("How many suspension cables were replaced on it?")
    assert "212" in second.locator(".answer").inner_text()
    assert tab.asked[-1]["history"] == [["When did the Kestrel Harbour Bridge reopen?",
                                         tab.asked[-1]["history"][0][1]]]
    assert tab.asked[-1]["history"][0][1].split("[")[0].strip() in said
    page.reload()
    page.locator(".turn").nth(1).wait_for()
    assert page.locator(".turn .asked").all_inner_texts() == [
        "When did the Kestrel Harbour Bridge reopen?",
        "How many suspension cables were replaced on it?"]
    page.get_by_role("button", name="New conversation").click()
    assert page.locator(".turn").count() == 0
    page.reload()
    page.locator("#status").filter(has_text="articles").wait_for()
    assert page.locator(".turn").count() == 0
    tab.ask("Who won the cup final?")
    assert tab.asked[-1]["history"] == []


def test_removing_the_window_and_source_chips_asks_again_without_them(tab: Page) -> None:
    page = tab.page
    page.get_by_text("Dates, source and “as of”").click()
    form = page.locator("#ask-form")  # the brief has fields of the same names
    form.get_by_label("As of").fill("2026-12-03")
    question = "How many jobs will Orrin Motors cut, according to the news in December 2026?"
    turn = tab.ask(question)
    window = turn.get_by_role("group", name="What was read")
    assert window.get_by_text("Articles from 1–3 Dec 2026").is_visible()
    assert window.get_by_text("As of 3 Dec 2026").is_visible()
    assert tab.asked[-1]["as_of"] == "2026-12-03" and tab.asked[-1]["time_words"] is True
    window.get_by_role("button", name=re.compile("^Remove the window")).click()
    page.locator(".turn:not(.pending) .chips").filter(has_text="As of").wait_for()
    again = page.locator(".turn:not(.pending)").last
    assert tab.asked[-1]["time_words"] is False and "since" not in tab.asked[-1]
    assert again.locator(".asked").inner_text() == question
    assert "Articles from" not in again.locator(".chips").inner_text()
    assert "1,200" in again.locator(".answer").inner_text()
    assert page.locator(".turn").count() == 1  # the turn was asked again, not added
    # A source picked in the filters is a chip too; removing it asks over every source.
    form.get_by_label("Source").select_option("AFP")
    page.get_by_role("button", name="Ask the last question again with these").click()
    page.locator(".chip").filter(has_text="Source: AFP").wait_for()
    assert tab.asked[-1]["source"] == ["AFP"]
    page.get_by_role("button", name="Remove the source AFP: ask again over every source").click()
    page.locator(".turn:not(.pending) .answer").wait_for()  # the pending turn replaced it
    assert "source" not in tab.asked[-1]
    assert "Source: AFP" not in page.locator(".turn").inner_text()


def test_a_vote_is_stored_and_listed_by_newsdesk_feedback(desk: Desk, tab: Page) -> None:
    turn = tab.ask("Who won the cup final?")
    turn.get_by_role("button", name="Bad answer").click()
    turn.get_by_text("Thanks: recorded.").wait_for()
    assert turn.get_by_role("button", name="Bad answer").get_attribute("aria-pressed") == "true"
    listed = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--data-dir", str(desk.server.data_dir), "feedback",
         "--json"], capture_output=True, text=True, check=True).stdout
    votes = [json.loads(line) for line in listed.splitlines()]
    assert [(v["vote"], v["channel"], v["question"]) for v in votes] == [
        ("down", "web", "Who won the cup final?")]
    assert votes[0]["citations"] and votes[0]["answer"].strip()


def test_the_status_line_says_how_fresh_the_store_is(tab: Page) -> None:
    status = tab.page.locator("#status").inner_text()
    assert status.startswith("13 articles from ") and "newest article 2 Dec 2026" in status
    assert re.search(r"last ingest (just now|\d+ min ago)", status), status


def test_the_brief_lists_the_stories_with_copies_collapsed_and_cited(tab: Page) -> None:
    page = tab.page
    tab.tab("Brief")
    page.get_by_label("Since").fill("2026-12-01")
    page.get_by_label("Until").fill("2026-12-02")
    page.get_by_role("button", name="Show the brief").click()
    result = page.locator("#brief-result")
    result.locator(".story").first.wait_for()
    assert result.locator(".window").inner_text().startswith("Articles from 1–2 Dec 2026")
    orrin = result.locator(".story").filter(has_text="Orrin Motors")
    assert orrin.count() == 1  # the Reuters copy is not a story of its own
    copies = orrin.locator("details.copies")
    assert not copies.locator("li").first.is_visible()  # collapsed until opened
    copies.locator("summary").click()
    assert sorted(copies.locator("li").all_inner_texts()) == ["AFP", "Reuters"]
    orrin.locator("a.cite").first.click()
    assert "Orrin" in page.locator("#passage-title").inner_text()
    assert page.locator("#passage mark").count() == 1


def test_the_timeline_view_gives_the_story_day_by_day(tab: Page) -> None:
    page = tab.page
    tab.tab("Timeline")
    page.get_by_label("Topic", exact=True).fill("the Brennock flood")
    page.get_by_role("button", name="Show the timeline").click()
    answer = page.locator("#timeline-result .answer")
    answer.wait_for()
    lines = answer.inner_text().splitlines()
    assert lines[0].startswith("1 Dec 2026 — ") and lines[1].startswith("2 Dec 2026 — ")
    answer.get_by_role("link", name="[2]").click()
    assert page.locator("#passage mark").inner_text() in lines[1]


def test_a_saved_question_is_listed_its_alert_shown_and_it_can_be_removed(
        desk: Desk, tab: Page) -> None:
    page = tab.page
    tab.tab("Saved questions")
    page.get_by_label("Question to keep asking").fill(LIBRARY_QUESTION)
    page.get_by_role("button", name="Save", exact=True).click()
    saved = page.locator("#saved-list li").filter(has_text=LIBRARY_QUESTION)
    saved.wait_for()
    desk.update_library()
    tab.tab("Ask")
    tab.tab("Saved questions")  # shown afresh
    alert = page.locator("#alert-list li").filter(has_text=LIBRARY_QUESTION)
    alert.wait_for()
    assert "3.5 million euros" in alert.inner_text()
    saved.get_by_role("button", name=re.compile("^Remove saved question")).click()
    saved.wait_for(state="detached")
    assert page.locator("#saved-list").inner_text().strip() == "No saved questions yet."


def test_what_changed_shows_the_articles_versions(desk: Desk, tab: Page) -> None:
    desk.update_library()
    page = tab.page
    tab.tab("What changed")
    page.get_by_label("Article URL or topic").fill(LIBRARY_URL)
    page.get_by_role("button", name="Show what changed").click()
    answer = page.locator("#changes-result .answer")
    answer.wait_for()
    text = answer.inner_text()
    assert "3.5 million" in text and "2 million" in text
    answer.locator("a.cite").first.click()
    assert "Lindqvist" in page.locator("#passage-title").inner_text()


def test_an_article_holding_markup_shows_it_as_words_and_runs_nothing(tab: Page) -> None:
    page = tab.page
    turn = tab.ask("Which cat was named best in show at the Port Alder cat show?")
    assert "Biscuit" in turn.locator(".answer").inner_text()
    turn.get_by_role("link", name="[1]").first.click()
    panel = page.locator("#passage")
    assert panel.get_by_role("heading").inner_text() == HOSTILE["title"]
    assert "<script>window.__pwned=2;alert(1)</script>" in panel.locator(
        "#passage-text").inner_text()
    assert "<b onmouseover=alert(3)>Mallory</b>" in panel.locator("#passage-meta").inner_text()
    assert turn.locator(".sources").get_by_text(HOSTILE["title"]).is_visible()
    panel.locator("#passage-meta").hover()
    assert page.locator("main img, aside img, main script, aside script, aside b").count() == 0
    assert page.evaluate("window.__pwned") is None
    # (the `tab` fixture then checks that no dialog opened and no script error occurred)


def test_the_page_fits_a_phone_and_every_field_is_labelled(desk: Desk) -> None:
    seen = open_page(desk, viewport={"width": 375, "height": 740}, color_scheme="dark")
    page = seen.page
    turn = seen.ask("How much did the Kestrel Harbour Bridge repair cost?")
    turn.get_by_role("link", name="[1]").first.click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    unlabelled = page.evaluate("""[...document.querySelectorAll('input, textarea, select')]
        .filter((e) => e.labels.length === 0).map((e) => e.id)""")
    assert unlabelled == []
    dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert dark == "rgb(18, 18, 18)"
    assert seen.errors == [] and seen.dialogs == []
    page.context.close()


def test_a_server_stopped_mid_question_gives_a_one_line_error(desk: Desk, tab: Page) -> None:
    # Last: this stops the module's server.
    page = tab.page
    desk.server.freeze()
    box = page.get_by_label("Your question")
    box.fill("How much did the Kestrel Harbour Bridge repair cost?")
    box.press("Enter")
    page.locator(".turn.pending").wait_for()
    desk.server.kill()
    error = page.locator("#error")
    error.wait_for()
    assert error.inner_text() == "Cannot reach the Newsdesk server: it may have stopped."
    assert page.locator(".turn").count() == 0 and page.get_by_label("Your question").is_visible()

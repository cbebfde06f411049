"""The web page's speed on the sample articles, in a real Chromium (as the tests drive it).

Ingests docs/samples into a fresh data directory, starts `newsdesk serve` in a process of its
own (with an API token, as a newsroom runs it), then over `--rounds` fresh browser contexts
(no cache, no stored token) measures, each time:

- page load: navigation start to the load event of `/` (HTML, script, style);
- page ready: navigation start to the status line showing the store (the token entered at
  once, /api/stats answered);
- first token: Enter pressed to the first words of the answer on screen (/api/ask's stream);
- answer: Enter pressed to the whole answer drawn, with its markers.

Medians (and the slowest) in milliseconds go to bench/results/page_load.json. Target: page
load under 300 ms. The browser is found as the tests find it (tests/integration/browsing.py:
NEWSDESK_TEST_BROWSER, else chromium on the PATH).

    python bench/page_load.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import median, save
from bot.factory import Components
from config import load_settings
from tests.helpers import SAMPLES
from tests.integration.browsing import TOKEN, ServeProcess, launch_browser

QUESTIONS = ["How much did the bridge repair cost?", "Who won the cup final?",
             "How much will water bills rise?", "Where was the stolen painting found?"]
# Times, on the page's own clock, of the Enter that sends a question and of the first words
# of its answer (Playwright adds this beside the page; the page's CSP is untouched).
CLOCK = """
window.__sent = null; window.__first = null;
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && event.target.id === "question")
    window.__sent = performance.now();
}, true);
new MutationObserver((records) => {
  if (window.__first !== null) return;
  for (const record of records) for (const node of record.addedNodes) {
    const parent = node.parentElement;
    if (node.nodeType === 3 && parent && parent.classList.contains("streaming"))
      window.__first = performance.now();
  }
}).observe(document, {childList: true, subtree: true});
"""


def one_round(browser: Any, base: str, question: str) -> dict[str, float]:
    context = browser.new_context()
    page = context.new_page()
    page.add_init_script(CLOCK)
    page.goto(base + "/")
    page.get_by_label("API token").fill(TOKEN)
    page.get_by_role("button", name="Use this token").click()
    page.locator("#status").filter(has_text="articles").wait_for()
    ready = page.evaluate("performance.now()")
    load = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    page.get_by_label("Your question").fill(question)
    page.get_by_label("Your question").press("Enter")
    page.locator(".turn:not(.pending) .answer").wait_for()
    answered = page.evaluate("performance.now()")
    sent, first = page.evaluate("[window.__sent, window.__first]")
    context.close()
    return {"page_load": load, "page_ready": ready, "first_token": first - sent,
            "answer": answered - sent}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as root:
        corpus = Path(root) / "samples"
        shutil.copytree(SAMPLES, corpus)
        components = Components(load_settings(data_dir=str(Path(root) / "data")))
        components.build_ingestor().ingest([str(corpus)])
        components.close()
        server = ServeProcess(Path(root) / "data")
        try:
            server.wait_ready()
            with sync_playwright() as playwright:
                browser = launch_browser(playwright)
                one_round(browser, server.base, QUESTIONS[0])  # warm: the first question
                runs = [one_round(browser, server.base, QUESTIONS[i % len(QUESTIONS)])
                        for i in range(args.rounds)]
                version = browser.version
                browser.close()
        finally:
            server.stop()
    result: dict[str, Any] = {"rounds": args.rounds, "browser": version,
                              "corpus": "docs/samples (6 articles)"}
    for key in ("page_load", "page_ready", "first_token", "answer"):
        values = [run[key] for run in runs]
        result[f"{key}_ms"] = {"median": round(median(values), 1),
                               "max": round(max(values), 1)}
    save("page_load", result)


if __name__ == "__main__":
    main()

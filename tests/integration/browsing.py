"""A real browser and a real `newsdesk serve` for the web page's tests (test_web_page.py) and
its benchmark (bench/page_load.py).

The browser is Chromium driven by Playwright: `NEWSDESK_TEST_BROWSER` (a Chromium or Chrome
executable) when set, else `chromium` / `chromium-browser` / `google-chrome` on the PATH (on
Debian: `apt-get install chromium`), else the browser `playwright install chromium`
downloaded. When there is none the tests fail, saying how to get one: a browser test that
skips itself would pass in CI without having run.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
NO_BROWSER = (
    "no Chromium for the web page's browser tests: on Debian or Ubuntu run "
    "`apt-get install -y chromium` (the README's test command does it when it can); "
    "elsewhere `playwright install chromium`, or point NEWSDESK_TEST_BROWSER at a Chromium "
    "or Chrome executable"
)
TOKEN = "web-page-token-for-tests-0123456789"


def browser_executable() -> str | None:
    """The Chromium to drive: NEWSDESK_TEST_BROWSER, else one on the PATH, else None
    (Playwright's own download, if `playwright install chromium` was run)."""
    chosen = os.environ.get("NEWSDESK_TEST_BROWSER", "").strip()
    if chosen:
        found = shutil.which(chosen) or (chosen if Path(chosen).is_file() else None)
        if found is None:
            raise RuntimeError(f"NEWSDESK_TEST_BROWSER={chosen!r} is not an executable; "
                               + NO_BROWSER)
        return found
    return next((path for name in BROWSER_NAMES if (path := shutil.which(name))), None)


def launch_browser(playwright: Any) -> Any:
    """Chromium, headless; RuntimeError(NO_BROWSER) when there is none to launch."""
    executable = browser_executable()
    try:
        return playwright.chromium.launch(executable_path=executable, headless=True)
    except Exception as exc:  # Playwright's own error names its cache, not what to do
        raise RuntimeError(f"{NO_BROWSER} ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0]})") from None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServeProcess:
    """`newsdesk serve` in a process of its own over `data_dir`, with the API token set."""

    def __init__(self, data_dir: Path, token: str | None = TOKEN) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        environ = {k: v for k, v in os.environ.items()
                   if not k.startswith(("NEWSDESK_", "SLACK_"))}
        environ["NEWSDESK_DATA_DIR"] = str(data_dir)
        if token is not None:
            environ["NEWSDESK_API_TOKEN"] = token
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(self.port)],
            env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def wait_ready(self, timeout: float = 300) -> None:
        """Poll /readyz until it says ready (a deadline, not a speed check)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"newsdesk serve exited: {self.process.communicate()[1]}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise AssertionError("newsdesk serve never said it was ready")

    def freeze(self) -> None:
        """Stop the process where it stands (SIGSTOP): connections are accepted by the
        kernel, nothing answers them."""
        self.process.send_signal(signal.SIGSTOP)

    def kill(self) -> None:
        self.process.kill()
        self.process.communicate(timeout=60)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()

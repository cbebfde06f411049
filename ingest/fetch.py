"""HTTP fetching for URL and feed sources (wraps httpx)."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import httpx

from config.errors import SourceError
from config.settings import IngestSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    content: bytes
    content_type: str
    not_modified: bool = False  # a conditional GET answered 304: nothing new to load


class Validators:
    """ETag / Last-Modified per URL, kept in a JSON file so an unchanged feed costs one request.

    Validators of a response are only saved (`commit`) once its articles are stored, so a run
    that fails part-way fetches the source in full next time.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._pending: dict[str, dict[str, str]] = {}
        try:
            self._saved: dict[str, dict[str, str]] = json.loads(path.read_text())
        except (OSError, ValueError):
            self._saved = {}

    def headers(self, url: str) -> dict[str, str]:
        saved = self._saved.get(url, {})
        headers = {}
        if saved.get("etag"):
            headers["If-None-Match"] = saved["etag"]
        if saved.get("last_modified"):
            headers["If-Modified-Since"] = saved["last_modified"]
        return headers

    def seen(self, url: str, etag: str | None, last_modified: str | None) -> None:
        if etag or last_modified:
            with self._lock:
                self._pending[url] = {"etag": etag or "", "last_modified": last_modified or ""}

    def commit(self, url: str) -> None:
        with self._lock:
            if url not in self._pending:
                return
            self._saved[url] = self._pending.pop(url)
            self._path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self._saved, indent=1))
            tmp.replace(self._path)


class HttpFetcher:
    """GET with timeouts, a size cap and redirects followed; every failure is a SourceError.

    `fetch_timeout` bounds connecting and each read; `fetch_deadline` bounds the whole
    download, so a server that trickles bytes cannot hold a run (or a watch loop) for ever.
    """

    def __init__(self, settings: IngestSettings, validators: Validators | None = None) -> None:
        self._max_bytes = settings.max_fetch_bytes
        self._deadline = settings.fetch_deadline
        self.validators = validators
        self._client = httpx.Client(
            timeout=settings.fetch_timeout,
            follow_redirects=True,
            headers={"User-Agent": settings.user_agent},
        )

    def get(self, url: str, conditional: bool = False) -> Fetched:
        """GET `url`; with `conditional`, send the saved validators and report a 304.

        The download runs in a worker thread so that the deadline holds even while a read is
        blocked (httpx has per-read timeouts only); past it, the worker is told to stop at its
        next read and the caller gets a SourceError at once.
        """
        outcome: list[Fetched | BaseException] = []
        cancelled = threading.Event()

        def download() -> None:
            try:
                outcome.append(self._download(url, conditional, cancelled))
            except BaseException as exc:  # handed to the caller's thread
                outcome.append(exc)

        worker = threading.Thread(target=download, name="newsdesk-fetch", daemon=True)
        worker.start()
        worker.join(self._deadline)
        if not outcome:
            cancelled.set()
            raise SourceError(url, f"download did not finish within {self._deadline:g} s")
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return outcome[0]

    def _download(self, url: str, conditional: bool, cancelled: threading.Event) -> Fetched:
        headers = self.validators.headers(url) if conditional and self.validators else {}
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code == 304 and headers:
                    log.info("%s not modified since the last ingest", url)
                    return Fetched(url=str(response.url), content=b"", content_type="",
                                   not_modified=True)
                if response.status_code >= 400:
                    raise SourceError(url, f"HTTP {response.status_code} {response.reason_phrase}")
                declared = int(response.headers.get("content-length") or 0)
                if declared > self._max_bytes:
                    raise SourceError(url, f"response too large ({declared} bytes)")
                body = bytearray()
                for piece in response.iter_bytes():
                    if cancelled.is_set():
                        raise SourceError(url, "download cancelled at its deadline")
                    body.extend(piece)
                    if len(body) > self._max_bytes:
                        raise SourceError(url, f"response larger than {self._max_bytes} bytes")
                if conditional and self.validators:
                    self.validators.seen(url, response.headers.get("etag"),
                                         response.headers.get("last-modified"))
                return Fetched(
                    url=str(response.url),
                    content=bytes(body),
                    content_type=response.headers.get("content-type", "").lower(),
                )
        except httpx.TimeoutException:
            raise SourceError(url, "timed out") from None
        except httpx.HTTPError as exc:
            raise SourceError(url, f"request failed: {exc.__class__.__name__}: {exc}") from None

    def commit(self, url: str) -> None:
        if self.validators is not None:
            self.validators.commit(url)

    def close(self) -> None:
        self._client.close()

"""HTTP fetching for URL and feed sources (wraps httpx)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from ingest.errors import SourceError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    content: bytes
    content_type: str


class HttpFetcher:
    """GET with a timeout, a size cap and redirects followed; every failure is a SourceError."""

    def __init__(self, timeout: float, max_bytes: int, user_agent: str) -> None:
        self._max_bytes = max_bytes
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=True,
            headers={"User-Agent": user_agent},
        )

    def get(self, url: str) -> Fetched:
        try:
            with self._client.stream("GET", url) as response:
                if response.status_code >= 400:
                    raise SourceError(url, f"HTTP {response.status_code} {response.reason_phrase}")
                declared = int(response.headers.get("content-length") or 0)
                if declared > self._max_bytes:
                    raise SourceError(url, f"response too large ({declared} bytes)")
                body = bytearray()
                for piece in response.iter_bytes():
                    body.extend(piece)
                    if len(body) > self._max_bytes:
                        raise SourceError(url, f"response larger than {self._max_bytes} bytes")
                return Fetched(
                    url=str(response.url),
                    content=bytes(body),
                    content_type=response.headers.get("content-type", "").lower(),
                )
        except httpx.TimeoutException:
            raise SourceError(url, "timed out") from None
        except httpx.HTTPError as exc:
            raise SourceError(url, f"request failed: {exc.__class__.__name__}: {exc}") from None

    def close(self) -> None:
        self._client.close()

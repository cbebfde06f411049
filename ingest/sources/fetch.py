"""HTTP fetching for URL and feed sources (wraps httpx)."""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import threading
import urllib.request
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urljoin, urlsplit

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


class Fetcher(Protocol):
    """How loaders fetch URL sources and the pages feeds link to (HttpFetcher; fakes in tests)."""

    def get(self, url: str, conditional: bool = False,
            linked_from: str | None = None) -> Fetched:
        """GET `url`. `linked_from` names the feed that linked to it: such a page is refused
        (SourceError) on an internal address unless it is on the feed's own host."""

    def commit(self, url: str) -> None:
        """The articles from `url` are stored: remember its validators for conditional GET."""


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


MAX_REDIRECTS = 10

Resolve = Callable[[str], Sequence[str]]


def _resolve(host: str) -> list[str]:
    """The addresses `host` resolves to (empty when it does not resolve)."""
    try:
        return [str(info[4][0]) for info in socket.getaddrinfo(host, None)]
    except (OSError, UnicodeError):
        return []


def is_internal(address: str) -> bool:
    """Loopback, private, link-local (cloud metadata: 169.254.169.254), shared, reserved,
    multicast or unspecified: an address a feed's publisher must not make us read."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True  # not an address we can judge: refused
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
            or ip.is_multicast or ip.is_unspecified or not ip.is_global)


def refusal(url: str, linked_from: str | None, allowed_hosts: Iterable[str],
            resolve: Resolve = _resolve) -> str | None:
    """Why a page may not be fetched, or None. Only pages a feed links to (`linked_from`,
    the feed's URL or path) are judged: one whose host resolves to an internal address is
    refused, unless it is the feed's own host or in `allowed_hosts`. The operator's own
    sources are the operator's choice."""
    if linked_from is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"not an http(s) link ({parts.scheme or 'no scheme'})"
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return "a link with no host"
    feed_host = (urlsplit(linked_from).hostname or "").lower().rstrip(".")
    if host == feed_host or host in {h.lower().rstrip(".") for h in allowed_hosts}:
        return None
    try:
        addresses: Sequence[str] = [str(ipaddress.ip_address(host))]  # an address itself
    except ValueError:
        addresses = resolve(host)
    internal = [a for a in addresses if is_internal(a)]
    if internal:
        return (f"refused: a feed's link to an internal address ({host} is {internal[0]}); "
                "list the host in [ingest] allow_private_hosts to allow it")
    return None


def _proxied(url: str) -> bool:
    """Whether httpx sends `url` through a proxy named in the environment (HTTP_PROXY, ...)."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    return bool(proxies.get(parts.scheme) or proxies.get("all")) and not (
        urllib.request.proxy_bypass(parts.hostname or ""))


class Inflater:
    """Decodes a response body of one `Content-Encoding` (none, gzip or deflate) chunk by
    chunk, never producing more than it is asked for; any other encoding, or several stacked,
    is a SourceError."""

    def __init__(self, url: str, content_encoding: str) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c not in ("", "identity")]
        self._url = url
        self._maybe_raw = False  # deflate: until a chunk shows a zlib header (servers differ)
        if not codings:
            self._decoder: zlib._Decompress | None = None
        elif len(codings) == 1 and codings[0] in ("gzip", "x-gzip"):
            self._decoder = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif len(codings) == 1 and codings[0] == "deflate":
            self._decoder = zlib.decompressobj(zlib.MAX_WBITS)
            self._maybe_raw = True
        else:
            raise SourceError(url, f"unsupported content encoding: {content_encoding!r}")

    def inflate(self, data: bytes, limit: int) -> bytes:
        """`data` decoded, at most `limit` bytes of it: more means the body is over `limit`
        (the caller refuses it), so the rest is never inflated."""
        if self._decoder is None:
            return data
        try:
            out = self._decoder.decompress(data, limit)
        except zlib.error:
            if not self._maybe_raw:
                raise SourceError(self._url, "malformed compressed body") from None
            self._maybe_raw = False
            self._decoder = zlib.decompressobj(-zlib.MAX_WBITS)  # deflate without a header
            return self.inflate(data, limit)
        self._maybe_raw = False
        return out


class HttpFetcher:
    """GET with timeouts, a size cap and redirects followed; every failure is a SourceError.

    `fetch_timeout` bounds connecting and each read; `fetch_deadline` bounds the whole
    download, so a server that trickles bytes cannot hold a run (or a watch loop) for ever.
    """

    def __init__(self, settings: IngestSettings, validators: Validators | None = None) -> None:
        self._max_bytes = settings.max_fetch_bytes
        self._deadline = settings.fetch_deadline
        self._allowed_hosts = tuple(settings.allow_private_hosts)
        self.validators = validators
        # Redirects are followed here, one hop at a time, so that each hop of a feed's link
        # is judged by `refusal` before it is requested.
        self._client = httpx.Client(
            timeout=settings.fetch_timeout,
            follow_redirects=False,
            # Only encodings whose decoding `_read` can bound (see `Inflater`).
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        )

    def get(self, url: str, conditional: bool = False,
            linked_from: str | None = None) -> Fetched:
        """GET `url`; with `conditional`, send the saved validators and report a 304. With
        `linked_from` (the feed that links to it), every hop is checked by `refusal`.

        The download runs in a worker thread so that the deadline holds even while a read is
        blocked (httpx has per-read timeouts only); past it, the worker is told to stop at its
        next read and the caller gets a SourceError at once.
        """
        outcome: list[Fetched | BaseException] = []
        cancelled = threading.Event()

        def download() -> None:
            try:
                outcome.append(self._download(url, conditional, cancelled, linked_from))
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

    def _download(self, url: str, conditional: bool, cancelled: threading.Event,
                  linked_from: str | None) -> Fetched:
        headers = self.validators.headers(url) if conditional and self.validators else {}
        target = url
        try:
            for _ in range(MAX_REDIRECTS + 1):
                refused = refusal(target, linked_from, self._allowed_hosts)
                if refused is not None:
                    raise SourceError(url, refused)
                with self._client.stream("GET", target, headers=headers) as response:
                    refused = self._peer_refusal(target, response, linked_from)
                    if refused is not None:
                        raise SourceError(url, refused)
                    if response.is_redirect and "location" in response.headers:
                        target = urljoin(str(response.url), response.headers["location"])
                        # A source named by the operator is fetched wherever it is; where its
                        # publisher redirects it is judged as a feed's link (its host allowed).
                        linked_from = linked_from or url
                        continue
                    return self._read(url, response, conditional, headers, cancelled)
            raise SourceError(url, f"more than {MAX_REDIRECTS} redirects")
        except httpx.TimeoutException:
            raise SourceError(url, "timed out") from None
        except httpx.HTTPError as exc:
            raise SourceError(url, f"request failed: {exc.__class__.__name__}: {exc}") from None

    def _peer_refusal(self, target: str, response: httpx.Response,
                      linked_from: str | None) -> str | None:
        """`refusal` again for the address actually connected to, before anything is read: a
        name may resolve to a public address when judged and to an internal one a moment
        later (DNS rebinding). Through a proxy, the proxy resolves names: nothing to judge."""
        if linked_from is None or _proxied(target):
            return None
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        address = str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
        return refusal(target, linked_from, self._allowed_hosts, lambda _host: [address])

    def _read(self, url: str, response: httpx.Response, conditional: bool,
              headers: dict[str, str], cancelled: threading.Event) -> Fetched:
        if response.status_code == 304 and headers:
            log.info("%s not modified since the last ingest", url)
            return Fetched(url=str(response.url), content=b"", content_type="",
                           not_modified=True)
        if response.status_code >= 400:
            raise SourceError(url, f"HTTP {response.status_code} {response.reason_phrase}")
        declared = int(response.headers.get("content-length") or 0)
        if declared > self._max_bytes:
            raise SourceError(url, f"response too large ({declared} bytes)")
        # Decoded here, not by httpx: its decoders inflate a whole read at once, without a
        # limit, and stack (`gzip, gzip`), so a few hundred bytes could become gigabytes.
        inflater = Inflater(url, response.headers.get("content-encoding", ""))
        body = bytearray()
        for raw in response.iter_raw():
            if cancelled.is_set():
                raise SourceError(url, "download cancelled at its deadline")
            body.extend(inflater.inflate(raw, self._max_bytes - len(body) + 1))
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

    def commit(self, url: str) -> None:
        if self.validators is not None:
            self.validators.commit(url)

    def close(self) -> None:
        self._client.close()

"""Bytes of a file or response to text: BOMs, UTF-8 with stray bytes, declared charsets."""

from __future__ import annotations

import codecs
import logging
import re

from config.errors import SourceError

log = logging.getLogger(__name__)


def decode_bytes(data: bytes, location: str, declared: str | None = None) -> str:
    """Text of a file or response: by its BOM (UTF-8, UTF-16); as UTF-8 when most of its
    non-ASCII bytes are valid UTF-8, a stray byte of another encoding then read alone as
    Windows-1252 (never the whole text as the minority encoding); else by the charset it
    declares (`declared`, from the HTTP header, or in `<meta charset>` / `<?xml encoding>`);
    else as Windows-1252/Latin-1. Binary data is a SourceError."""
    head = data[:8192]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise SourceError(location, "invalid UTF-16 text") from None
    if b"\x00" in head or _control_ratio(head) > 0.1:
        raise SourceError(location, "binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3:
            # A multi-byte character cut off at the end: the file was truncated.
            log.warning("%s: truncated UTF-8 at byte %d; keeping the text before it", location,
                        exc.start)
            return data[: exc.start].decode("utf-8-sig")
    text = data.decode("utf-8-sig", errors="replace")
    invalid = text.count("\ufffd")
    charset = declared or _declared_charset(head)
    says_utf8 = charset is not None and charset.lower().replace("_", "-") in ("utf-8", "utf8")
    valid = sum(1 for c in text if ord(c) > 0x7F) - invalid
    # A valid multi-byte UTF-8 character is rare by chance in another encoding: one in four
    # stray bytes ("café" with two Windows-1252 smart quotes) already says UTF-8.
    if says_utf8 or valid * 4 >= invalid:
        log.warning("%s: UTF-8 with %d bytes that are not; those read as Windows-1252", location,
                    invalid)
        return data.decode("utf-8-sig", errors=_BYTEWISE_CP1252)
    if charset:
        try:
            return data.decode(charset, errors="replace")
        except LookupError:
            log.info("%s: unknown charset %r", location, charset)
    log.info("%s: not UTF-8, reading as Windows-1252/Latin-1", location)
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


_BYTEWISE_CP1252 = "newsdesk-bytewise-cp1252"


def _bytewise_cp1252(exc: UnicodeError) -> tuple[str, int]:
    """A byte that is not UTF-8, read alone as Windows-1252 (Latin-1 where that has none)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    byte = exc.object[exc.start:exc.start + 1]
    try:
        return byte.decode("cp1252"), exc.start + 1
    except UnicodeDecodeError:
        return byte.decode("latin-1"), exc.start + 1


codecs.register_error(_BYTEWISE_CP1252, _bytewise_cp1252)
_CHARSET = re.compile(rb"""(?:<meta[^>]+charset\s*=\s*["']?|<\?xml[^>]+encoding\s*=\s*["'])"""
                      rb"""([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _declared_charset(head: bytes) -> str | None:
    """The charset a page or XML file declares in its first bytes."""
    match = _CHARSET.search(head[:4096])
    return match.group(1).decode("ascii") if match else None


def charset_of(content_type: str) -> str | None:
    """The charset of an HTTP Content-Type value (`text/html; charset=ISO-8859-1`)."""
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type, re.IGNORECASE)
    return match.group(1) if match else None


# Control bytes that text does not contain (tab, line feed, form feed, carriage return do).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


def _control_ratio(sample: bytes) -> float:
    if not sample:
        return 0.0
    return (len(sample) - len(sample.translate(None, _CONTROL_BYTES))) / len(sample)

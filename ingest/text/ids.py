"""Stable ids, text normalisation and content hashes (pure)."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Only parameters that are tracking and nothing else (analytics, ad-click and mailing-list ids,
# share markers). Names sites also use for content (`cid`, `ref`, `id`, `source`, `ito`...) stay:
# dropping one can merge two stories into one id.
_TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|gclsrc|dclid|gbraid|wbraid|msclkid|twclid|ttclid|li_fat_id|yclid|"
    r"igshid|mc_cid|mc_eid|_ga|_gl|_hsenc|_hsmi|__hstc|__hssc|__hsfp|mkt_tok|oly_anon_id|"
    r"oly_enc_id|vero_id|vero_conv|ref_src|ref_url|at_medium|at_campaign|wt\.mc_id)$",
    re.IGNORECASE,
)
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_ZERO_WIDTH = re.compile(r"[\u200b-\u200d\u2060\ufeff]")
_BLANK_LINES = re.compile(r"\n\s*\n+")
# C0 and C1 controls but tab, newline and carriage return (and \v \f, read as spaces):
# terminal escapes (OSC 52 clipboard writes, hidden links, screen clears) are never text.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


# Whole terminal escape sequences (OSC … BEL/ST, CSI … final byte), removed before the
# controls are, so that none of their text ("]52;c;…", "[2J") is left in an article.
_ESCAPES = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]")


def strip_controls(text: str) -> str:
    """`text` without terminal escape sequences and control characters other than tab,
    newline, CR, VT and FF."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, drop fragment, default ports and tracking parameters."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING_PARAMS.match(k)
    ]
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, urlencode(sorted(query)), ""))


def normalise_text(text: str) -> str:
    """NFC, unified line endings and spaces, paragraphs separated by one blank line.

    Lines inside a paragraph are joined, and a paragraph broken mid-sentence (no closing
    punctuation, next one starting in lower case) is mended, as copy-pasted articles often are.
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    # Runs of spaces collapse in one pass over the whole text (not per line: ingest reads
    # every file again on each run, unchanged ones included, so this is most of its cost).
    text = _SPACES.sub(" ", _ZERO_WIDTH.sub("", strip_controls(text)))
    paragraphs: list[str] = []
    for block in _BLANK_LINES.split(text):
        para = " ".join(line.strip() for line in block.split("\n")).strip()
        if not para:
            continue
        if paragraphs and _continues(paragraphs[-1], para):
            paragraphs[-1] = f"{paragraphs[-1]} {para}"
        else:
            paragraphs.append(para)
    return "\n\n".join(paragraphs)


def _continues(previous: str, following: str) -> bool:
    return previous[-1] not in ".!?:;\"'”’)]…" and following[0].islower()


def sha256(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


def text_hash(text: str) -> str:
    """Hash of the body for duplicate detection: case and whitespace do not matter."""
    return sha256(" ".join(text.lower().split()))


def chunk_id(article_id: str, index: int) -> str:
    """A chunk's id: its article's id and its position, `article_id#n`."""
    return f"{article_id}#{index}"


def chunk_number(chunk_id: str) -> int:
    """n of a chunk id `article_id#n` (0 for an id of another kind, from another retriever)."""
    tail = chunk_id.rsplit("#", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def article_of(chunk_id: str) -> str:
    """The article id a chunk id belongs to (article ids may themselves contain `#`)."""
    return chunk_id.rsplit("#", 1)[0]


def source_names(values: Sequence[str]) -> tuple[str, ...]:
    """Sources as a filter names them: a source name or URL as given, a folder or file (a
    value with a path separator, or starting with `~` or `.`) as the absolute path it was
    ingested under."""
    return tuple(
        str(Path(v).expanduser().resolve())
        if not v.startswith(("http://", "https://")) and (os.sep in v or v.startswith(("~", ".")))
        else v
        for v in values)

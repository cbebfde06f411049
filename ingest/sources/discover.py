"""Which sources are read: folders walked, the files in them that are articles, the types
skipped and said.

Names: a source as the user named it is its `origin`; an item's one file or URL its `location`;
one article's place in it (`file.jsonl:3`) its `read_from`; `source` alone is the publisher."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ingest.model.records import READ_TYPES, Failure

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSON_SUFFIXES = {".json"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
FEED_SUFFIXES = {".rss", ".atom", ".xml"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | JSONL_SUFFIXES | FEED_SUFFIXES
# Files that describe a folder rather than being articles; skipped when walking directories
# (a file named explicitly is still ingested).
_NOT_ARTICLES = ("readme", "license", "licence", "changelog", "contributing")


@dataclass(frozen=True)
class SourceItem:
    """One thing to load: a file (found under `root`) or a URL. `origin` is what the user named."""

    location: str
    origin: str
    root: Path | None = None

    @property
    def is_url(self) -> bool:
        return is_url(self.location)


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def source_origin(source: str) -> str:
    """What a named source is recorded as: the URL itself, or the absolute path."""
    return source if is_url(source) else str(Path(source).expanduser().resolve())


class Discovered(NamedTuple):
    items: list[SourceItem]
    failures: list[Failure]
    # Files in a folder whose type Newsdesk does not read (a PDF, a spreadsheet): not failures,
    # but said, so that nobody believes they were read.
    skipped: list[Failure]


def discover(sources: Sequence[str]) -> Discovered:
    """Expand directories recursively (supported suffixes, no hidden files), keep files and URLs."""
    items: list[SourceItem] = []
    failures: list[Failure] = []
    skipped: list[Failure] = []
    for source in sources:
        origin = source_origin(source)
        if is_url(source):
            items.append(SourceItem(location=source, origin=origin))
            continue
        path = Path(source).expanduser()
        if path.is_dir():
            root = path.resolve()
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(filenames):
                    file = Path(dirpath, name)
                    if not _is_candidate(file):
                        if _is_unread_type(file):
                            kind = file.suffix or "files without a suffix"
                            skipped.append(Failure(str(file), f"not read: Newsdesk reads "
                                                              f"{READ_TYPES}, not {kind}"))
                        continue
                    if file.is_symlink() and not file.resolve().is_relative_to(root):
                        # A link out of the folder could bring in any file the user can read.
                        failures.append(Failure(str(file), "not followed: a symbolic link to "
                                                           "outside the folder ingested"))
                        continue
                    items.append(SourceItem(location=str(file), origin=origin, root=root))
        elif path.is_file():
            items.append(SourceItem(location=origin, origin=origin, root=path.resolve().parent))
        else:
            failures.append(Failure(source, "no such file or directory"))
    return Discovered(items, failures, skipped)


def _is_unread_type(file: Path) -> bool:
    return (not file.name.startswith(".") and file.suffix.lower() not in SUPPORTED_SUFFIXES
            and file.stem.lower() not in _NOT_ARTICLES)


def _is_candidate(file: Path) -> bool:
    return (
        not file.name.startswith(".")
        and file.suffix.lower() in SUPPORTED_SUFFIXES
        and file.stem.lower() not in _NOT_ARTICLES
    )


def path_article_id(item: SourceItem) -> str:
    path = Path(item.location)
    return path.relative_to(item.root).as_posix() if item.root else path.as_posix()

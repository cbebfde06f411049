"""JSON and JSONL files to Articles: one article per object, a Failure per bad record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from config.errors import SourceError
from ingest.model.records import ArticleIn, Failure
from ingest.sources.articles import LoadResult, make_article
from ingest.sources.parse import parse_date


def json_articles(
    text: str, location: str, fallback_id: str, origin: str, defaults: dict[str, Any]
) -> Iterator[LoadResult]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(location, f"invalid JSON: {exc.msg} (line {exc.lineno}, column "
                                f"{exc.colno})") from None
    except RecursionError:
        raise SourceError(location, "invalid JSON: nested too deeply") from None
    if isinstance(data, dict):
        for key in ("articles", "items", "data", "results"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    records = data if isinstance(data, list) else [data]
    for position, record in enumerate(records, start=1):
        read_from = f"{location}[{position}]" if len(records) > 1 else location
        item_id = f"{fallback_id}#{position}" if len(records) > 1 else fallback_id
        yield _json_record(record, read_from, item_id, origin, defaults)


def jsonl_articles(
    text: str, location: str, fallback_id: str, origin: str, defaults: dict[str, Any]
) -> Iterator[LoadResult]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        read_from = f"{location}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Failure(read_from, f"invalid JSON line: {exc.msg} (column {exc.colno})")
            continue
        except RecursionError:
            yield Failure(read_from, "invalid JSON line: nested too deeply")
            continue
        yield _json_record(record, read_from, f"{fallback_id}:{number}", origin, defaults)


def _json_record(
    record: Any, read_from: str, fallback_id: str, origin: str, defaults: dict[str, Any]
) -> LoadResult:
    if not isinstance(record, dict):
        return Failure(read_from, f"expected a JSON object, got {type(record).__name__}")
    try:
        fields = ArticleIn.model_validate(record)
    except ValidationError as exc:
        problem = exc.errors()[0]
        return Failure(read_from, f"invalid article field {problem['loc'][0]}: {problem['msg']}")
    except RecursionError:
        return Failure(read_from, "invalid article: nested too deeply")
    try:
        return make_article(
            read_from=read_from,
            fallback_id=str(fields.id) if fields.id is not None else fallback_id,
            origin=origin, title=fields.title, text=fields.text, url=fields.url,
            author=fields.author, source=fields.source or defaults.get("source"),
            published=parse_date(fields.published, lenient=True),
            updated=parse_date(fields.updated, lenient=True),
            category=fields.category or defaults.get("category"),
        )
    except SourceError as exc:
        return Failure(exc.source, exc.reason)

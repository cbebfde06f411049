"""The versions collection, `<name>-versions`: earlier versions of articles (kept when a
re-ingest changes a text), one record per version keyed `<article id>@v<n>`, read by article
id only: never searched, counted, logged or indexed, so an old version is never found."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from ingest.model.versions import ArticleVersion, is_new_version, over_bound
from ingest.store.guard import guarded


class KeptVersions:
    """`now` is the store's clock (epoch seconds), which stamps when a version was replaced."""

    def __init__(self, versions: Any, location: str, now: Callable[[], float]) -> None:
        self._versions = versions
        self._location = location
        self._now = now

    def save(self, versions: Sequence[ArticleVersion], keep: int) -> None:
        """Keep these replaced versions (at most one per article), each numbered after its
        article's newest kept version and stamped `seen` now (store clock); one that is
        already the newest kept version is not kept twice. Then at most `keep` versions
        per article remain: the oldest go."""
        if not versions or keep <= 0:
            return
        kept = self.of([v.article_id for v in versions], include_text=False)
        seen = datetime.fromtimestamp(self._now(), tz=UTC)
        ids: list[str] = []
        documents: list[str] = []
        metadatas: list[dict[str, Any]] = []
        for version in versions:
            earlier = kept.get(version.article_id, [])
            if not is_new_version(version, earlier):
                continue
            number = max((v.number for v in earlier), default=0) + 1
            new = replace(version, number=number, seen=seen)
            kept.setdefault(version.article_id, []).append(new)
            ids.append(_version_id(new))
            documents.append(new.text)
            metadatas.append(_version_meta(new))
        if ids:
            with guarded(self._location, "keep earlier versions"):
                self._versions.add(ids=ids, embeddings=[[1.0]] * len(ids),
                                   documents=documents, metadatas=metadatas)
        doomed = [_version_id(v) for article in kept.values() for v in over_bound(article, keep)]
        if doomed:
            with guarded(self._location, "drop old versions"):
                self._versions.delete(ids=doomed)

    def of(self, article_ids: Sequence[str], include_text: bool = True
           ) -> dict[str, list[ArticleVersion]]:
        """The kept earlier versions of these articles, oldest first (texts empty without
        `include_text`); an article without any is left out."""
        found: dict[str, list[ArticleVersion]] = {}
        ids = list(dict.fromkeys(article_ids))
        include = ["metadatas", "documents"] if include_text else ["metadatas"]
        for start in range(0, len(ids), 500):
            with guarded(self._location, "read earlier versions"):
                page = self._versions.get(where={"article_id": {"$in": ids[start:start + 500]}},
                                          include=include)
            documents = page.get("documents") or [""] * len(page["ids"])
            for document, meta in zip(documents, page["metadatas"] or [], strict=True):
                version = _version_of(meta or {}, document or "")
                found.setdefault(version.article_id, []).append(version)
        return {article_id: sorted(kept, key=lambda v: v.number)
                for article_id, kept in found.items()}

    def delete_of(self, article_ids: Sequence[str]) -> None:
        """Drop every kept version of these articles."""
        with guarded(self._location, "delete earlier versions"):
            self._versions.delete(where={"article_id": {"$in": list(article_ids)}})


def _version_id(version: ArticleVersion) -> str:
    return f"{version.article_id}@v{version.number}"


def _version_meta(version: ArticleVersion) -> dict[str, Any]:
    """Flat metadata of a kept version; dates as ISO text (with their UTC offsets: they are
    shown, never range-filtered), absent fields left out."""
    values = {"article_id": version.article_id, "version": version.number,
              "title": version.title, "text_hash": version.text_hash,
              "published": version.published.isoformat() if version.published else None,
              "updated": version.updated.isoformat() if version.updated else None,
              "seen": version.seen.isoformat() if version.seen else None,
              "url": version.url, "source": version.source}
    return {key: value for key, value in values.items() if value not in (None, "")}


def _version_of(meta: dict[str, Any], text: str) -> ArticleVersion:
    def when(key: str) -> datetime | None:
        value = meta.get(key)
        return datetime.fromisoformat(value) if isinstance(value, str) else None

    return ArticleVersion(
        article_id=str(meta.get("article_id", "")), title=str(meta.get("title", "")),
        text=text, text_hash=str(meta.get("text_hash", "")), published=when("published"),
        updated=when("updated"), seen=when("seen"), number=int(meta.get("version", 0)),
        url=meta.get("url"), source=meta.get("source"))

"""Loaders on real files in a temp directory (no model, no store)."""

import json
from pathlib import Path

from config.settings import IngestSettings
from ingest.loaders import discover, load
from ingest.records import Article, Failure
from tests.helpers import FIXTURES, HTML_PAGE, NoNetwork, rss_feed, write_article


def load_all(*sources: Path | str, limits: IngestSettings | None = None) -> list[Article | Failure]:
    items, missing = discover([str(s) for s in sources])
    results: list[Article | Failure] = list(missing)
    for item in items:
        results.extend(load(item, NoNetwork(), limits or IngestSettings()))
    return results


def articles(results: list[Article | Failure]) -> list[Article]:
    return [r for r in results if isinstance(r, Article)]


def failures(results: list[Article | Failure]) -> dict[str, str]:
    return {Path(r.source).name: r.reason for r in results if isinstance(r, Failure)}


def test_exported_text_file_uses_canonical_url_as_id(tmp_path: Path) -> None:
    [article] = articles(load_all(FIXTURES / "exported-article.txt"))
    assert article.id == "https://news.example.org/2024/02/ferry-electric?id=7"
    assert article.url == article.id
    assert article.source == "news.example.org"
    assert article.author == "Coastal Wire"
    assert article.published is not None and article.published.tzinfo is not None
    assert len(article.content_hash) == 64 and len(article.text_hash) == 64


def test_directory_walk_ids_are_paths_relative_to_the_root(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    write_article(root / "business", "001.txt", "Title one", "Body one.")
    write_article(root / "tech" / "deep", "002.md", "Title two", "Body two.")
    (root / "README.md").write_text("About this folder.")
    (root / ".hidden.txt").write_text("Hidden.")
    (root / "notes.csv").write_text("a,b")
    found = articles(load_all(root))
    assert sorted(a.id for a in found) == ["business/001.txt", "tech/deep/002.md"]
    by_id = {a.id: a for a in found}
    assert by_id["business/001.txt"].category == "business"
    assert by_id["business/001.txt"].source == "corpus"


def test_bad_files_each_fail_with_path_and_reason_and_the_rest_load(tmp_path: Path) -> None:
    root = tmp_path / "in"
    write_article(root, "good.txt", "Good", "Fine text.")
    (root / "empty.txt").write_bytes(b"")
    (root / "blank.md").write_text("   \n\n")
    (root / "binary.txt").write_bytes(b"\x00\x01\x02PNG" * 100)
    (root / "huge.txt").write_text("Huge\n\n" + "x " * 3000)
    (root / "broken.json").write_text('{"title": "x", "body": ')
    (root / "nobody.html").write_text("<html><head><title>t</title></head><body></body></html>")
    (root / "feed.xml").write_text("<rss><channel><item><title>cut")
    results = load_all(root, tmp_path / "missing-dir", limits=IngestSettings(max_file_bytes=5000))
    assert [a.id for a in articles(results)] == ["good.txt"]
    reasons = failures(results)
    assert reasons["empty.txt"] == "empty file"
    assert reasons["blank.md"] == "empty file"
    assert reasons["binary.txt"] == "binary file, not text"
    assert reasons["huge.txt"].startswith("file too large")
    assert "raise [ingest] max_file_bytes" in reasons["huge.txt"]  # the setting is named
    assert reasons["broken.json"] == "invalid JSON: Expecting value (line 1, column 24)"
    assert reasons["nobody.html"].startswith("no article text")
    assert "malformed feed" in reasons["feed.xml entry 1"]
    assert reasons["missing-dir"] == "no such file or directory"


def test_explicit_file_with_unsupported_type_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a,b")
    assert failures(load_all(path)) == {"data.csv": "unsupported file type .csv"}


def test_latin1_and_truncated_utf8_fall_back(tmp_path: Path) -> None:
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Café owner wins\n\nThe café in Zürich paid £5.".encode("latin-1"))
    truncated = tmp_path / "cut.txt"
    truncated.write_bytes("Cut short\n\nPrice in euros: 5 €".encode()[:-2])
    by_name = {Path(a.id).name: a for a in articles(load_all(latin, truncated))}
    assert by_name["latin.txt"].title == "Café owner wins"
    assert "Zürich paid £5." in by_name["latin.txt"].text
    assert by_name["cut.txt"].text == "Price in euros: 5"


def test_jsonl_bad_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    lines = [
        json.dumps({"title": "One", "body": "First body.", "url": "https://a.example/1",
                    "published_at": "2024-01-02T03:04:05Z", "category": "world",
                    "author": ["Ann", "Bo"], "source": {"name": "Wire"}}),
        "{not json",
        json.dumps(["a list"]),
        json.dumps({"title": "No text"}),
        json.dumps({"headline": "Two", "content": "Second body."}),
    ]
    path.write_text("\n".join(lines))
    results = load_all(path)
    found = articles(results)
    assert [a.title for a in found] == ["One", "Two"]
    first = found[0]
    assert (first.id, first.author, first.source, first.category) == (
        "https://a.example/1", "Ann, Bo", "Wire", "world")
    assert first.published is not None and first.published.year == 2024
    assert found[1].id == "batch.jsonl:5"
    reasons = {r.source.rsplit("/", 1)[-1]: r.reason for r in results if isinstance(r, Failure)}
    assert reasons["batch.jsonl:2"].startswith("invalid JSON line")
    assert reasons["batch.jsonl:3"].startswith("expected a JSON object")
    assert reasons["batch.jsonl:4"] == "no article text found"


def test_json_file_with_article_list(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"articles": [
        {"title": "A", "text": "Alpha text.", "id": "a-1"},
        {"title": "B", "text": "Beta text."},
    ]}))
    assert [a.id for a in articles(load_all(path))] == ["a-1", "export.json#2"]


def test_html_page_extracts_title_author_date_and_body(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(HTML_PAGE)
    [article] = articles(load_all(page))
    assert article.title == "Council backs tram line"
    assert article.author == "Jane Doe"
    assert article.published is not None and article.published.date().isoformat() == "2024-03-05"
    assert article.id == "https://city.example/news/tram"
    assert "voted 7 to 2" in article.text and "Home | World" not in article.text


def test_feed_file_with_full_content_needs_no_fetch(tmp_path: Path) -> None:
    feed = tmp_path / "news.rss"
    body = "<p>" + "The harbour reopened after repairs. " * 20 + "</p>"
    feed.write_text(rss_feed([("Harbour reopens", "https://feed.example/h", body)]))
    [article] = articles(load_all(feed))
    assert article.title == "Harbour reopens"
    assert article.source == "Example Feed"
    assert article.published is not None and article.published.year == 2024
    assert article.text.startswith("The harbour reopened")

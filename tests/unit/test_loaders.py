"""Loaders on real files in a temp directory (no model, no store)."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.cli.terminal import ingest_text
from config.settings import IngestSettings
from ingest.model.records import Article, Failure, IngestSummary
from ingest.sources.discover import discover
from ingest.sources.loaders import load
from tests.helpers import FIXTURES, HTML_PAGE, NoNetwork, rss_feed, write_article


def load_all(*sources: Path | str, limits: IngestSettings | None = None) -> list[Article | Failure]:
    items, missing, _ = discover([str(s) for s in sources])
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


def test_a_folders_files_of_types_not_read_are_said_to_be_skipped(tmp_path: Path) -> None:
    root = tmp_path / "in"
    write_article(root, "story.txt", "Story", "Body.")
    (root / "report.pdf").write_bytes(b"%PDF-1.4")
    (root / "sub").mkdir()
    (root / "sub" / "table.csv").write_text("a,b")
    (root / "README.md").write_text("About.")
    (root / ".DS_Store").write_bytes(b"x")
    items, failed, skipped = discover([str(root)])
    assert [Path(i.location).name for i in items] == ["story.txt"]
    assert not failed
    assert sorted(Path(s.source).name for s in skipped) == ["report.pdf", "table.csv"]
    assert all(s.reason.startswith("not read: Newsdesk reads text") for s in skipped)
    text = ingest_text({**IngestSummary(skipped=skipped).as_dict()})
    assert text.splitlines()[0].endswith("skipped 2")
    assert "skipped: 2 files of types Newsdesk does not read (.pdf 1, .csv 1)" in text


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
    # where in the line, too: the line's number is in its name
    assert reasons["batch.jsonl:2"] == ("invalid JSON line: Expecting property name enclosed "
                                        "in double quotes (column 2)")
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


def _rss_items(items: list[tuple[str, str, str]], channel_link: str = "https://quay.example/"
               ) -> str:
    """An RSS 2.0 feed of (raw title XML, link, raw pubDate) items with long descriptions."""
    body = "The harbour board met on the quay and agreed the new berth fees for next year. " * 8
    xml = "".join(f"<item><title>{title}</title><link>{link}</link><pubDate>{date}</pubDate>"
                  f"<description>{body}</description></item>" for title, link, date in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Quay News</title><link>{channel_link}</link>{xml}</channel></rss>")


def test_feed_titles_escaped_twice_are_decoded_once_more(tmp_path: Path) -> None:
    feed = tmp_path / "quay.rss"
    feed.write_text(_rss_items([
        ("Fishers &amp;amp; ferry crews share the quay", "https://quay.example/a", ""),
        ("Harbour master: &amp;#8220;no more delays&amp;#8221;", "https://quay.example/b", ""),
        ("Berth fees &amp;lt;b&amp;gt; rise", "https://quay.example/c", ""),
        ("Plain &amp; simple", "https://quay.example/d", ""),
    ]))
    titles = [a.title for a in articles(load_all(feed))]
    assert titles == ["Fishers & ferry crews share the quay",
                      "Harbour master: \u201cno more delays\u201d",
                      "Berth fees <b> rise", "Plain & simple"]


def test_feed_dates_outside_rfc_822_are_read_from_the_raw_string(tmp_path: Path) -> None:
    feed = tmp_path / "quay.rss"
    feed.write_text(_rss_items([
        ("Slash date", "https://quay.example/1", "2025/3/9 06:30:00"),  # feedparser: 1 March
        ("Weekday in German", "https://quay.example/2", "Di, 10 Mar 2025 11:41:36"),
        ("Month first", "https://quay.example/3", "Mar 11, 2025"),
        ("Sydney offset", "https://quay.example/4", "Thu, 12 Mar 2025 08:00:00 +1100"),
        ("US zone name", "https://quay.example/5", "Thu, 12 Mar 2025 22:00:00 EST"),
        ("No date at all", "https://quay.example/6", "sometime soon"),
    ]))
    dates = {a.title: a.published for a in articles(load_all(feed))}
    assert dates["Slash date"] == datetime(2025, 3, 9, 6, 30, tzinfo=UTC)
    assert dates["Weekday in German"] == datetime(2025, 3, 10, 11, 41, 36, tzinfo=UTC)
    assert dates["Month first"] == datetime(2025, 3, 11, tzinfo=UTC)
    sydney = dates["Sydney offset"]
    assert sydney is not None and sydney.date().isoformat() == "2025-03-12"
    assert sydney.utcoffset() == timedelta(hours=11)  # the publisher's own day and offset
    assert dates["US zone name"] == datetime(2025, 3, 13, 3, tzinfo=UTC)
    assert dates["No date at all"] is None


def test_relative_feed_links_resolve_against_the_feed(tmp_path: Path) -> None:
    feed = tmp_path / "quay.rss"
    feed.write_text(_rss_items([("Fees", "/news/fees?id=3", "Mar 11, 2025")],
                               channel_link="https://quay.example/local/"))
    [article] = articles(load_all(feed))
    assert article.id == article.url == "https://quay.example/news/fees?id=3"


_STORY = ("<p>The harbour board agreed on Tuesday to raise berth fees by a fifth from April, "
          "the first rise in six years.</p><p>Fishers said the rise would cost a small boat "
          "about 900 euros a year.</p>")


def test_html_headline_from_the_page_not_the_masthead_or_a_cut_title(tmp_path: Path) -> None:
    pages = {
        # The only <h1> is the logo; the headline is an <h2> and <title> minus the site.
        "logo.html": ("<title>Berth fees to rise by a fifth | Quay Herald</title></head><body>"
                      "<header><h1 class='logo'><a href='/'>Quay Herald</a></h1><nav>"
                      "<a href='/news'>News</a></nav></header><article>"
                      f"<h2 class='entry-title'>Berth fees to rise by a fifth</h2>{_STORY}"
                      "</article>", "Berth fees to rise by a fifth"),
        # A headline with " - " and no site name stays whole.
        "dash.html": ("<title>Berth fees - fishers face a fifth more from April</title></head>"
                      "<body><div class='story'><h2>Berth fees - fishers face a fifth more "
                      f"from April</h2>{_STORY}</div>", "Berth fees - fishers face a fifth more "
                                                         "from April"),
        # og:title (a social teaser) loses to the headline on the page.
        "og.html": ("<title>Quay Herald - Berth fees</title><meta property='og:title' "
                    "content='You will not believe these fees'><meta property='og:site_name' "
                    "content='Quay Herald'></head><body><article><h1>Harbour board raises "
                    f"berth fees</h1>{_STORY}</article>", "Harbour board raises berth fees"),
        # JSON-LD headline when the page has no heading; site prefix in <title> dropped.
        "jsonld.html": ("<title>Quay Herald :: Fees</title><script type='application/ld+json'>"
                        '{"@type": "NewsArticle", "headline": "Berth fees rise &amp;amp; '
                        'fishers object", "publisher": {"name": "Quay Herald"}}</script>'
                        f"</head><body><div>{_STORY}</div>",
                        "Berth fees rise & fishers object"),
    }
    for name, (inner, _) in pages.items():
        (tmp_path / name).write_text(f"<html><head><meta charset='utf-8'>{inner}</body></html>")
    found = {Path(a.id).name: a for a in articles(load_all(tmp_path))}
    for name, (_, want) in pages.items():
        assert found[name].title == want, name
        assert found[name].text.startswith("The harbour board agreed"), name


def test_paywall_newsletter_and_advertiser_prompts_are_not_article_text(tmp_path: Path) -> None:
    (tmp_path / "boxed.html").write_text(
        "<html><head><meta charset='utf-8'><title>Berth fees to rise</title></head><body>"
        f"<article><h1>Berth fees to rise</h1>{_STORY}"
        "<aside class='Newsletter-Signup'><h4>The Quay Briefing</h4><p>Sign up for our "
        "morning newsletter and get the harbour news straight to your inbox.</p></aside>"
        "<div id='paywall-prompt-7'><h3>Subscribe to keep reading</h3><p>You have read all "
        "your free articles this month. Get unlimited access for 1.99 euros a week, cancel "
        "anytime.</p><p>Already a subscriber? Log in to continue reading.</p></div>"
        "</article></body></html>")
    # The same prompts without telling class names: caught by their words.
    (tmp_path / "plain.html").write_text(
        "<html><head><meta charset='utf-8'><title>Berth fees to rise</title></head><body>"
        "<article><h1>Berth fees to rise</h1><p><em>Advertiser disclosure: this article "
        f"contains affiliate links and we may earn a commission.</em></p>{_STORY}"
        "<p><strong>Subscribe to keep reading.</strong></p><p>You've reached your limit of "
        "free articles. Get unlimited access for 1.99 euros a week.</p>"
        "<p>Support independent journalism: become a member today.</p></article></body></html>")
    # A story about subscriptions keeps its words.
    (tmp_path / "news.html").write_text(
        "<html><head><meta charset='utf-8'><title>Herald adds a paywall</title></head><body>"
        "<article><h1>Herald adds a paywall</h1><p>The Quay Herald will charge readers 1.99 "
        "euros a week from March, its editor said, after advertising income fell by a third."
        "</p><p>Readers who subscribe before March will pay half price for a year.</p>"
        "</article></body></html>")
    found = {Path(a.id).name: a for a in articles(load_all(tmp_path))}
    for name in ("boxed.html", "plain.html"):
        text = found[name].text
        assert text.split("\n\n") == ["The harbour board agreed on Tuesday to raise berth fees "
                                      "by a fifth from April, the first rise in six years.",
                                      "Fishers said the rise would cost a small boat about 900 "
                                      "euros a year."], name
    assert "Readers who subscribe before March" in found["news.html"].text
    assert "1.99 euros a week from March" in found["news.html"].text


def test_a_stray_byte_in_utf8_does_not_turn_the_page_into_mojibake(tmp_path: Path) -> None:
    story = ("<p>\u201cWe will not pay more,\u201d said the skipper of the \u00c5sa.</p>"
             "<p>The board\u2019s fee rises by a fifth \u2013 to 900 euros.</p>")
    page = (f"<html><head><title>Fees</title></head><body><article><h1>Fees</h1>{story}"
            "</article></body></html>").encode()
    # One Latin-1 "é" pasted into an otherwise UTF-8 page (and one into an ASCII-only one
    # that says it is UTF-8).
    (tmp_path / "stray.html").write_bytes(page.replace(b"Fees</h1>", b"Fees caf\xe9</h1>"))
    (tmp_path / "ascii.html").write_bytes(
        b"<html><head><meta charset='utf-8'><title>Fees</title></head><body><article>"
        b"<h1>Fees</h1><p>The caf\xe9 on the quay will pay the new berth fee from April, "
        b"the harbour board said.</p></article></body></html>")
    # A Latin-1 page that says so, and a Windows-1251 one.
    (tmp_path / "latin.html").write_bytes(
        "<html><head><meta http-equiv='Content-Type' content='text/html; charset=iso-8859-1'>"
        "<title>Gebühren</title></head><body><article><h1>Gebühren</h1><p>Die Gebühr für "
        "Fischer in Kiel steigt um ein Fünftel.</p></article></body></html>".encode("latin-1"))
    (tmp_path / "cyrillic.html").write_bytes(
        "<html><head><meta charset='windows-1251'><title>Сборы</title></head><body><article>"
        "<h1>Сборы</h1><p>Портовый сбор вырастет на пятую часть с апреля.</p></article>"
        "</body></html>".encode("cp1251"))
    found = {Path(a.id).name: a for a in articles(load_all(tmp_path))}
    assert found["stray.html"].title == "Fees café"
    assert found["stray.html"].text.startswith("\u201cWe will not pay more,\u201d said the "
                                               "skipper of the \u00c5sa.")
    assert "The café on the quay" in found["ascii.html"].text
    assert found["latin.html"].text == "Die Gebühr für Fischer in Kiel steigt um ein Fünftel."
    assert found["cyrillic.html"].text == "Портовый сбор вырастет на пятую часть с апреля."

"""Real-world inputs, round two (issue 29), each kind on fixtures written for it: JSON-LD dates of
the article's own item, a home-page canonical that names no article, weekdays as calendar days,
and correction notes that are never the answer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from config.settings import IngestSettings
from ingest.model.records import Article
from ingest.sources.discover import SourceItem
from ingest.sources.loaders import load
from retrieval.answer.rules import RULES
from retrieval.question.dates import read_question_time
from tests.fakes import MemoryStore
from tests.helpers import NoNetwork
from tests.unit.test_answer_rules import evidence, passage
from tests.unit.test_pipeline import ingestor

PAGE = """<html><head><title>{title} | Vale Post</title>
<link rel="canonical" href="{canonical}"><meta property="og:url" content="{canonical}">
<script type="application/ld+json">{ld}</script></head>
<body><main><article><h1>{title}</h1>{body}</article></main></body></html>"""

GRAPH = """{"@context": "https://schema.org", "@graph": [
  {"@type": "VideoObject", "name": "Archive clip", "uploadDate": "2019-03-02T10:00:00Z",
   "datePublished": "2019-03-02T10:00:00Z", "headline": "Archive clip of 2019"},
  {"@type": "BreadcrumbList", "datePublished": "2018-01-01"},
  {"@type": ["NewsArticle"], "headline": "Lifeboat crew rescue three fishermen",
   "datePublished": "2026-11-21T08:15:00Z", "dateModified": "2026-11-21T09:40:00Z"}]}"""


def paragraphs(*sentences: str) -> str:
    return "".join(f"<p>{s}</p>" for s in sentences)


def page_article(tmp_path: Path, name: str, html: str) -> Article:
    path = tmp_path / name
    path.write_text(html)
    [result] = list(load(SourceItem(location=str(path), origin=str(tmp_path), root=tmp_path),
                         NoNetwork(), IngestSettings()))
    assert isinstance(result, Article), result
    return result


def test_a_page_is_dated_by_its_article_item_not_an_embedded_video(tmp_path: Path) -> None:
    html = PAGE.format(title="Lifeboat crew rescue three fishermen", canonical="",
                       ld=GRAPH, body=paragraphs(
                           "Volunteers from the Kell lifeboat station rescued three fishermen "
                           "from a sinking trawler on Saturday morning.",
                           "The crew was called out at dawn and reached the trawler in twenty "
                           "minutes, the station manager said."))
    article = page_article(tmp_path, "rescue.html", html)
    assert article.published == datetime(2026, 11, 21, 8, 15, tzinfo=UTC)
    assert article.updated == datetime(2026, 11, 21, 9, 40, tzinfo=UTC)
    assert article.title == "Lifeboat crew rescue three fishermen"


def test_two_stories_whose_canonical_is_the_home_page_are_both_kept(tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    for name, title, text in (
            ("bus.html", "School bus contract signed",
             "The Alder Vale school bus contract is worth 4.2 million euros and covers 23 "
             "routes across the valley, the council said on Wednesday."),
            ("library.html", "Library to open on Sundays",
             "The central library in Alder Vale will open on Sunday afternoons from December, "
             "the council said, after a petition signed by 2,000 readers.")):
        (root / name).write_text(PAGE.format(title=title, canonical="https://valepost.example/",
                                             ld="{}", body=paragraphs(text, text)))
    store = MemoryStore()
    summary = ingestor(store).ingest([str(root)])
    assert (summary.added, summary.superseded, summary.failed) == (2, [], [])
    assert sorted(store.articles()) == ["bus.html", "library.html"]


def test_a_weekday_names_a_day_as_a_calendar_date_does() -> None:
    thursday = datetime(2026, 11, 26, 12, tzinfo=UTC)
    windows = {q: read_question_time(q, thursday) for q in (
        "What did the harbour board decide on Tuesday?",
        "What did the harbour board decide on 24 November?",
        "What did the harbour board decide on Tuesday 24 November?",
        "What did the harbour board decide on Tuesday, 24 November?")}
    labels = {q: t.window.label if t else None for q, t in windows.items()}
    assert set(labels.values()) == {"Articles from 24–26 Nov 2026"}, labels


FOOTBRIDGE = passage("footbridge", "Council approves Tallis footbridge", (
    "Brennock county council has approved a new footbridge over the Tallis at the harbour, "
    "which will cost 6 million euros and open in 2028. Work starts in the spring.\n\n"
    "Correction, 21 November 2026: An earlier version of this article said the footbridge "
    "would cost 9 million euros. That figure is the cost of the council's whole harbour "
    "plan, of which the footbridge is one part."))


def test_a_correction_notes_retracted_value_is_never_the_answer() -> None:
    for question in ("How much will the footbridge cost?",
                     "How much will the Tallis footbridge in Brennock cost?"):
        found = evidence(question, (FOOTBRIDGE,))
        assert found.chosen, question
        assert "6 million euros" in found.chosen[0].text, question
        assert found.span != "9 million euros", question
    assert RULES[0].__name__ == "rule_not_a_correction"


def test_articles_in_other_languages_keep_byline_date_and_whole_sentences() -> None:
    from ingest.sources.parse import parse_text_article
    from ingest.text.sentences import split_sentences

    fronts = {
        "Von Jana Brandt\n\n20. November 2026": "Jana Brandt",
        "Par Marie Dupont\n\n20 novembre 2026": "Marie Dupont",
        "Por Ana Ruiz\n\n20 de noviembre de 2026": "Ana Ruiz",
        "Di Marco Rossi\n\n20 novembre 2026": "Marco Rossi",
        "Door Jan de Vries\n\n20 november 2026": "Jan de Vries",
        "Por Ana Costa\n\n20 de novembro de 2026": "Ana Costa",
    }
    for front, author in fronts.items():
        parsed = parse_text_article(f"Titel\n\n{front}\n\nDer Stadtrat hat entschieden, die "
                                    "Brücke zu sanieren.\n")
        assert (parsed.author, parsed.published) == (author, datetime(2026, 11, 20, tzinfo=UTC))
        assert parsed.body.startswith("Der Stadtrat"), front
    text = ("Der Stadtrat von Kellbach hat am 19. November beschlossen, die Hafenbrücke für 12 "
            "Millionen Euro zu sanieren. Die Arbeiten sollen am 3. März beginnen, sagte Nr. 2 "
            "der Verwaltung. Le conseil a voté le 4 décembre. He was aged 23. The end.")
    sentences = [text[a:b] for a, b in split_sentences(text)]
    assert sentences == [
        "Der Stadtrat von Kellbach hat am 19. November beschlossen, die Hafenbrücke für 12 "
        "Millionen Euro zu sanieren.",
        "Die Arbeiten sollen am 3. März beginnen, sagte Nr. 2 der Verwaltung.",
        "Le conseil a voté le 4 décembre.", "He was aged 23.", "The end."]


def test_labelled_date_lines_are_read_not_dropped_as_credits() -> None:
    from ingest.sources.parse import parse_text_article

    fronts = {
        "Published: 20 November 2026": (datetime(2026, 11, 20, tzinfo=UTC), None),
        "Posted on November 20, 2026": (datetime(2026, 11, 20, tzinfo=UTC), None),
        "Dateline: 20 Nov 2026": (datetime(2026, 11, 20, tzinfo=UTC), None),
        "First published on Fri 20 Nov 2026 10.15 GMT":
            (datetime(2026, 11, 20, 10, 15, tzinfo=UTC), None),
        "Published: 20 November 2026\nUpdated: 21 November 2026 14:00":
            (datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, 14, tzinfo=UTC)),
        "Veröffentlicht am 20. November 2026": (datetime(2026, 11, 20, tzinfo=UTC), None),
    }
    for front, (published, updated) in fronts.items():
        parsed = parse_text_article(f"Ferry strike called off\n\nBy Ann Lee\n\n{front}\n\n"
                                    "The ferry strike was called off on Monday after talks.\n")
        assert (parsed.published, parsed.updated) == (published, updated), front
        assert parsed.body == "The ferry strike was called off on Monday after talks.", front


def test_feed_items_sharing_a_link_with_their_own_guids_are_different_items(
        tmp_path: Path) -> None:
    from tests.unit.test_pipeline import story

    items = "".join(
        f"<item><guid isPermaLink=\"false\">bulletin-{n}</guid><title>Bulletin {n}</title>"
        f"<link>https://radio.example/live</link><description>{story(topic, 3)}</description>"
        f"<pubDate>Fri, 2{n} Nov 2026 0{n}:00:00 GMT</pubDate></item>"
        for n, topic in enumerate(("ferry", "tram", "budget"), start=1))
    (tmp_path / "radio.xml").write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Radio</title>{items}'
        "</channel></rss>")
    store = MemoryStore()
    summary = ingestor(store, min_entry_chars=0).ingest([str(tmp_path / "radio.xml")])
    assert (summary.added, summary.superseded) == (3, [])
    assert sorted(store.articles()) == ["bulletin-1", "bulletin-2", "bulletin-3"]


def test_two_outlets_word_for_word_copies_are_wire_copies_and_prune_on_their_own(
        tmp_path: Path) -> None:
    from tests.helpers import write_article
    from tests.unit.test_pipeline import story

    text = story("ferry", 4)
    herald, courier = tmp_path / "herald", tmp_path / "courier"
    write_article(herald, "ferry.txt", "Ferry strike called off", text)
    write_article(courier, "ferry-strike.txt", "Ferry strike called off", text)
    write_article(herald, "ferry-again.txt", "Ferry strike called off", text)  # same outlet
    store = MemoryStore()
    summary = ingestor(store).ingest([str(herald), str(courier)])
    assert summary.added == 2
    assert summary.duplicates == [{"id": "ferry.txt", "duplicate_of": "ferry-again.txt"}]
    assert summary.wire_copies == [{"id": "ferry-strike.txt", "copy_of": "ferry-again.txt"}]
    (herald / "ferry.txt").unlink()
    (herald / "ferry-again.txt").unlink()
    write_article(herald, "tram.txt", "Tram fares", story("tram", 4))
    pruned = ingestor(store).ingest([str(herald), str(courier)], prune=True, force=True)
    assert pruned.removed == 1
    assert sorted(store.articles()) == ["ferry-strike.txt", "tram.txt"]


LIVE = """<html><head><title>Storm live | Kell News</title>
<meta property="article:published_time" content="2026-11-20T06:00:00+00:00">
<meta property="article:modified_time" content="2026-11-22T16:45:00+00:00">{ld}</head><body>
<article><h1>Storm live: updates</h1><div class="entries">
<div class="entry"><time datetime="2026-11-22T16:45:00+00:00">Sun 22 Nov, 16:45</time>
<p>The housing minister has announced a repair fund of 5 million euros for damaged homes.</p>
</div><div class="entry"><time datetime="2026-11-21T11:20:00+00:00">Sat 21 Nov, 11:20</time>
<p>The coast road is closed after a section of the sea wall collapsed overnight, police say.</p>
</div></div></article>{aside}</body></html>"""
LIVE_LD = ('<script type="application/ld+json">{"@type": "LiveBlogPosting", "liveBlogUpdate": '
           '[{"@type": "BlogPosting", "headline": "Repair fund announced", '
           '"datePublished": "2026-11-22T16:45:00+00:00"}]}</script>')


def test_a_live_blogs_entries_are_dated_by_their_own_time(tmp_path: Path) -> None:
    for ld in (LIVE_LD, ""):  # said by JSON-LD, or seen in the page's dated entries
        path = tmp_path / "live.html"
        path.write_text(LIVE.format(ld=ld, aside=""))
        results = list(load(SourceItem(location=str(path), origin=str(tmp_path),
                                       root=tmp_path), NoNetwork(), IngestSettings()))
        assert all(isinstance(r, Article) for r in results)
        entries = {r.published: r for r in results if isinstance(r, Article)}
        fund = entries[datetime(2026, 11, 22, 16, 45, tzinfo=UTC)]
        road = entries[datetime(2026, 11, 21, 11, 20, tzinfo=UTC)]
        assert "5 million euros" in fund.text and "sea wall" in road.text
        assert fund.id == "live.html#2026-11-22T16:45:00+00:00" and fund.id != road.id
        assert fund.title == ("Storm live: updates: Repair fund announced" if ld
                              else "Storm live: updates")


def test_a_page_with_dated_teasers_beside_it_is_one_article(tmp_path: Path) -> None:
    body = "".join(f"<p>The council met for {n} hours to agree the harbour budget for next "
                   f"year, with a long debate on fees and on the new ferry pier.</p>"
                   for n in range(2, 12))
    aside = "<aside><ul>" + "".join(
        f'<li><time datetime="2026-11-2{n}T10:00:00Z">2{n} Nov</time> Another story about '
        f"the weather and the roads in the county this week</li>" for n in range(3)) + \
        "</ul></aside>"
    html = (f"<html><head><title>Budget agreed</title></head><body><article><h1>Budget "
            f"agreed</h1>{body}</article>{aside}</body></html>")
    article = page_article(tmp_path, "budget.html", html)
    assert article.id == "budget.html" and "harbour budget" in article.text


def test_a_tables_rows_are_kept_as_lines_that_name_their_columns(tmp_path: Path) -> None:
    html = ("<html><head><title>Kell election result</title></head><body><article>"
            "<h1>Kell election result</h1><p>The count in Kell finished on Friday night after "
            "a long day of counting in the town hall.</p><table><tr><th>Candidate</th>"
            "<th>Votes</th><th>Share</th></tr><tr><td>Mary Byrne</td><td>4,512</td>"
            "<td>53%</td></tr><tr><td>Tom Hale</td><td>3,980</td><td>47%</td></tr></table>"
            "<ul><li>Byrne takes the first seat with a large margin over the others.</li></ul>"
            "<p>Turnout was 61 percent.</p></article></body></html>")
    article = page_article(tmp_path, "result.html", html)
    assert article.text.split("\n\n") == [
        "The count in Kell finished on Friday night after a long day of counting in the "
        "town hall.", "Mary Byrne — Votes: 4,512; Share: 53%.",
        "Tom Hale — Votes: 3,980; Share: 47%.",
        "- Byrne takes the first seat with a large margin over the others.",
        "Turnout was 61 percent."]


def test_a_changed_value_is_named_by_what_it_measures() -> None:
    from retrieval.news.changes import describe_changes

    changed = describe_changes(
        "The union said its 210 members had accepted a pay rise of 9 percent on Friday.",
        "The union said its 210 members had accepted a pay rise of 7 percent on Friday.")
    assert changed.lines() == ["Pay rise lowered from 9 percent to 7 percent"]
    inflation = describe_changes("Prices rose with inflation at 3.1% in May.",
                                 "Prices rose with inflation at 3.4% in May.")
    assert inflation.lines()[0].startswith("Inflation raised from 3.1% to 3.4%")


def test_ingest_says_what_it_is_doing_while_no_source_advances(tmp_path: Path) -> None:
    from ingest.run.writing import EMBED_STEP
    from tests.helpers import write_article
    from tests.unit.test_pipeline import story

    root = tmp_path / "news"
    for n in range(6):
        write_article(root, f"{n}.txt", f"Story {n}", story(f"topic{n}", 30))
    steps: list[str] = []
    summary = ingestor(MemoryStore()).ingest([str(root)], on_step=steps.append)
    assert summary.chunks > EMBED_STEP  # so that embedding is said in more than one step
    embedding = [s for s in steps if s.startswith("embedding ")]
    assert embedding[0] == f"embedding 0/{summary.chunks:,} chunks of 6 articles"
    assert len(embedding) == -(-summary.chunks // EMBED_STEP)
    assert f"writing {summary.chunks:,} chunks" in steps


def test_a_death_toll_is_a_count_and_a_bridge_toll_a_fee() -> None:
    from retrieval.question.answer_types import AnswerType, answer_type

    for question in ("What is the death toll from Storm Orla?", "What was the death toll?",
                     "How high is the death toll in Kell?"):
        assert answer_type(question) is AnswerType.NUMBER, question
    for question in ("What is the toll for cars on the bridge?", "How much is the toll?"):
        assert answer_type(question) is AnswerType.MONEY, question


def test_markdown_front_matter_gives_title_date_author_and_url() -> None:
    from ingest.sources.parse import parse_text_article

    parsed = parse_text_article(
        "---\ntitle: \"Harbour fees rise by 9 percent\"\ndate: 2026-11-20T09:30:00Z\n"
        "lastmod: 2026-11-21\nauthor: Ann Lee\nurl: https://kell.example/harbour-fees\n"
        "tags: [port, fees]\n---\n\nThe port authority **raised** fees by 9 percent on "
        "Friday.\n\nShipping firms said they would pass the cost on.\n")
    assert parsed.title == "Harbour fees rise by 9 percent"
    assert (parsed.published, parsed.updated) == (datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
                                                  datetime(2026, 11, 21, tzinfo=UTC))
    assert (parsed.author, parsed.url) == ("Ann Lee", "https://kell.example/harbour-fees")
    assert parsed.body == ("The port authority raised fees by 9 percent on Friday.\n\n"
                           "Shipping firms said they would pass the cost on.")
    # A rule line that closes no front matter is left to the usual reading, unchanged.
    plain = parse_text_article("---\n\nFerry strike\n\nThe ferry strike was called off.\n")
    assert (plain.title, plain.published) == ("---", None)
    assert plain.body == "Ferry strike\n\nThe ferry strike was called off."

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from ingest.sources.parse import (
    TitleEvidence,
    choose_headline,
    parse_date,
    parse_text_article,
    plain_title,
    reconcile_date,
    strip_markdown,
)

FIXTURES = Path(__file__).parent.parent / "fixtures"


def test_exported_layout_parses_into_metadata_and_clean_body() -> None:
    parsed = parse_text_article((FIXTURES / "exported-article.txt").read_text())
    assert parsed.title == "Ferry Operator Orders Three Electric Ships"
    assert parsed.author == "Coastal Wire"
    assert parsed.published == datetime(2024, 2, 12, tzinfo=UTC)
    assert parsed.url is not None and parsed.url.startswith("https://news.example.org/2024/02/")
    assert parsed.body.startswith("The ferry operator Baltline ordered")
    assert parsed.body.endswith("in twelve minutes.")
    for leftover in ("By [", "Coastal Wire", "Fixture photo", "Original url", "https://"):
        assert leftover not in parsed.body
    # A paragraph broken mid-sentence is joined back together.
    assert "was released to investors." in parsed.body


def test_bare_headline_blank_line_body_layout() -> None:
    raw = "Ad sales boost profit\n\nQuarterly profits jumped 76%.\n\nThe firm said so.\n"
    parsed = parse_text_article(raw)
    assert parsed.title == "Ad sales boost profit"
    assert parsed.body == "Quarterly profits jumped 76%.\n\nThe firm said so."
    assert (parsed.author, parsed.published, parsed.url) == (None, None, None)


def test_body_that_starts_with_a_short_line_is_not_taken_for_a_credit() -> None:
    raw = "Title here\n\nShort opening line\n\nSecond paragraph."
    assert parse_text_article(raw).body.startswith("Short opening line")


def test_markdown_title_and_inline_markup_are_cleaned() -> None:
    raw = "# A **bold** title\n\nBy Jane Roe\n\nSee [the report](https://x.org) and *this*.\n"
    parsed = parse_text_article(raw)
    assert parsed.title == "A bold title"
    assert parsed.author == "Jane Roe"
    assert parsed.body == "See the report and this."
    assert strip_markdown("![img](a.png)text") == "text"


def test_html_inside_markdown_is_read_as_its_text() -> None:
    raw = ("# Council <em>approves</em> the budget\n\n"
           "<p>The council approved the <strong>2027</strong> budget on Monday.</p>"
           "<div class=\"ad\"><script>track()</script></div>\n\n"
           "<!-- editor: check the figure -->Spending rises by 4 percent &amp; fees stay.<br>"
           "Fewer than 5 <10 were against; <3 from the team.\n")
    parsed = parse_text_article(raw)
    assert parsed.title == "Council approves the budget"
    assert parsed.body == ("The council approved the 2027 budget on Monday.\n\n"
                           "Spending rises by 4 percent & fees stay.\n\n"
                           "Fewer than 5 <10 were against; <3 from the team.")


def test_empty_input_gives_empty_record() -> None:
    parsed = parse_text_article("\n\n  \n")
    assert parsed.title == "" and parsed.body == ""


def test_dates_are_timezone_aware() -> None:
    assert parse_date("2024-05-01T10:00:00+02:00").utcoffset().total_seconds() == 7200  # type: ignore[union-attr]
    assert parse_date("Tue, 05 Mar 2024 10:00:00 GMT") == datetime(2024, 3, 5, 10, tzinfo=UTC)
    assert parse_date(1_700_000_000) == datetime.fromtimestamp(1_700_000_000, tz=UTC)
    assert parse_date(1_700_000_000_000) == datetime.fromtimestamp(1_700_000_000, tz=UTC)
    naive = parse_date("2024-01-02")
    assert naive is not None and naive.tzinfo is not None
    assert parse_date("not a date") is None
    assert parse_date(None) is None


def test_a_date_line_without_a_year_is_never_in_the_future() -> None:
    now = datetime.now(UTC)
    # Well past the one day of zone tolerance (on the last day of a month, "1 December" is
    # within it: a report from a zone ahead of UTC).
    ahead = now + timedelta(days=40)
    line = ahead.strftime("%A %d %B")  # e.g. "Saturday 09 January": no year
    parsed = parse_text_article(f"Match report\n\n{line}\n\nThe body of the report.").published
    assert parsed is not None and parsed <= now
    assert (parsed.month, parsed.day) == (ahead.month, ahead.day)


def test_an_updated_line_gives_the_revision_date() -> None:
    parsed = parse_text_article("Title\n\nBy Ann Lee\n\n10 November 2026\n\n"
                                "Updated: 12 November 2026 09:30\n\nThe body of the story.")
    assert parsed.published == datetime(2026, 11, 10, tzinfo=UTC)
    assert parsed.updated == datetime(2026, 11, 12, 9, 30, tzinfo=UTC)
    assert parsed.body == "The body of the story."


def test_a_lead_sentence_starting_with_by_is_body_not_byline() -> None:
    for lead in ("By midnight, the water had fallen half a metre.",
                 "By the end of the day, 40 flights had been cancelled.",
                 "By Tuesday the council had closed three roads",
                 "By a narrow margin, the motion passed."):
        parsed = parse_text_article(f"Storm passes\n\n{lead}\n\nThe rest of the story.")
        assert parsed.author is None, lead
        assert parsed.body.startswith(lead), lead


def test_bylines_are_lines_of_names_and_an_organisation() -> None:
    for line, author in (("By Ana de la Cruz and Tom Fry, Reuters", "Ana de la Cruz and Tom Fry, "
                                                                    "Reuters"),
                         ("BY SEAN O'NEILL | Staff Writer", "SEAN O'NEILL | Staff Writer"),
                         ("By our political correspondent", "our political correspondent"),
                         ("Written by J. R. Okafor", "J. R. Okafor")):
        parsed = parse_text_article(f"Storm passes\n\n{line}\n\nThe rest of the story.")
        assert parsed.author == author
        assert parsed.body == "The rest of the story."


def test_a_library_date_is_kept_only_where_the_raw_string_agrees() -> None:
    sydney = timezone(timedelta(hours=11))
    # The same moment: ours, which keeps the publisher's offset.
    assert reconcile_date("Thu, 12 Mar 2025 08:00:00 +1100",
                          datetime(2025, 3, 11, 21, tzinfo=UTC)) == datetime(
        2025, 3, 12, 8, tzinfo=sydney)
    # Another day than the raw string names (feedparser's 1st of the month): ours.
    assert reconcile_date("2025/3/9 06:30:00", datetime(2025, 3, 1, tzinfo=UTC)) == datetime(
        2025, 3, 9, 6, 30, tzinfo=UTC)
    # A zone only the library knows: its moment, in the zone that gives the raw wall clock.
    nzdt = reconcile_date("12 Mar 2025 09:00 NZDT", datetime(2025, 3, 11, 20, tzinfo=UTC))
    assert nzdt == datetime(2025, 3, 11, 20, tzinfo=UTC)
    assert nzdt is not None and (nzdt.day, nzdt.hour) == (12, 9)
    # Without a zone name, a library's midnight is not read as an offset.
    assert reconcile_date("2025/3/1 10:00", datetime(2025, 3, 1, tzinfo=UTC)) == datetime(
        2025, 3, 1, 10, tzinfo=UTC)
    # Nothing from the library, or a raw string nobody reads.
    assert reconcile_date("Mo, 10 Mar 2025", None) == datetime(2025, 3, 10, tzinfo=UTC)
    assert reconcile_date("soon", datetime(2025, 3, 1, tzinfo=UTC)) == datetime(2025, 3, 1,
                                                                                tzinfo=UTC)
    assert reconcile_date(None, None) is None


def test_titles_lose_a_second_level_of_escaping() -> None:
    assert plain_title("Council &amp;amp; unions") == "Council & unions"
    assert plain_title("&amp;quot;Reckless&amp;quot;") == '"Reckless"'
    assert plain_title("AT&T & Partners") == "AT&T & Partners"


def test_which_headline_wins_when() -> None:
    site = ("Quay Herald",)
    # 1. An <h1> that is not the site's name beats og:title and <title>.
    assert choose_headline(TitleEvidence(
        title_tag="Berth fees to rise | Quay Herald", og_title="Fees up! Read why",
        h1="Berth fees to rise by a fifth", site_names=site)) == "Berth fees to rise by a fifth"
    # An <h1> that is the site's name is not a headline: <title> without the site's name.
    assert choose_headline(TitleEvidence(
        title_tag="Berth fees to rise | Quay Herald", h1="Quay Herald", site_names=site,
        extracted="Quay Herald")) == "Berth fees to rise"
    # 2. A heading the metadata confirms keeps its " - " (no site name to cut).
    assert choose_headline(TitleEvidence(
        title_tag="Fees - what the rise means for fishers",
        headings=("Fees - what the rise means for fishers",),
        extracted="Fees")) == "Fees - what the rise means for fishers"
    # ... and without a heading, a " - " part is cut only when it is the site's name.
    assert choose_headline(TitleEvidence(
        title_tag="Fees - what the rise means for fishers")) == (
        "Fees - what the rise means for fishers")
    assert choose_headline(TitleEvidence(
        title_tag="Fees - what the rise means - Quay Herald", site_names=site)) == (
        "Fees - what the rise means")
    # 3. JSON-LD headline, then og:title, then <title>, each without the site's name.
    assert choose_headline(TitleEvidence(
        title_tag="Fees | Quay Herald", og_title="Berth fees rise | Quay Herald",
        json_ld_headline="Berth fees to rise by a fifth", site_names=site)) == (
        "Berth fees to rise by a fifth")
    assert choose_headline(TitleEvidence(
        title_tag="Fees | Quay Herald", og_title="Berth fees rise", site_names=site)) == (
        "Berth fees rise")
    assert choose_headline(TitleEvidence(title_tag="Quay Herald » Berth fees rise",
                                         site_names=site)) == "Berth fees rise"
    # A short " | " suffix is a site name even when the page does not name its site.
    assert choose_headline(TitleEvidence(title_tag="Berth fees rise again | The Quay")) == (
        "Berth fees rise again")
    # 4. The extractor's title, unless it is the site's name.
    assert choose_headline(TitleEvidence(extracted="Berth fees rise")) == "Berth fees rise"
    assert choose_headline(TitleEvidence(extracted="Quay Herald", site_names=site)) == ""

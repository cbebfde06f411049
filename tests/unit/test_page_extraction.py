"""Content extraction keeps what readers read, and only that (issue 29 §5), each kind of
failure on a page written for it: the standfirst, a text held only in JSON-LD, prompt boxes
and photo credits, a newsletter's or a kicker's heading taken for the headline, tables and
lists."""

from __future__ import annotations

import json
from pathlib import Path

from ingest.sources.parse import TitleEvidence, choose_headline, drop_boilerplate
from tests.unit.test_real_world_inputs import page_article

STORY = ("<p>The harbour board agreed on Tuesday to raise berth fees by a fifth from April, "
         "the first rise in six years, after a vote of seven to two.</p>"
         "<p>Fishers said the rise would cost a small boat about 900 euros a year, and the "
         "co-operative said it would appeal to the minister.</p>"
         "<p>The board said the money would pay for dredging the inner harbour, which has "
         "not been done since 2009.</p>")
FIRST = "The harbour board agreed on Tuesday to raise berth fees by a fifth from April"


def page(head: str, body: str) -> str:
    return (f"<html><head><meta charset='utf-8'>{head}</head><body>"
            "<header><a href='/'>Quay Herald</a><nav><a href='/news'>News</a></nav></header>"
            f"{body}<footer><p>© Quay Herald</p></footer></body></html>")


loaded = page_article  # a page written to a file and loaded as ingest loads it


def test_the_standfirst_under_the_headline_is_kept_as_the_first_paragraph(
        tmp_path: Path) -> None:
    lead = ("Fishers face a fifth more in berth fees from April, the first rise in six years, "
            "and say they will appeal.")
    # Marked as a standfirst by its class (trafilatura leaves it out: it is not in the body).
    marked = loaded(tmp_path, "dek.html", page(
        "<title>Berth fees to rise | Quay Herald</title>",
        f"<main><div class='article-header'><h1>Berth fees to rise</h1><p class='c-dek'>{lead}"
        f"</p></div><div class='article-body'>{STORY}</div></main>"))
    assert marked.text.split("\n\n")[0] == lead
    assert marked.text.split("\n\n")[1].startswith(FIRST)
    # Unmarked, but the page's description repeated under the headline, in a heading left
    # open (`<h2>…</h3>`, as pages are written).
    described = loaded(tmp_path, "excerpt.html", page(
        f"<title>Berth fees to rise</title><meta name='description' content='{lead}'>",
        f"<main><h1>Berth fees to rise</h1><h2 class='single__excerpt'>{lead}</h3>"
        f"<div class='content'>{STORY}</div></main>"))
    assert described.text.split("\n\n")[0] == lead
    assert described.text.count("Fishers face a fifth more") == 1
    # An author's box, a caption or a newsletter's blurb after the headline is no standfirst.
    others = loaded(tmp_path, "others.html", page(
        "<title>Berth fees to rise</title>",
        "<main><h1>Berth fees to rise</h1><div class='author-description'>Ann Lee has "
        "covered the harbour for the Quay Herald since 2015 and lives in Kell.</div>"
        "<div class='newsletter-description'>The latest news from the harbour every "
        f"morning, written by our reporters on the quay.</div><div class='body'>{STORY}</div>"
        "</main>"))
    assert others.text.startswith(FIRST)
    assert "Ann Lee" not in others.text and "every morning" not in others.text


def test_a_page_whose_text_is_only_in_its_json_ld_is_stored_from_it(tmp_path: Path) -> None:
    sentences = [
        "The harbour board agreed on Tuesday to raise berth fees by a fifth from April.",
        "Fishers said the rise would cost a small boat about 900 euros a year, and the "
        "co-operative said it would appeal to the minister.",
        "The board said the money would pay for dredging the inner harbour, which has not "
        "been done since 2009, and for new lights on the east pier.",
        "The chair, Mary Byrne, said the vote was seven to two and that the board had "
        "waited as long as it could.",
        "The co-operative's secretary said its 40 members would meet on Friday to decide "
        "whether to go to court.",
        "Berth fees at Kell were last raised in 2020, by a tenth, after a year of storms.",
        "The board will publish the new fees on its website next week, and they will apply "
        "to every berth from the first of April.",
        "Visiting yachts will pay the same daily fee as before, the harbour master said."]
    body = "\n".join(sentences)

    def with_ld(text: str) -> str:
        ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle",
                         "headline": "Berth fees to rise", "articleBody": text})
        return f"<title>Berth fees to rise</title><script type='application/ld+json'>{ld}</script>"

    # The story is drawn by a script: the page itself shows a teaser and a photo's caption.
    teaser = loaded(tmp_path, "app.html", page(with_ld(body), (
        "<main><article><h1>Berth fees to rise</h1><p>Fishers at Kell face a fifth more in "
        "berth fees from April, after a vote of the harbour board on Tuesday evening that "
        "the co-operative says it will fight all the way to the minister and to court.</p>"
        "<p>The fees, which have not risen since 2020, pay for the harbour's upkeep; the "
        "board says the inner harbour must be dredged before the summer.</p>"
        "<figure><img src='quay.jpg'><figcaption>Boats moored in the inner harbour at Kell "
        "on Monday morning, before the vote on the new berth fees.</figcaption></figure>"
        "<div id='app'></div></article></main>")))
    assert teaser.text.split("\n\n") == sentences
    # The JSON-LD's paragraphs where the page gives the same words run together.
    run_together = loaded(tmp_path, "run.html", page(with_ld(body), (
        "<main><article><h1>Berth fees to rise</h1><div id='app'></div></article></main>")))
    assert run_together.text.split("\n\n") == sentences
    # Where the page shows the whole story, it is what is stored (the JSON-LD a summary).
    shown = loaded(tmp_path, "shown.html", page(
        with_ld("Berth fees rise by a fifth."),
        f"<main><article><h1>Berth fees to rise</h1>{STORY}</article></main>"))
    assert shown.text.startswith(FIRST) and "dredging the inner harbour" in shown.text


def test_sign_up_letters_and_advertiser_boxes_are_not_article_text(tmp_path: Path) -> None:
    boxes = (
        # A box headed as a sign-up, whose own lines do not say so.
        "<div class='factbox'><span class='factbox-header'><h3>Sign up for the Quay Herald "
        "newsletter</h3></span><div class='factbox-content'><p>Never miss the latest news by "
        "signing up to our newsletter today!</p><p>Simply pop your email address in the box "
        "below and hit subscribe.</p><p>It is free, and it arrives every morning at seven."
        "</p></div></div>"
        # A newsletter's name as a box's heading (the box is not named so).
        "<section class='widget'><h2>Quay Daily Forecast Newsletter</h2><p>The day's weather "
        "for the harbour, every morning.</p></section>"
        # A letters prompt and an advertiser-disclosure box.
        "<section class='c-letters'><p>We want to hear what you think about this article. "
        "<a href='/letters'>Submit a letter</a> to the editor or write to letters@quay.example."
        "</p></section>"
        "<div class='disclosure'><h4>Advertiser Disclosure</h4><p>Some of the offers on this "
        "page are from partners who pay us; this does not change what we write about them."
        "</p></div>")
    article = loaded(tmp_path, "boxes.html", page(
        "<title>Berth fees to rise</title>",
        f"<main><article><h1>Berth fees to rise</h1>{STORY}{boxes}"
        "<p>The new fees will be published on the board's website next week.</p>"
        "</article></main>"))
    paragraphs = article.text.split("\n\n")
    assert paragraphs[0].startswith(FIRST)
    assert paragraphs[-1] == "The new fees will be published on the board's website next week."
    for words in ("newsletter", "Never miss", "email address", "every morning",
                  "letter", "Disclosure", "partners who pay us"):
        assert words not in article.text, words
    # A story about a newsletter and about letters keeps its words.
    story = loaded(tmp_path, "story.html", page(
        "<title>Herald starts a newsletter</title>",
        "<main><article><h1>Herald starts a newsletter</h1><p>The Quay Herald will send a "
        "newsletter to 3,000 readers from Monday, its editor said on Tuesday.</p><p>Readers "
        "who wrote letters to the editor about the fees will be invited to a public meeting "
        "in the town hall.</p></article></main>"))
    assert "send a newsletter to 3,000 readers" in story.text
    assert "wrote letters to the editor" in story.text


def test_photo_credit_lines_are_not_article_text() -> None:
    credits = ["Photo: Jane Roe/AFP", "(Image: Colin Keegan, Collins Dublin)", "Getty Images",
               "AP Photo/Evan Vucci", "Jonathan Nackstrand/AFP via Getty Images",
               "Photograph by Ann Lee for the Quay Herald", "Image credit: NASA"]
    kept = ["The photo was taken by Ann Lee in 2019, the court heard.",
            "Reuters reported the sale on Tuesday.", "Mary Byrne — Votes: 4,512.",
            "Photos of the flood were shared by thousands of people."]
    body, dropped = drop_boilerplate("\n\n".join(["The board met on Tuesday.", *credits, *kept]))
    assert dropped == len(credits)
    assert body.split("\n\n") == ["The board met on Tuesday.", *kept]


def test_a_newsletter_heading_or_a_kicker_is_not_the_headline(tmp_path: Path) -> None:
    headline = "Voters pass pension rise for retired harbour workers"
    meta = (f"<title>{headline} | Quay Herald</title>"
            f"<meta property='og:title' content='{headline}'>"
            "<meta property='og:site_name' content='Quay Herald'>"
            '<script type="application/ld+json">{"@type": "NewsArticle", '
            f'"headline": "{headline}"}}</script>')
    # The headline above <main>; a newsletter box's <h1> inside it.
    boxed = loaded(tmp_path, "box.html", page(meta, (
        f"<div class='article-header'><h1 class='article-title'>{headline}</h1></div>"
        "<main><div class='sailthru-signup-widget'><h1>Quay Daily Forecast Newsletter</h1>"
        f"<form><input name='email'></form></div><article>{STORY}</article></main>")))
    assert boxed.title == headline
    # The box not named as one: the metadata agree on the <h1> outside it.
    unnamed = loaded(tmp_path, "unnamed.html", page(meta, (
        f"<div class='top'><h1>{headline}</h1></div><main><div class='box'>"
        f"<h1>The Morning Catch</h1></div><article>{STORY}</article></main>")))
    assert unnamed.title == headline
    # A section's name or a series' in the <h1>, which the metadata leave out.
    for kicker in ("<a href='/politics'>Politics | </a>", "<span>Open Harbour</span><br>"):
        kicked = loaded(tmp_path, "kicker.html", page(meta, (
            f"<main><article><h1>{kicker}<span>{headline}</span></h1>{STORY}</article>"
            "</main>")))
        assert kicked.title == headline, kicker
    # A part before a colon is the headline's own.
    assert choose_headline(TitleEvidence(
        og_title="Marita Kramer misses the Games", title_tag="Marita Kramer misses the Games",
        h1="'Pure emptiness': Marita Kramer misses the Games")) == (
        "'Pure emptiness': Marita Kramer misses the Games")
    # A headline worded otherwise than the metadata's (same story) stays the <h1>.
    assert choose_headline(TitleEvidence(
        og_title=headline, json_ld_headline=headline,
        h1="Retired harbour workers win pension rise at the polls")) == (
        "Retired harbour workers win pension rise at the polls")


def test_table_rows_and_list_items_are_stored_as_text(tmp_path: Path) -> None:
    intro = ("<p>Mary Byrne topped the poll in the Alder Vale ward on Friday, the returning "
             "officer said, ahead of two other candidates for the one seat.</p>")
    outro = ("<p>The new council will choose its leader in December. Its priorities, Ms Byrne "
             "said, are:</p><ul><li>a bus route to the hospital</li><li>repairs to the Kell "
             "bridge</li></ul><p>Turnout was 41 per cent, up from 35 per cent four years ago."
             "</p>")
    # No heading row: every row is a result (the first one too).
    plain = loaded(tmp_path, "plain.html", page(
        "<title>Byrne tops the poll</title>",
        f"<main><article><h1>Byrne tops the poll</h1>{intro}<table>"
        "<tr><td>Mary Byrne (Green)</td><td>4,512</td></tr>"
        "<tr><td>Tom Hale (Labour)</td><td>3,980</td></tr>"
        "<tr><td>Ann Lee (Independent)</td><td>1,204</td></tr></table>"
        f"{outro}</article></main>"))
    lines = plain.text.split("\n\n")
    assert lines[1:4] == ["Mary Byrne (Green) — 4,512.", "Tom Hale (Labour) — 3,980.",
                          "Ann Lee (Independent) — 1,204."]
    assert "- a bus route to the hospital" in lines and "- repairs to the Kell bridge" in lines
    # A heading row names each cell.
    headed = loaded(tmp_path, "headed.html", page(
        "<title>Byrne tops the poll</title>",
        f"<main><article><h1>Byrne tops the poll</h1>{intro}<table><thead><tr><th>Candidate"
        "</th><th>Party</th><th>Votes</th></tr></thead><tbody>"
        "<tr><td>Mary Byrne</td><td>Green</td><td>4,512</td></tr>"
        "<tr><td>Tom Hale</td><td>Labour</td><td>3,980</td></tr></tbody></table>"
        f"{outro}</article></main>"))
    assert headed.text.split("\n\n")[1:3] == ["Mary Byrne — Party: Green; Votes: 4,512.",
                                              "Tom Hale — Party: Labour; Votes: 3,980."]

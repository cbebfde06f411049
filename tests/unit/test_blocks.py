import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.app import question_text
from bot.slack.blocks import (
    MAX_BLOCKS,
    SECTION_LIMIT,
    answer_blocks,
    apology_blocks,
    cut,
    escape,
    fallback_text,
    link,
    looking_text,
    plain_text,
    refusal_text,
    with_feedback_recorded,
    working_blocks,
)
from bot.slack.watch_blocks import (
    alert_blocks,
    brief_blocks,
    refused_text,
    removed_text,
    saved_text,
    watches_blocks,
)
from retrieval.news.alerts import Alert, Watch
from retrieval.news.brief import Brief, Story
from retrieval.news.timeline import Development
from retrieval.question.time_window import TimeWindow
from retrieval.records import Answer, AnswerSpan, Citation, Passage, Reprint


def passage(i: int, url: str | None = "https://n.example/a") -> Passage:
    return Passage(chunk_id=f"a{i}#0", article_id=f"a{i}", title=f"Title <{i}> & co",
                   text="t", score=1.0, url=url, source="wire",
                   published=datetime(2025, 1, 2, tzinfo=UTC))


def texts(blocks: list[dict]) -> str:  # type: ignore[type-arg]
    out = []
    for block in blocks:
        if "text" in block:
            out.append(block["text"]["text"])
        out.extend(e["text"] for e in block.get("elements", []) if isinstance(e.get("text"), str))
    return "\n".join(out)


def test_answer_has_text_sources_context_and_buttons() -> None:
    answer = Answer("q", "It cost 84m [1].", False, (Citation(1, passage(1)),), (passage(1),),
                    {"total": 0.12})
    blocks, fallback = answer_blocks(answer)
    rendered = texts(blocks)
    assert "It cost 84m [1]." in rendered
    assert "[1] <https://n.example/a|Title &lt;1&gt; &amp; co> — wire, 2 Jan 2025" in rendered
    assert "120 ms" in rendered
    assert blocks[-1]["type"] == "actions"
    assert fallback.startswith("It cost 84m [1].\n[1] Title &lt;1&gt; &amp; co")


def test_source_without_url_is_bold_title() -> None:
    answer = Answer("q", "A [1].", False, (Citation(1, passage(1, url=None)),), ())
    assert "*Title &lt;1&gt; &amp; co* — wire" in texts(answer_blocks(answer)[0])


def test_abstention_lists_closest_articles_without_sources() -> None:
    answer = Answer("q", "The articles don't say.", True, (), (passage(1), passage(1),
                                                              passage(2)))
    rendered = texts(answer_blocks(answer)[0])
    assert "The articles don't say." in rendered and "Closest articles" in rendered
    assert rendered.count("• ") == 2 and "Sources" not in rendered


def test_huge_answers_stay_within_slack_limits() -> None:
    passages = tuple(passage(i) for i in range(60))
    answer = Answer("q", "word " * 40_000, False,
                    tuple(Citation(i + 1, p) for i, p in enumerate(passages)), passages)
    blocks, fallback = answer_blocks(answer)
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(b.get("text", {}).get("text", "")) <= SECTION_LIMIT for b in blocks)
    assert "answer shortened" in texts(blocks)
    assert "…and 50 more" in texts(blocks)
    assert len(fallback) <= 3000


def test_feedback_replaces_the_buttons() -> None:
    answer = Answer("q", "A [1].", False, (Citation(1, passage(1)),), ())
    blocks, _ = answer_blocks(answer)
    after = with_feedback_recorded(blocks, "down", "U1")
    assert not any(b.get("block_id") == "newsdesk_feedback" for b in after)
    assert "👎 Thanks <@U1>" in texts(after)


def test_escape() -> None:
    assert escape("a < b & c > d") == "a &lt; b &amp; c &gt; d"


# -- Slack text in: what a person typed, from what Slack delivers ----------------------------


@pytest.mark.parametrize(("delivered", "typed"), [
    ("<@UBOT> How many masts will Bay &amp; Coast Telecom build?",
     "How many masts will Bay & Coast Telecom build?"),
    ("<@UBOT|newsdesk> Is 3 &lt; 4 &amp;&amp; 5 &gt; 4?", "Is 3 < 4 && 5 > 4?"),
    ("<@UBOT> What does <https://city.example/a?x=1&amp;y=2|the tram story> say?",
     "What does the tram story say?"),
    ("<@UBOT> Summarise <https://city.example/tram>", "Summarise https://city.example/tram"),
    ("<@UBOT> What did <@U2|alice> post in <#C9|desk-news> about the fire?",
     "What did @alice post in #desk-news about the fire?"),
    ("<!channel> <@UBOT> who won <@U7>?", "who won ?"),
    ("<@UBOT> mail <mailto:desk@paper.example|desk@paper.example> the &amp;amp; code",
     "mail desk@paper.example the &amp; code"),  # a typed "&amp;" stays as typed
    ("<@UBOT> anyone from <!subteam^S1|@editors>?", "anyone from @editors?"),
])
def test_a_question_is_read_as_the_person_typed_it(delivered: str, typed: str) -> None:
    assert question_text(delivered, "UBOT") == typed


def test_plain_text_undoes_escape() -> None:
    for text in ["AT&T <b> &amp; &lt;", "a > b", "plain", "<!channel> & <@U1>"]:
        assert plain_text(escape(text)) == text


def test_the_placeholder_echoes_the_question_escaped_once() -> None:
    blocks, _ = working_blocks(question_text("<@UBOT> Bay &amp; Coast?", "UBOT"))
    assert "_Bay &amp; Coast?_" in texts(blocks) and "&amp;amp;" not in texts(blocks)


# -- Slack text out: article text never pings anyone ---------------------------------------


@pytest.mark.parametrize("control", ["<!channel>", "<!here>", "<@U0ADMIN>", "<#C1|general>",
                                     "<https://evil.example|bank login>"])
def test_article_text_with_slack_markup_is_escaped_in_every_rendered_field(
        control: str) -> None:
    quoted = Passage(chunk_id="h#0", article_id="h", title=f"Hoax {control} sent",
                     text="t", score=1.0, url="https://n.example/h?a=1&b=2",
                     source=f"wire {control}", published=datetime(2025, 1, 2, tzinfo=UTC),
                     reprints=(Reprint("h2", source=f"AFP {control}"),))
    answer = Answer("q", f'A message began "{control} urgent" [1].', False,
                    (Citation(1, quoted),), (quoted,), note=f"note {control}")
    blocks, fallback = answer_blocks(answer)
    for field in (texts(blocks), fallback):
        assert control not in field
        assert escape(control) in field
    assert texts(blocks).count("&lt;") >= 4  # answer, title, source, reprint
    assert "https://n.example/h?a=1&amp;b=2" in fallback


def test_a_long_fallback_is_cut_outside_an_escape() -> None:
    answer = Answer("q", "&" * 5000, False, (), ())
    fallback = fallback_text(answer)
    assert len(fallback) <= 3000 and fallback.endswith("&amp;…")


# -- links: only http(s), and nothing in a URL ends the link or starts markup ----------------


@pytest.mark.parametrize(("url", "shown"), [
    ("https://n.example/a?x=1&y=2", "<https://n.example/a?x=1&amp;y=2|T &lt;1&gt;>"),
    ("https://news.example/>pwn<!channel>/x",
     "<https://news.example/%3Epwn%3C!channel%3E/x|T &lt;1&gt;>"),
    ("https://n.example/a|<@U123> b\tc\nd",
     "<https://n.example/a%7C%3C@U123%3E%20b%09c%0Ad|T &lt;1&gt;>"),
    ("HTTP://N.example/\u202e\x85x", "<HTTP://N.example/%E2%80%AE%C2%85x|T &lt;1&gt;>"),
    ("  https://n.example/a  ", "<https://n.example/a|T &lt;1&gt;>"),
    ("javascript:alert('<!here>')", "*T &lt;1&gt;* (javascript:alert('&lt;!here&gt;'))"),
    ("mailto:desk@n.example", "*T &lt;1&gt;* (mailto:desk@n.example)"),
    ("/relative/path", "*T &lt;1&gt;* (/relative/path)"),
    ("https://[::1/x", "*T &lt;1&gt;* (https://[::1/x)"),
    ("https:///no-host", "*T &lt;1&gt;* (https:///no-host)"),
    ("", "*T &lt;1&gt;*"),
    (None, "*T &lt;1&gt;*"),
])
def test_a_link_is_made_only_of_an_http_url_with_markup_encoded(url: str | None,
                                                                shown: str) -> None:
    assert link(url, "T <1>") == shown


def test_a_label_cannot_end_its_link() -> None:
    assert link("https://n.example/", "a|b> <!here>") == (
        "<https://n.example/|a∣b&gt; &lt;!here&gt;>")


@given(st.text(), st.text())
def test_any_url_and_label_make_one_link_or_none(url: str, label: str) -> None:
    shown = link(url, label)
    inner = shown[1:-1]
    if shown.startswith("<"):  # a link: one target, one label, nothing else Slack reads
        target, _, text = inner.partition("|")
        assert shown.endswith(">") and not re.search(r"[<>|\s]", target + text.replace(" ", ""))
        assert target.lower().startswith(("http://", "https://"))
    else:
        assert "<" not in shown and ">" not in shown


@given(st.text())
def test_escaped_text_has_no_markup_and_reads_back(text: str) -> None:
    escaped = escape(text)
    assert "<" not in escaped and ">" not in escaped
    assert plain_text(escaped) == text


@given(st.text(alphabet="&<>ab", max_size=60), st.integers(min_value=2, max_value=50))
def test_a_cut_never_splits_an_escape(text: str, limit: int) -> None:
    shortened = cut(escape(text), limit)
    assert len(shortened) <= limit
    assert re.fullmatch(r"([ab]|&amp;|&lt;|&gt;)*…?", shortened)


# -- every builder, fed hostile articles: nothing pings anyone or forges a link ---------------


HOSTILE = "<!channel> <!here> <@U123> <#C1> <https://evil|click>"
EVIL_URL = "https://news.example/>pwn<!channel>/x"
EVIL_TARGET = "https://news.example/%3Epwn%3C!channel%3E/x"


def hostile(i: int, url: str | None = EVIL_URL) -> Passage:
    return Passage(chunk_id=f"h{i}#0", article_id=f"h{i}", title=f"Title {i} {HOSTILE}",
                   text=f"Body {HOSTILE}", score=1.0, url=url, source=f"Wire {HOSTILE}",
                   published=datetime(2026, 12, 1 + i, 9, tzinfo=UTC),
                   updated=datetime(2026, 12, 2 + i, 9, tzinfo=UTC),
                   reprints=(Reprint(f"r{i}", source=f"AFP {HOSTILE}",
                                     author=f"Jo {HOSTILE}", url=EVIL_URL),))


def strings(value: Any) -> Iterator[str]:
    """Every string in blocks or a (blocks, text) pair: what Slack renders or notifies."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings(item)


def every_rendering() -> Iterator[tuple[str, Any]]:
    passages = (hostile(1), hostile(2, url="javascript:alert(1)"), hostile(3, url=None))
    citations = tuple(Citation(n, p) for n, p in enumerate(passages, start=1))
    window = TimeWindow(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC),
                        phrase=HOSTILE)
    answer = Answer(HOSTILE, f"{HOSTILE} lead {HOSTILE} [1][2][3].", False, citations,
                    passages, {"total": 0.1}, note=f"note {HOSTILE}",
                    answer_span=AnswerSpan(HOSTILE, 1), window=window)
    # A timeline and a what-changed answer are answers of dated or old/new lines.
    timeline = Answer(f"timeline of {HOSTILE}", "\n".join(
        f"{2 + n} Dec 2026 — {HOSTILE} [{n}]" for n in (1, 2, 3)), False, citations, passages)
    changes = Answer(f"what changed {HOSTILE}", f"Toll raised from <!here> to {HOSTILE} "
                     "(updated 3 Dec, was 2 Dec) [1][2]", False, citations[:2], passages)
    closest = Answer(HOSTILE, "The articles don't say.", True, (), passages, window=window)
    for name, built in [("answer", answer), ("timeline", timeline), ("changes", changes),
                        ("abstention", closest)]:
        yield name, answer_blocks(built)
        yield f"{name} fallback", fallback_text(built)
    watch = Watch(7, f"Question {HOSTILE}?", "C1")
    yield "alert", alert_blocks(Alert(watch, "updated", answer, ("h1",), ("h1",),
                                      changes=(f"Toll raised {HOSTILE}",)))
    developments = tuple(Development(n, f"Step {HOSTILE}", p)
                         for n, p in enumerate(passages, start=1))
    story = Story(f"Story {HOSTILE}", f"Lead {HOSTILE}", 1, passages[0],
                  (f"Wire {HOSTILE}", "AFP"), 3, developments, earlier=2)
    yield "brief", brief_blocks(Brief(window, (story,), citations, 3, more=1))
    yield "watches", watches_blocks([watch], "/ask")
    yield "working", working_blocks(HOSTILE)
    yield "apology", apology_blocks()
    yield "apology with reason", apology_blocks(f"store {HOSTILE}")
    yield "feedback (no user id)", with_feedback_recorded(answer_blocks(answer)[0], "up",
                                                          "U1> <!channel")
    yield "ack: looking", looking_text(HOSTILE)
    yield "ack: refused", refusal_text(f"question: {HOSTILE}", ", e.g. `/ask why?`")
    yield "ack: saved", saved_text(watch, "/ask")
    yield "ack: removed", removed_text(HOSTILE, False)
    yield "ack: sub-command refused", refused_text(f"id: {HOSTILE}")


@pytest.mark.parametrize(("name", "rendered"), list(every_rendering()))
def test_no_builder_lets_an_article_ping_anyone_or_forge_a_link(name: str,
                                                                 rendered: Any) -> None:
    for text in strings(rendered):
        # Slack reads markup between < and >: the only kind left is a link to a source's
        # own (http) URL, its target encoded.
        for markup in re.findall(r"<[^>]*>?", text):
            assert markup.startswith(f"<{EVIL_TARGET}|Title "), (name, markup)
            assert re.fullmatch(r"<[^<>|\s]+\|[^<>|]*>", markup), (name, markup)
        assert not re.search(r"<[!@#]", text), (name, text)
        assert "<https://evil" not in text and "javascript:alert(1)|" not in text


def test_the_feedback_thanks_mentions_only_a_slack_user_id() -> None:
    assert "👍 Thanks <@U0123ABC>, your" in texts(with_feedback_recorded([], "up", "U0123ABC"))
    assert "👎 Thanks, your feedback" in texts(with_feedback_recorded([], "down",
                                                                     "U1> <!channel"))


def test_an_alert_notification_is_escaped_once() -> None:
    answer = Answer("q", "A &lt;b&gt; <!here> [1].", False, (Citation(1, hostile(1)),), ())
    _, text = alert_blocks(Alert(Watch(1, "Is A & B <ok>?", "C1"), "new", answer, (), ()))
    assert text.startswith("New for “Is A &amp; B &lt;ok&gt;?”: A &amp;lt;b&amp;gt; "
                           "&lt;!here&gt; [1].\n[1] Title 1 &lt;!channel&gt;")
    assert "&amp;amp;" not in text

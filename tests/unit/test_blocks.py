from datetime import UTC, datetime

import pytest

from bot.blocks import (
    MAX_BLOCKS,
    SECTION_LIMIT,
    answer_blocks,
    escape,
    fallback_text,
    plain_text,
    with_feedback_recorded,
    working_blocks,
)
from bot.slack_app import question_text
from retrieval.records import Answer, Citation, Passage, Reprint


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

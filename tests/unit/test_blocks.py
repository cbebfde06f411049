from datetime import UTC, datetime

from bot.blocks import (
    MAX_BLOCKS,
    SECTION_LIMIT,
    answer_blocks,
    escape,
    with_feedback_recorded,
)
from retrieval.records import Answer, Citation, Passage


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
    assert fallback.startswith("It cost 84m [1].\n[1] Title <1> & co")


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

"""The daily brief on invented records: stories made of wire copies and developments, ordered
by coverage, cited; the period read from what a user types; the store adapter on a fake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from bot.app.briefing import daily_brief
from bot.app.user_values import chat_period, read_brief_period, read_period
from config.errors import RequestError
from ingest.model.records import Chunk, ChunkMeta
from retrieval.news.brief import BriefItem, compose_brief, group_stories, lead_sentence, related
from retrieval.question.time_window import TimeWindow
from tests.fakes import MemoryStore

WINDOW = TimeWindow(datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 3, 23, tzinfo=UTC))


def vector(*weights: float) -> np.ndarray:
    v = np.asarray(weights + (0.0,) * (4 - len(weights)), dtype=np.float32)
    return v / np.linalg.norm(v)


FLOOD, JOBS, CUP = vector(1, 0.1), vector(0, 1), vector(0, 0, 1)


def item(article: str, text: str, day: int, source: str, vec: np.ndarray | None,
         copy_of: str | None = None, updated: int | None = None) -> BriefItem:
    meta = ChunkMeta(
        article_id=article, chunk_index=0, chunk_count=1, content_hash="h", text_hash="t",
        title=f"Title {article}", source=source, url=f"https://x.example/{article}",
        published=datetime(2026, 12, day, 9, tzinfo=UTC), copy_of=copy_of,
        updated=datetime(2026, 12, updated, 12, tzinfo=UTC) if updated else None)
    return BriefItem(f"{article}#0", text, meta, vec)


FLOOD_1 = item("flood-1", "Brennock, Tuesday. The Tallis river flooded 40 homes in Brennock "
               "on Tuesday. More rain is due.", 1, "Courier", FLOOD)
FLOOD_2 = item("flood-2", "Brennock evacuated 300 people as the Tallis river rose.", 2, "Radio",
               FLOOD)
FLOOD_3 = item("flood-3", "The Tallis river fell in Brennock and repairs will cost 6 million.",
               3, "Courier", FLOOD)
AFP = item("afp", "Orrin Motors will cut 1,200 jobs at its Feldmark plant, it said.", 1, "AFP",
           JOBS)
REUTERS = item("reuters", "Orrin Motors will cut 1,200 jobs at the Feldmark plant, it said.",
               1, "Reuters", JOBS, copy_of="afp")
BBC = item("bbc", "Orrin Motors confirmed 1,200 Feldmark jobs will go next year.", 1, "BBC",
           JOBS, copy_of="afp")
CUP_FINAL = item("cup", "Port Selby won the island cup final 2-1 against Carrow on Tuesday.", 1,
                 "Sport", CUP, updated=2)


def test_the_lead_sentence_skips_a_dateline() -> None:
    assert lead_sentence(FLOOD_1.text) == (
        "The Tallis river flooded 40 homes in Brennock on Tuesday.")
    assert lead_sentence("Short.  Too") == "Short. Too"


def test_developments_need_close_leads_and_shared_names() -> None:
    assert related(FLOOD_1, FLOOD_3)
    # As close by embedding, but naming nothing in common: another story.
    elsewhere = item("other", "A Carrow ferry sank off Selby Point on Monday.", 2, "X", FLOOD)
    assert not related(FLOOD_1, elsewhere)
    assert not related(FLOOD_1, item("novec", FLOOD_3.text, 3, "Courier", None))


def test_stories_fold_copies_and_developments() -> None:
    stories = group_stories([CUP_FINAL, FLOOD_3, REUTERS, FLOOD_1, AFP, FLOOD_2])
    assert sorted([i.meta.article_id for i in s] for s in stories) == [
        ["afp", "reuters"], ["cup"], ["flood-1", "flood-2", "flood-3"]]


def test_the_brief_orders_by_coverage_and_cites_each_lead() -> None:
    brief = compose_brief([CUP_FINAL, FLOOD_1, AFP, REUTERS, BBC, FLOOD_2, FLOOD_3], WINDOW)
    assert [s.passage.article_id for s in brief.stories] == ["afp", "flood-3", "cup"]
    jobs, flood, cup = brief.stories
    # Copies of one moment in the order of their ids.
    assert jobs.sources == ("AFP", "BBC", "Reuters") and jobs.coverage == "ran in 3 sources"
    assert jobs.articles == 3 and jobs.timeline == ()
    assert [r.article_id for r in jobs.passage.reprints] == ["bbc", "reuters"]
    # The newest development leads; its timeline runs oldest first, every line cited.
    assert flood.lead == "The Tallis river fell in Brennock and repairs will cost 6 million."
    assert [s.passage.article_id for s in flood.timeline] == ["flood-1", "flood-2", "flood-3"]
    cited = {c.n: c.passage.article_id for c in brief.citations}
    assert cited[flood.n] == "flood-3" and flood.timeline[-1].n == flood.n
    assert [cited[s.n] for s in flood.timeline] == ["flood-1", "flood-2", "flood-3"]
    assert cup.coverage == "" and brief.articles == 7
    text = brief.text
    assert text.startswith("Articles from 1–3 Dec 2026: 3 stories from 7 articles.")
    assert f"1. Title afp — ran in 3 sources\n   Orrin Motors will cut 1,200 jobs at its " \
           f"Feldmark plant, it said. [{jobs.n}] (1 Dec 2026)" in text
    assert f"     2 Dec 2026 — Brennock evacuated 300 people as the Tallis river rose. " \
           f"[{flood.timeline[1].n}]" in text
    assert "(1 Dec 2026; updated 2 Dec 2026)" in text  # the cup story's revision


def test_the_brief_trims_long_timelines_and_counts_what_it_leaves_out() -> None:
    brief = compose_brief([FLOOD_1, FLOOD_2, FLOOD_3, AFP, CUP_FINAL], WINDOW, max_stories=1,
                          max_steps=2)
    (flood,) = brief.stories
    assert [s.passage.article_id for s in flood.timeline] == ["flood-2", "flood-3"]
    assert flood.earlier == 1 and brief.more == 2
    assert "Timeline: (1 earlier not shown)" in brief.text
    assert brief.text.endswith("and 2 more stories")
    data = brief.as_dict()
    assert data["more"] == 2 and data["stories"][0]["earlier"] == 1
    # The lead is cited once: the timeline's last line points at it.
    assert [c["article_id"] for c in data["citations"]] == ["flood-3", "flood-2"]


def test_an_empty_period_says_so() -> None:
    assert compose_brief([], WINDOW).text == "Articles from 1–3 Dec 2026: no articles."


def test_the_period_is_a_duration_back_or_dates() -> None:
    as_of = datetime(2026, 12, 3, 18, tzinfo=UTC)
    last_day = read_period("24h", None, ("AFP",), as_of)
    assert (last_day.since, last_day.until, last_day.sources) == (
        as_of - timedelta(hours=24), as_of, ("AFP",))
    # a date alone: from that day's start on, as `git log --since` reads it
    from_then = read_period("2019-10-01", None, as_of=as_of)
    assert (from_then.since, from_then.until) == (datetime(2019, 10, 1, tzinfo=UTC), as_of)
    span = read_period("2019-10-01", "2019-10-03")
    assert span.until is not None and span.until.date().isoformat() == "2019-10-03"
    with pytest.raises(ValueError, match="not a date"):
        read_period("last tuesdayish", None)
    with pytest.raises(ValueError, match="is before since"):
        read_period("2026-11-25", "2026-11-01")


def test_the_brief_reads_dates_as_ask_does() -> None:
    """The same date words as `ask` ("yesterday", "3 days ago"), the same reader of as_of, and
    a period that ends before it starts refused whichever way it starts (a fresh-clone
    tester's findings: `brief --since yesterday` was "not a date", `--since 3d --until
    2020-01-01` an empty brief, an as_of offset of +25:00 taken)."""
    as_of = datetime(2026, 12, 3, 18, tzinfo=UTC)
    since_yesterday = read_period("yesterday", None, as_of=as_of)
    assert (since_yesterday.since, since_yesterday.until) == (datetime(2026, 12, 2, tzinfo=UTC),
                                                              as_of)
    assert read_period("3 days ago", None, as_of=as_of).since == datetime(2026, 11, 30,
                                                                          tzinfo=UTC)
    with pytest.raises(ValueError, match="is before since"):
        read_period("3d", "2020-01-01", as_of=as_of)
    assert read_brief_period("24h", None, (), "yesterday").until is not None
    with pytest.raises(RequestError, match=r"^as_of: not a date"):
        read_brief_period("24h", None, (), "2025-11-04T00:00+25:00")
    opened = read_period("3d", "", as_of=as_of)  # an empty until after a duration: up to as_of
    assert opened.until == as_of
    with pytest.raises(RequestError, match="before the calendar's first day"):
        read_brief_period(None, None, (), "0001-01-01")
    with pytest.raises(RequestError, match=r"^until: not a date: '1d' \(use YYYY-MM-DD"):
        read_brief_period("3d", "1d", (), None)


def test_the_adapter_reads_only_the_periods_leads() -> None:
    store = MemoryStore()
    items = [FLOOD_1, FLOOD_2, AFP, item("old", "An old story from November about a fair.",
                                         1, "Courier", CUP)]
    old = items[-1]
    items[-1] = BriefItem(old.chunk_id, old.text, ChunkMeta(**{
        **old.meta.__dict__, "published": datetime(2026, 11, 20, tzinfo=UTC)}), old.vector)
    for brief_item in items:
        chunk = Chunk(brief_item.chunk_id, brief_item.meta.article_id, 0, brief_item.text, "",
                      0, len(brief_item.text))
        store.upsert([chunk], np.asarray([brief_item.vector * 3]), [brief_item.meta])
    brief = daily_brief(store, read_period("2026-12-01", "2026-12-03"))
    assert brief.articles == 3
    assert sorted(s.passage.article_id for s in brief.stories) == ["afp", "flood-2"]


@pytest.mark.parametrize(("typed", "fields"), [
    ("", {}), ("3d", {"since": "3d"}), ("24h", {"since": "24h"}),
    ("2026-12-01", {"since": "2026-12-01", "until": "2026-12-01"}),
    ("yesterday", {"since": "yesterday", "until": "yesterday"}),
    ("fortnightish", {"since": "fortnightish"})])  # refused later, as since
def test_a_chats_brief_period_is_a_duration_back_or_one_day(typed: str,
                                                             fields: dict[str, str]) -> None:
    assert chat_period(typed) == fields

"""The news-aware core on hand-made articles (pure code, no model): the latest version of a
story wins, timelines, wire copies, and how front ends show dates, windows and reprints."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from bot.cli.commands import cli
from bot.factory import hybrid_config
from bot.slack.blocks import answer_blocks, describe
from config.settings import (
    ChunkingSettings,
    IngestSettings,
    RetrievalSettings,
    SlackSettings,
    load_settings,
)
from ingest.model.records import ChunkMeta
from ingest.run.pipeline import Ingestor
from ingest.sources.parse import parse_date
from ingest.store.chunks import chroma_metadata, meta_from_chroma
from ingest.text.near_duplicates import (
    Lead,
    copy_group,
    features,
    is_copy,
    names,
    numbers,
    resemblance,
    shingles,
)
from ingest.text.terms import analyze
from retrieval.answer.compose import compose
from retrieval.answer.extractive import find_evidence
from retrieval.news.timeline import compose_timeline, developments
from retrieval.question.intent import timeline_topic
from retrieval.question.time_window import TimeWindow
from retrieval.records import Answer, Citation, Passage, Reprint
from retrieval.search.hybrid import HybridSearcher
from retrieval.search.keyword_index import KeywordIndex
from tests.fakes import HashingEmbedder, MemoryStore
from tests.helpers import FIXTURES, NoNetwork, extractive_config


class Terms:
    def terms(self, text: str) -> list[str]:
        return analyze(text)

    def idf(self, term: str) -> float:
        return 2.0


def day(n: int) -> datetime:
    return datetime(2026, 11, n, 9, tzinfo=UTC)


def passage(article: str, title: str, text: str, published: datetime | None,
            score: float = 1.0, group: str = "") -> Passage:
    return Passage(chunk_id=f"{article}#0", article_id=article, title=title, text=text,
                   score=score, published=published, group=group or article)


TOLL_OLD = passage("orla-1", "Storm Orla: three people die", (
    "Three people have died after Storm Orla brought winds of up to 90mph to the west coast. "
    "Thousands of homes lost power and the coastal railway was closed."), day(20))
TOLL_NEW = passage("orla-2", "Storm Orla death toll rises to five", (
    "Five people have now died in Storm Orla, the coastguard said. The coastal railway "
    "reopened after fallen trees were cleared."), day(22), score=0.8)
BAKERY = passage("bakery", "Bakery wins bread award", (
    "A family bakery in Porthaven has won the regional bread award for its sourdough rye, "
    "beating 140 entries."), day(5), score=0.5)


def answer_text(question: str, passages: Sequence[Passage]) -> str:
    evidence = find_evidence(question, passages, Terms(), extractive_config())
    return compose(evidence, 80)


def test_a_revised_figure_is_answered_from_the_newer_article_as_of_its_date() -> None:
    # The older article ranks first and matches the question's words better.
    text = answer_text("How many people died in Storm Orla?", [TOLL_OLD, TOLL_NEW, BAKERY])
    assert text.startswith("Five people, as of 22 Nov 2026 — Five people have now died")
    assert text.endswith("[2]") and "Three" not in text  # the earlier value is not repeated


def test_without_dates_the_best_sentence_stands() -> None:
    undated = [Passage(**{**p.__dict__, "published": None}) for p in (TOLL_OLD, TOLL_NEW)]
    text = answer_text("How many people died in Storm Orla?", undated)
    assert text.startswith("Three people — ") and "as of" not in text


def test_a_question_about_the_change_gets_both_values_newest_first() -> None:
    text = answer_text("How did the Storm Orla death toll change?", [TOLL_OLD, TOLL_NEW])
    # A death toll is a count: the newest one leads, dated.
    assert text.startswith("Five, as of 22 Nov 2026 —")
    assert text.index("Five people") < text.index("Three people")
    assert "[1]" in text and "[2]" in text


def test_a_latest_question_leads_with_the_newest_article_of_the_story() -> None:
    text = answer_text("What is the latest on Storm Orla?", [TOLL_OLD, TOLL_NEW, BAKERY])
    assert text.startswith("As of 22 Nov 2026: ")
    assert "[2]" in text and "[1]" not in text


def test_another_story_is_never_taken_for_a_newer_version() -> None:
    unrelated = passage("award", "Porthaven awards", (
        "Seven people have won awards in Porthaven this year, the council said."), day(24))
    text = answer_text("How many people died in Storm Orla?", [TOLL_OLD, unrelated])
    assert text.startswith("Three people — ")


# -- timelines ------------------------------------------------------------------------------


def test_timeline_questions_are_recognised() -> None:
    assert timeline_topic("Timeline of the ferry strike") == "the ferry strike"
    assert timeline_topic("Give me a timeline of Storm Orla?") == "Storm Orla"
    assert timeline_topic("How did the ferry strike unfold?") == "the ferry strike"
    assert timeline_topic("What happened with the ferry strike?") is None


def test_timeline_lists_dated_developments_in_order_one_per_story_copy() -> None:
    copy = passage("orla-2-copy", "Storm Orla toll reaches five", TOLL_NEW.text, day(22),
                   group="orla-2")
    copy_first = Passage(**{**TOLL_NEW.__dict__, "group": "orla-2"})
    undated = Passage(**{**TOLL_OLD.__dict__, "article_id": "orla-0", "chunk_id": "orla-0#0",
                         "published": None})
    steps = developments("Storm Orla", [copy_first, BAKERY, TOLL_OLD, copy, undated], Terms())
    assert [s.passage.article_id for s in steps] == ["orla-1", "orla-2"]
    assert [s.n for s in steps] == [3, 1]
    text = compose_timeline(steps)
    assert text.splitlines()[0].startswith("20 Nov 2026 — Three people have died")
    assert text.splitlines()[1].endswith("[1]")


def test_a_timeline_leaves_out_articles_that_only_recall_the_story() -> None:
    # The next storm's report recalls Orla in its background paragraph (a second chunk) and
    # its lead; neither its headline nor its lead is about Orla (Dorian's timeline listed
    # Humberto's report this way).
    recalled = Passage(chunk_id="piet-1#1", article_id="piet-1", title="Storm Piet nears coast",
                       text=("Storm Orla killed five people on the west coast in November, "
                             "when winds reached 90mph."), score=0.7, published=day(28))
    follow_up = passage("orla-3", "Coastal railway reopens", (
        "The coastal railway closed by Storm Orla reopened on Monday after repairs."), day(25))
    steps = developments("Storm Orla", [TOLL_OLD, recalled, follow_up], Terms())
    # a follow-up whose headline drops the name still names it in its lead
    assert [s.passage.article_id for s in steps] == ["orla-1", "orla-3"]


# -- wire copies -----------------------------------------------------------------------------

STORY = ("The city council has approved a 1.2 billion euro extension of the tram network to "
         "the airport, ending two years of debate. Councillors voted 31 to 12 in favour of the "
         "plan on Tuesday evening. The new line will add seven stops and 11 kilometres of "
         "track, and is due to open in 2030.")
EDITED = STORY.replace("Tuesday evening", "Tuesday night").replace("is due to", "should")


@given(st.lists(st.sampled_from(["tram", "Tram", "the", "31", "euro", "x"]), max_size=12))
def test_shingles_are_every_run_of_words(words: list[str]) -> None:
    runs = [tuple(w.lower() for w in words[i:i + 4]) for i in range(len(words) - 3)]
    expected = ({hash(run) for run in runs} if runs
                else {hash(tuple(w.lower() for w in words))} if words else set())
    assert shingles(" ".join(words)) == expected


def test_shingle_resemblance_separates_copies_from_stories_on_one_subject() -> None:
    other = ("Opponents of the tram extension to the airport said the cost had doubled and "
             "called for a referendum on the plan before construction begins next autumn.")
    assert resemblance(shingles(STORY), shingles(EDITED)) > 0.6
    assert resemblance(shingles(STORY), shingles(other)) < 0.1


def test_copy_group_needs_resemblance_and_the_time_window() -> None:
    stored = (Lead("afp/tram", "afp/tram", STORY, day(24)), 0.97)
    assert copy_group(Lead("reuters/tram", "reuters/tram", EDITED, day(24)), [stored]) \
        == "afp/tram"
    next_year = Lead("tram-2027", "tram-2027", EDITED, day(24) + timedelta(days=365))
    assert copy_group(next_year, [stored]) is None
    # A copy of a copy joins the first copy's group; an article is never its own copy.
    second = (Lead("reuters/tram", "afp/tram", EDITED, day(24)), 0.97)
    assert copy_group(Lead("ap/tram", "ap/tram", EDITED, day(24)), [second]) == "afp/tram"
    assert copy_group(Lead("afp/tram", "afp/tram", STORY, day(24)), [second]) is None


# Invented: an AFP story, AP's rewrite of it in other words the same morning, AFP's follow-up
# the next day, and another story on the same weather the same day. The cosines are those the
# real model gives their leads (0.88, 0.86, 0.36; tests/integration/test_news.py ingests
# them end to end).
WIRE = [json.loads(line) for line in (FIXTURES / "wire" / "rewrites.jsonl").read_text()
        .splitlines()]


def wire_lead(n: int, published: datetime | str | None = "own") -> Lead:
    record = WIRE[n]
    when = parse_date(record["published_at"]) if published == "own" else published
    assert not isinstance(when, str)
    return Lead(record["url"], record["url"], record["body"], when, record["title"])


def test_a_rewrite_in_other_words_is_a_copy_by_its_names_numbers_and_embedding() -> None:
    original, rewrite = wire_lead(0), wire_lead(1)
    f = features(original, rewrite, cosine=0.88)
    assert f.shingles < 0.2  # rewritten: the shingles alone do not see it
    assert f.day_gap == 0 and f.names is not None and f.names >= 0.8
    assert f.numbers == 1.0  # 1,450, 2.5, 180, 35 — all kept
    assert is_copy(f)
    assert copy_group(rewrite, [(original, 0.88)]) == original.article_id
    # The same texts at a lower cosine, or with a number changed, are not.
    assert not is_copy(replace(f, cosine=0.7))
    assert not is_copy(replace(f, numbers=0.5))


def test_a_follow_up_the_next_day_with_new_numbers_is_not_a_copy() -> None:
    original, follow_up = wire_lead(0), wire_lead(2)
    f = features(original, follow_up, cosine=0.86)
    assert f.day_gap == 1 and f.numbers is not None and f.numbers < 0.5
    assert not is_copy(f)
    # The rewrite itself, run after midnight, still is; two days later, never.
    assert original.published is not None
    late = features(original, wire_lead(1, original.published + timedelta(days=1)), 0.88)
    assert late.day_gap == 1 and is_copy(late)
    assert not is_copy(replace(late, day_gap=2, shingles=1.0, cosine=1.0))


def test_another_story_on_the_same_subject_the_same_day_is_not_a_copy() -> None:
    # Even at a rewrite's cosine (the model gives 0.36): other names, other numbers.
    f = features(wire_lead(0), wire_lead(3), cosine=0.88)
    assert f.day_gap == 0 and (f.names or 0.0) < 0.3
    assert not is_copy(f)


def test_undated_rewrites_need_an_embedding_closer_than_dated_ones() -> None:
    f = features(wire_lead(0, None), wire_lead(1, None), cosine=0.9)
    assert f.day_gap is None and not is_copy(f)
    assert is_copy(replace(f, cosine=0.96))
    assert is_copy(replace(f, cosine=0.5, shingles=0.7))  # a copy with small edits


def test_names_and_numbers_as_compared() -> None:
    assert numbers("1.2 billion euros, 4,000 cars, voted 31 to 12, open in 2030.") == {
        "1.2", "4000", "31", "12", "2030"}
    assert names("The council met. Transport chief Hanna Berg said the US and NATO agreed.") \
        == {"transport", "hanna", "berg", "us", "nato"}


def test_ingest_marks_wire_copies_within_a_batch_and_against_the_store(tmp_path: Path) -> None:
    folder = tmp_path / "wire"
    folder.mkdir()
    (folder / "a.jsonl").write_text("\n".join(json.dumps(record) for record in [
        {"title": "Tram extension approved", "body": STORY, "source": "AFP"},
        {"title": "Council backs tram", "body": EDITED, "source": "Reuters"},
        {"title": "Bakery award", "body": BAKERY.text, "source": "Herald"},
    ]))
    store = MemoryStore()
    ingestor = Ingestor(store, HashingEmbedder(), NoNetwork(), chunking=ChunkingSettings(),
                        settings=IngestSettings())
    summary = ingestor.ingest([str(folder)])
    assert summary.wire_copies == [{"id": "a.jsonl:2", "copy_of": "a.jsonl:1"}]
    (tmp_path / "later.json").write_text(json.dumps(
        {"title": "Airport tram", "body": EDITED.replace("seven", "7"), "source": "AP"}))
    later = ingestor.ingest([str(tmp_path / "later.json")])
    assert later.wire_copies == [{"id": "later.json", "copy_of": "a.jsonl:1"}]
    groups = {meta.article_id: meta.group for _, _, meta in store.chunks.values()}
    assert groups["a.jsonl:3"] == "a.jsonl:3" and groups["later.json"] == "a.jsonl:1"
    assert [r.article_id for r in KeywordIndex(None, store).current().reprints(["a.jsonl:1"])[
        "a.jsonl:1"]] == ["a.jsonl:1", "a.jsonl:2", "later.json"]


def test_a_wire_story_whose_first_copy_is_pruned_is_known_by_its_earliest_remaining_copy(
        tmp_path: Path) -> None:
    folder = tmp_path / "wire"
    folder.mkdir()
    for name, record in {
        "afp": {"title": "Tram extension approved", "body": STORY, "source": "AFP",
                "published_at": "2026-11-24T19:05:00Z"},
        "ap": {"title": "Airport tram", "body": STORY.replace("seven", "7"), "source": "AP",
               "published_at": "2026-11-24T20:30:00Z"},
        "reuters": {"title": "Council backs tram", "body": EDITED, "source": "Reuters",
                    "published_at": "2026-11-24T19:40:00Z"},
        "bakery": {"title": "Bakery award", "body": BAKERY.text, "source": "Herald"},
    }.items():
        (folder / f"{name}.json").write_text(json.dumps(record))
    store = MemoryStore()
    ingestor = Ingestor(store, HashingEmbedder(), NoNetwork(), chunking=ChunkingSettings(),
                        settings=IngestSettings())
    assert len(ingestor.ingest([str(folder)]).wire_copies) == 2
    (folder / "afp.json").unlink()
    assert ingestor.ingest([str(folder)], prune=True).removed == 1  # the AFP original

    # Reuters ran before AP: it names the story now; no article is grouped with the AFP one.
    copy_of = {meta.article_id: meta.copy_of for _, _, meta in store.chunks.values()}
    reuters, ap = "reuters.json", "ap.json"
    assert copy_of == {reuters: None, ap: reuters, "bakery.json": None}
    later = tmp_path / "later.json"
    later.write_text(json.dumps({"title": "Tram to the airport", "source": "DPA",
                                 "body": EDITED.replace("approved", "backed")}))
    assert ingestor.ingest([str(later)]).wire_copies == [{"id": "later.json",
                                                          "copy_of": reuters}]
    reprints = KeywordIndex(None, store).current().reprints([reuters])[reuters]
    assert [r.source for r in reprints] == ["Reuters", "AP", "DPA"]


def test_a_story_is_named_after_its_earliest_copy_whatever_order_copies_are_read_in(
        tmp_path: Path) -> None:
    folder = tmp_path / "wire"
    folder.mkdir()
    # Read in name order: the later reprint first, the wire's own original second.
    (folder / "a-reprint.json").write_text(json.dumps(
        {"title": "Council backs tram", "body": EDITED, "source": "Herald",
         "published_at": "2026-11-24T10:30:00Z"}))
    (folder / "b-wire.json").write_text(json.dumps(
        {"title": "Tram extension approved", "body": STORY, "source": "Wire",
         "published_at": "2026-11-24T08:00:00Z"}))
    store = MemoryStore()
    ingestor = Ingestor(store, HashingEmbedder(), NoNetwork(), chunking=ChunkingSettings(),
                        settings=IngestSettings())
    first = ingestor.ingest([str(folder)])
    assert first.wire_copies == [{"id": "a-reprint.json", "copy_of": "b-wire.json"}]

    # A copy published earlier still, arriving later: the story is renamed after it.
    (tmp_path / "early.json").write_text(json.dumps(
        {"title": "Airport tram approved", "body": STORY.replace("seven", "7"),
         "source": "Agency", "published_at": "2026-11-24T07:00:00Z"}))
    later = ingestor.ingest([str(tmp_path / "early.json")])
    assert later.wire_copies == [{"id": "b-wire.json", "copy_of": "early.json"}]
    copy_of = {meta.article_id: meta.copy_of for _, _, meta in store.chunks.values()}
    assert copy_of == {"early.json": None, "b-wire.json": "early.json",
                       "a-reprint.json": "early.json"}
    assert ingestor.regroup() == 0  # ingest and regroup name stories alike


# -- display ---------------------------------------------------------------------------------


def test_sources_show_dates_revisions_and_where_else_a_story_ran() -> None:
    shown = Passage(chunk_id="afp#0", article_id="afp", title="Tram approved", text="x",
                    score=1.0, source="AFP", published=day(24), updated=day(25),
                    reprints=(Reprint("reuters", "Reuters", "Anna Schmidt"),
                              Reprint("ap", None, None, "https://ap.example/t")))
    assert shown.details == ["AFP", "24 Nov 2026", "updated 25 Nov 2026"]
    assert shown.also_ran == "also ran in: Reuters (Anna Schmidt), https://ap.example/t"
    assert describe(shown).endswith("_also ran in: Reuters (Anna Schmidt), "
                                    "https://ap.example/t_")
    assert shown.as_dict()["also_ran_in"][0] == {"article_id": "reuters", "source": "Reuters",
                                                 "author": "Anna Schmidt", "url": None}
    many = Passage(**{**shown.__dict__, "reprints": tuple(
        Reprint(f"r{n}", f"Paper {n}") for n in range(8))})
    assert many.also_ran == ("also ran in: Paper 0, Paper 1, Paper 2, Paper 3, Paper 4 "
                             "and 3 more")


def test_slack_shows_the_window_and_an_empty_window_names_the_closest_outside() -> None:
    window = TimeWindow(datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 7, 31, tzinfo=UTC),
                        "July")
    empty = Answer(question="q", answer="No articles…", abstained=True, citations=(),
                   passages=(TOLL_NEW,), window=window)
    blocks, _ = answer_blocks(empty)
    assert blocks[0]["elements"][0]["text"] == "_Articles from July 2026_"
    body = blocks[1]["text"]["text"]
    assert body.startswith("No articles from that window answer this.")
    assert "Closest articles outside it" in body and "22 Nov 2026" in body
    cited = Answer(question="q", answer="Five [1]", abstained=False,
                   citations=(Citation(1, TOLL_NEW),), passages=(TOLL_NEW,),
                   window=TimeWindow(day(19), day(25)))
    assert answer_blocks(cited)[0][0]["elements"][0]["text"] == "_Articles from 19–25 Nov 2026_"


def test_chunk_metadata_round_trips_revision_dates_and_copy_groups() -> None:
    meta = ChunkMeta(article_id="b", chunk_index=0, chunk_count=1, content_hash="h",
                     text_hash="t", title="T", published=day(22), updated=day(23),
                     copy_of="a")
    back = meta_from_chroma("b#0", chroma_metadata(meta))
    assert (back.updated, back.copy_of, back.group) == (day(23), "a", "a")
    assert meta_from_chroma("c#0", {"article_id": "c"}).group == "c"


def test_desks_are_read_from_the_settings_file(tmp_path: Path) -> None:
    config = tmp_path / "newsdesk.toml"
    config.write_text('[[slack.desks]]\nchannel = "C1"\nsources = ["AFP", "~/news"]\n'
                      'reply = "questions"\n[[slack.desks]]\nchannel = "C2"\n')
    settings = load_settings(config_file=str(config))
    first, second = settings.slack.desks
    assert (first.channel, first.sources, first.reply) == ("C1", ["AFP", "~/news"],
                                                           "questions")
    assert (second.sources, second.reply) == ([], "mention")
    assert SlackSettings().desks == []


def test_search_shows_one_copy_of_a_wire_story_and_keeps_an_articles_own_chunks(
        tmp_path: Path) -> None:
    folder = tmp_path / "wire"
    folder.mkdir()
    long_story = " ".join([STORY, "Opponents said the cost had doubled since the plan was first "
                                  "proposed and called for a referendum on the tram."] * 2)
    (folder / "a.jsonl").write_text("\n".join(json.dumps(record) for record in [
        {"title": "Tram extension approved", "body": long_story, "source": "AFP"},
        {"title": "Council backs tram", "body": long_story.replace("evening", "night"),
         "source": "Reuters", "author": "Anna Schmidt"},
        {"title": "Bakery award", "body": BAKERY.text, "source": "Herald"},
    ]))
    store, embedder = MemoryStore(), HashingEmbedder()
    Ingestor(store, embedder, NoNetwork(), chunking=ChunkingSettings(max_tokens=60),
             settings=IngestSettings()).ingest([str(folder)])
    keywords = KeywordIndex(None, store)
    for cap in (1, 2):
        config = hybrid_config(RetrievalSettings(per_article_cap=cap))
        passages = HybridSearcher(store, embedder, keywords, config).search(
            "tram extension referendum", 4)
        tram = [p for p in passages if p.article_id != "a.jsonl:3"]
        assert len({p.article_id for p in tram}) == 1  # one copy of the story
        assert len(tram) == cap  # but as many of its own chunks as the cap allows
        other = "a.jsonl:2" if tram[0].article_id == "a.jsonl:1" else "a.jsonl:1"
        assert [r.article_id for r in tram[0].reprints] == [other]


def test_regroup_finds_the_copies_of_a_store_made_before_they_were_grouped(
        tmp_path: Path) -> None:
    folder = tmp_path / "wire"
    folder.mkdir()
    (folder / "a.jsonl").write_text("\n".join(json.dumps(record) for record in [
        {"title": "Council backs tram", "body": EDITED, "source": "Reuters",
         "published_at": "2026-11-24T19:40:00Z"},
        {"title": "Tram extension approved", "body": STORY, "source": "AFP",
         "published_at": "2026-11-24T19:05:00Z"},
        {"title": "Bakery award", "body": BAKERY.text, "source": "Herald"},
    ]))
    store = MemoryStore()
    ingestor = Ingestor(store, HashingEmbedder(), NoNetwork(), chunking=ChunkingSettings(),
                        settings=IngestSettings())
    ingestor.ingest([str(folder)])
    # As an older version stored them: no groups. The earlier AFP copy becomes the original.
    store.set_copy_of({article: None for article in ("a.jsonl:1", "a.jsonl:2", "a.jsonl:3")})
    assert ingestor.regroup() == 1
    groups = {meta.article_id: meta.copy_of for _, _, meta in store.chunks.values()}
    assert groups == {"a.jsonl:1": "a.jsonl:2", "a.jsonl:2": None, "a.jsonl:3": None}
    assert ingestor.regroup() == 0  # nothing left to change


def test_the_latest_on_a_story_is_the_newest_articles_lead() -> None:
    newest = passage("ferry-3", "Ferry strike ends after pay deal", (
        "The ferry strike is over after crews accepted a pay rise of 4.5%. "
        "Union secretary Tom Reilly said the ferry strike had shown what crews are worth. "
        "Full ferry services resume on Wednesday."), day(24))
    older = passage("ferry-2", "Ferry strike: talks resume", (
        "Talks to end the ferry strike resumed on Thursday as cancelled crossings rose."),
        day(19), score=0.9)
    text = answer_text("What's the latest on the ferry strike?", [older, newest])
    assert text == ("As of 24 Nov 2026: The ferry strike is over after crews accepted a pay "
                    "rise of 4.5%. [2]")


def test_the_next_storm_that_mentions_this_one_is_no_latest_version_of_it() -> None:
    landfall = passage("kora-1", "Hurricane Kora makes landfall in the Tern Islands", (
        "Hurricane Kora made landfall in the Tern Islands on Sunday with winds of 180 mph. "
        "Hurricane Kora flattened homes across the islands, officials said."), day(19))
    aftermath = passage("kora-2", "Hurricane Kora leaves trail of destruction", (
        "Hurricane Kora finally cleared the Tern Islands, leaving homes flattened and five "
        "people dead."), day(21), score=0.9)
    next_storm = passage("lumen-1", "Tropical Storm Lumen upgraded to hurricane status", (
        "Tropical Storm Lumen became a hurricane on Monday, the season's third. Lumen is "
        "expected to pass the Tern Islands, still recovering from Hurricane Kora."), day(24),
        score=0.8)
    text = answer_text("What's the latest on Hurricane Kora?", [landfall, aftermath, next_storm])
    assert text.startswith("As of 21 Nov 2026: Hurricane Kora finally cleared")


def test_a_bad_as_of_date_is_a_usage_error_before_anything_loads(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "ask", "--as-of", "soon",
                                      "What happened last week?"])
    assert result.exit_code == 2
    assert "not a date: 'soon'" in result.output
    assert not (tmp_path / "chroma").exists()  # no store was opened

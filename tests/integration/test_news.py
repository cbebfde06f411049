"""News-aware answers end to end on the dated fixture corpus (tests/fixtures/newsroom), read
as of 25 Nov 2026: real model, real Chroma, the CLI as a user runs it."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli.commands import cli
from bot.factory import Components
from config import load_settings
from ingest.embed.embedder import Embedder
from ingest.sources.parse import parse_date
from retrieval.answer.evaluation import NewsQuestion, answered_inside_window, news_check
from tests.helpers import FIXTURES, ingested_copy

pytestmark = pytest.mark.slow

NEWSROOM = FIXTURES / "newsroom"
AS_OF = "2026-11-25"
AFP = "https://wire.example/afp/tram-extension"
REUTERS = "https://wire.example/reuters/council-tram"


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Components:
    return ingested_copy(NEWSROOM, tmp_path_factory.mktemp("news"), embedder)


def test_the_fixture_corpus_ingests_whole(newsroom: Components) -> None:
    assert newsroom.store.stats()["articles"] == 13


def run(components: Components, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--data-dir", str(components.settings.data_dir), *args])
    assert result.exit_code == 0, result.output
    return result


def ask_json(components: Components, question: str, *options: str) -> dict[str, Any]:
    return json.loads(run(components, "ask", "--json", "--as-of", AS_OF, *options,
                          question).stdout)


def test_every_format_carries_its_dates(newsroom: Components) -> None:
    stats = json.loads(run(newsroom, "stats", "--json").stdout)
    assert stats["dated_articles"] == stats["articles"] == 13
    assert "dated      13 of 13 articles" in run(newsroom, "stats").stdout
    metas = {c.meta.article_id: c.meta for c in newsroom.store.iter_chunks(include_text=False)}
    dates = {article: (meta.published.isoformat() if meta.published else None,
                       meta.updated.isoformat() if meta.updated else None)
             for article, meta in metas.items()}
    # The seed's date line; JSON published_at / updated_at; RSS pubDate / atom:updated;
    # HTML article:published_time (with its time) and JSON-LD dateModified.
    assert dates["ferry-strike-ends.txt"] == ("2026-11-24T00:00:00+00:00", None)
    assert dates["https://coastherald.example/storm-orla-toll-five"] == (
        "2026-11-22T10:00:00+00:00", "2026-11-22T16:45:00+00:00")
    assert dates["https://harbour.example/lighthouse"] == (
        "2026-11-16T09:00:00+00:00", "2026-11-17T12:00:00+00:00")
    assert dates["museum.html"] == ("2026-11-12T07:15:00+00:00", "2026-11-13T11:00:00+00:00")


@pytest.mark.parametrize("kind", ["window", "latest"])
def test_the_fixture_question_set_scores_in_full(newsroom: Components, kind: str) -> None:
    """Every time-bounded question is answered only from articles inside its window, and
    every "latest" question cites the newest relevant article first (bench/news.py reports
    the same figures)."""
    lines = (FIXTURES / "newsroom-questions.jsonl").read_text().splitlines()
    questions = [NewsQuestion.model_validate_json(line) for line in lines if line.strip()]
    chosen = [q for q in questions if q.kind == kind]
    assert len(chosen) >= 5
    engine = newsroom.build_engine()
    as_of = parse_date(AS_OF)
    failed = [(q.question, a.answer) for q in chosen
              if not news_check(q, a := engine.ask(q.question, as_of=as_of))]
    assert failed == []


def test_the_answer_names_its_window_and_cites_only_inside_it(newsroom: Components) -> None:
    result = run(newsroom, "ask", "--as-of", AS_OF,
                 "What happened with the ferry strike last week?")
    # last week: Monday to Sunday before the week of 25 Nov (a Wednesday)
    assert result.stdout.startswith("Articles from 16–22 Nov 2026:\n")
    data = ask_json(newsroom, "What happened with the ferry strike last week?")
    assert data["window"]["label"] == "Articles from 16–22 Nov 2026"
    assert data["window"]["phrase"] == "last week"
    assert all("2026-11-16" <= c["published"][:10] <= "2026-11-22" for c in data["citations"])
    assert all("2026-11-16" <= p["published"][:10] <= "2026-11-22" for p in data["passages"])
    # The same words read as of another day give another window.
    earlier = ask_json(newsroom, "What happened with the ferry strike last week?",
                       "--as-of", "2026-11-16")
    assert earlier["window"]["label"] == "Articles from 9–15 Nov 2026"
    assert {c["article_id"] for c in earlier["citations"]} <= {
        "ferry-strike-called.txt", "ferry-strike-begins.txt"}


def test_explicit_since_and_until_win_over_the_question_words(newsroom: Components) -> None:
    data = ask_json(newsroom, "What happened with the ferry strike last week?",
                    "--since", "2026-11-01", "--until", "2026-11-12")
    assert data["window"]["label"] == "Articles from 1–12 Nov 2026"
    assert data["window"]["phrase"] is None
    assert [c["article_id"] for c in data["citations"]] == ["ferry-strike-called.txt"]


def test_an_empty_window_says_so_with_the_closest_articles_outside_it(
        newsroom: Components) -> None:
    data = ask_json(newsroom, "What happened with the ferry strike in July?")
    assert data["abstained"] and data["citations"] == []
    assert data["window"]["label"] == "Articles from July 2026"
    assert data["answer"].startswith("No articles from July 2026. The closest articles outside")
    assert "Ferry strike" in data["answer"] and "Nov 2026" in data["answer"]
    assert {p["article_id"] for p in data["passages"][:2]} <= {
        "ferry-strike-talks.txt", "ferry-strike-ends.txt", "ferry-strike-begins.txt",
        "ferry-strike-called.txt"}


def test_an_empty_window_asked_about_nothing_names_the_articles_closest_in_time(
        newsroom: Components) -> None:
    data = ask_json(newsroom, "What happened in July?")
    assert data["abstained"] and data["window"]["label"] == "Articles from July 2026"
    listed = data["answer"].split("The closest articles outside it: ")[1]
    days = [datetime.strptime(day, "%d %b %Y").date()
            for day in re.findall(r"(\d{1,2} \w{3} \d{4})\)", listed)]
    # July lies before every article: the earliest are the closest, earliest first
    published = sorted(c.meta.published.date() for c in newsroom.store.iter_chunks(
        include_text=False) if c.meta.published is not None)
    assert len(days) == 3 and days == sorted(days), listed
    assert days[-1] <= published[len(days) + 2], (listed, published)


def test_the_latest_version_wins_and_says_as_of_when(newsroom: Components) -> None:
    revised = ask_json(newsroom, "How many people died in Storm Orla?")
    # The value leads only when the lead model is confident of it; the date always shows.
    lead = "Five people, as of 22 Nov 2026 — " if revised["answer_span"]["shown"] else (
        "As of 22 Nov 2026: Five people")
    assert revised["answer"].startswith(lead)
    assert revised["answer_span"]["text"] == "Five people"
    assert "Three" not in revised["answer"]
    assert revised["citations"][0]["article_id"].endswith("storm-orla-toll-five")
    changed = ask_json(newsroom, "How has the number of cancelled ferry crossings changed?")
    assert changed["answer"].startswith("As of 24 Nov 2026:")
    assert changed["answer"].index("180") < changed["answer"].index("112")
    latest = run(newsroom, "ask", "--as-of", AS_OF, "What is the latest on the ferry strike?")
    assert latest.stdout.startswith("As of 24 Nov 2026: The harbour ferry strike is over")
    assert "(newsroom, 24 Nov 2026)" in latest.stdout


def test_wire_copies_are_grouped_at_ingest_and_shown_once(newsroom: Components) -> None:
    metas = {c.meta.article_id: c.meta for c in newsroom.store.iter_chunks(include_text=False)}
    assert metas[REUTERS].copy_of == AFP and metas[AFP].copy_of is None
    assert [m.article_id for m in metas.values() if m.copy_of] == [REUTERS]
    passages = json.loads(run(newsroom, "search", "--json", "-k", "5",
                              "tram extension to the airport").stdout)
    ids = [p["article_id"] for p in passages]
    assert (AFP in ids) != (REUTERS in ids)  # one copy of the story, never both
    shown = next(p for p in passages if p["article_id"] in (AFP, REUTERS))
    other = REUTERS if shown["article_id"] == AFP else AFP
    assert [r["article_id"] for r in shown["also_ran_in"]] == [other]
    text = run(newsroom, "ask", "How much will the tram extension cost?").stdout
    assert "also ran in: " in text and ("Reuters (Anna Schmidt)" in text
                                        or "AFP (Jean Dupont)" in text)


def test_wire_copy_detection_in_both_store_modes(store_mode: str, data_dir: Path,
                                                 tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "wire"
    corpus.mkdir()
    shutil.copy(NEWSROOM / "wire.jsonl", corpus)
    components = Components(load_settings(), embedder=embedder)
    ingestor = components.build_ingestor()
    first = ingestor.ingest([str(corpus)])
    assert first.wire_copies == [{"id": REUTERS, "copy_of": AFP}]
    # A third outlet's copy arriving later is grouped against the stored story.
    lines = (NEWSROOM / "wire.jsonl").read_text().splitlines()
    record = json.loads(lines[1])
    record.update(source="AP", author="Li Wei", url="https://wire.example/ap/tram",
                  body=record["body"].replace("Tuesday night", "late on Tuesday"))
    (tmp_path / "ap.json").write_text(json.dumps(record))
    later = ingestor.ingest([str(tmp_path / "ap.json")])
    assert later.wire_copies == [{"id": "https://wire.example/ap/tram", "copy_of": AFP}]
    again = ingestor.ingest([str(corpus)])
    assert again.unchanged == 3 and again.wire_copies == []
    passages = components.build_engine().search("tram extension airport", k=3)
    tram = [p for p in passages if "tram" in p.article_id]
    assert len(tram) == 1 and len(tram[0].reprints) == 2
    # A store made before copies were grouped: `regroup` finds them, re-embedding nothing.
    components.store.set_copy_of({REUTERS: None, "https://wire.example/ap/tram": None})
    regrouped = CliRunner().invoke(cli, ["regroup", "--json"])
    assert regrouped.exit_code == 0, regrouped.output
    assert json.loads(regrouped.stdout) == {"regrouped": 2}
    metas = {c.meta.article_id: c.meta for c in components.store.iter_chunks(False)}
    assert metas[REUTERS].copy_of == AFP == metas["https://wire.example/ap/tram"].copy_of
    assert ingestor.ingest([str(corpus)]).unchanged == 3  # and nothing is re-embedded after
    # An update that drops a field (the byline) drops it from the store too.
    del record["author"]
    (tmp_path / "ap.json").write_text(json.dumps(record))
    assert ingestor.ingest([str(tmp_path / "ap.json")]).updated == 1
    metas = {c.meta.article_id: c.meta for c in components.store.iter_chunks(False)}
    assert metas["https://wire.example/ap/tram"].author is None
    assert metas["https://wire.example/ap/tram"].copy_of == AFP
    # The story's first copy pruned: the earliest remaining copy (AP and Reuters ran at the
    # same minute: the smaller id) names it from then on, in the store and in search.
    (corpus / "wire.jsonl").write_text("\n".join(line for line in lines if AFP not in line))
    assert ingestor.ingest([str(corpus)], prune=True).removed == 1
    metas = {c.meta.article_id: c.meta for c in components.store.iter_chunks(False)}
    ap = "https://wire.example/ap/tram"
    assert (metas[ap].copy_of, metas[REUTERS].copy_of) == (None, ap)
    tram = [p for p in components.build_engine().search("tram extension airport", k=3)
            if "tram" in p.article_id]
    assert len(tram) == 1
    assert {tram[0].article_id, *(r.article_id for r in tram[0].reprints)} == {ap, REUTERS}


def test_wire_copies_are_found_through_the_leads_collection_which_follows_the_store(
        store_mode: str, data_dir: Path, tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "wire"
    corpus.mkdir()
    shutil.copy(NEWSROOM / "wire.jsonl", corpus)
    components = Components(load_settings(), embedder=embedder)
    store = components.store

    def leads() -> set[str]:  # the raw collection: what the leads invariant is about
        return set(store._client.get_collection(f"{store.name}-leads").get(include=[])["ids"])

    def first_chunks() -> set[str]:
        return {c.id for c in store.iter_chunks(False) if c.meta.chunk_index == 0}

    assert components.build_ingestor().ingest([str(corpus)]).added == 3
    # A new store keeps its leads from its first write: nothing to fill in later.
    assert leads() == first_chunks() and len(leads()) == 3
    assert store._client.get_collection(f"{store.name}-leads").metadata["filled"] == 1
    # A store made before the leads collection: its first chunks are filled in by the
    # first ingest that looks for wire copies, which then finds the stored story.
    store._client.delete_collection(f"{store.name}-leads")
    store.reopen()
    assert leads() == set()
    lines = (NEWSROOM / "wire.jsonl").read_text().splitlines()
    record = json.loads(lines[1])
    record.update(source="AP", url="https://wire.example/ap/tram",
                  body=record["body"].replace("Tuesday night", "late on Tuesday"))
    ap = tmp_path / "ap"
    ap.mkdir()
    (ap / "ap.json").write_text(json.dumps(record))
    later = Components(load_settings(), embedder=embedder).build_ingestor()
    assert later.ingest([str(ap)]).wire_copies == [
        {"id": "https://wire.example/ap/tram", "copy_of": AFP}]
    assert leads() == first_chunks() and len(leads()) == 4
    # An update replaces the article's lead; a pruned article takes its lead with it.
    record["body"] = "Tram news in brief. " + record["body"]
    (ap / "ap.json").write_text(json.dumps(record))
    assert later.ingest([str(ap)]).updated == 1
    assert leads() == first_chunks() and len(leads()) == 4
    (ap / "ap.json").unlink()
    (ap / "ferry.txt").write_text("Ferry timetable changes\n\nThe winter ferry timetable "
                                  "starts on Monday with two fewer sailings a day.\n")
    pruned = later.ingest([str(ap)], prune=True, force=True)
    assert (pruned.removed, pruned.added) == (1, 1)
    assert leads() == first_chunks() and len(leads()) == 4
    # A lead whose chunk is gone (a writer killed between the two deletes) is skipped.
    store.reopen()  # as a new writer sees the store: its leads are filled
    reuters = next(c.id for c in store.iter_chunks(False)
                   if c.meta.article_id == REUTERS and c.meta.chunk_index == 0)
    store._collection.delete(ids=[reuters])
    vector = embedder.embed([json.loads(lines[1])["body"]])
    found = store.nearest_leads(vector, 5)[0]
    assert reuters in leads() and reuters not in {chunk.id for chunk, _ in found}
    assert found and all(chunk.meta.chunk_index == 0 for chunk, _ in found)
    # `regroup` reads every first chunk anyway: it makes the leads exactly the store's again.
    regrouped = CliRunner().invoke(cli, ["regroup", "--json"])
    assert regrouped.exit_code == 0, regrouped.output
    assert leads() == first_chunks() and reuters not in leads()


DAM_AFP = "https://wire.example/afp/dam-breach"
DAM_AP = "https://wire.example/ap/portugal-floods"
DAM_NEXT_DAY = "https://wire.example/afp/dam-breach-toll"


def test_a_rewrite_in_other_words_is_grouped_and_the_next_days_story_is_not(
        data_dir: Path, embedder: Embedder) -> None:
    # AP's rewrite of an AFP story the same morning: other words, the same names and numbers.
    components = Components(load_settings(), embedder=embedder)
    summary = components.build_ingestor().ingest([str(FIXTURES / "wire")])
    assert summary.added == 4
    assert summary.wire_copies == [{"id": DAM_AP, "copy_of": DAM_AFP}]
    passages = json.loads(run(components, "search", "--json", "-k", "5",
                              "dam breach on the Tamega floods villages").stdout)
    ids = [p["article_id"] for p in passages]
    assert (DAM_AFP in ids) != (DAM_AP in ids)  # one copy of the story in the top five
    assert DAM_NEXT_DAY in ids  # the next day's development stays apart
    shown = next(p for p in passages if p["article_id"] in (DAM_AFP, DAM_AP))
    other = DAM_AP if shown["article_id"] == DAM_AFP else DAM_AFP
    assert [r["article_id"] for r in shown["also_ran_in"]] == [other]
    text = run(components, "search", "-k", "5", "dam breach on the Tamega").stdout
    assert text.count("also ran in: ") == 1
    assert "also ran in: AP (Joao Pereira)" in text or "also ran in: AFP (Marie Laurent)" in text


def test_timeline_lists_the_story_in_order_in_the_cli_and_in_chat(newsroom: Components) -> None:
    data = json.loads(run(newsroom, "timeline", "--json", "the ferry strike").stdout)
    assert [c["article_id"] for c in data["citations"]] == [
        "ferry-strike-called.txt", "ferry-strike-begins.txt", "ferry-strike-talks.txt",
        "ferry-strike-ends.txt"]
    lines = data["answer"].splitlines()
    assert [line.split(" — ")[0] for line in lines] == [
        "10 Nov 2026", "14 Nov 2026", "19 Nov 2026", "24 Nov 2026"]
    assert all(line.endswith(f"[{n}]") for n, line in enumerate(lines, start=1))
    within = json.loads(run(newsroom, "timeline", "--json", "--since", "2026-11-15",
                            "the ferry strike").stdout)
    assert [c["article_id"] for c in within["citations"]] == [
        "ferry-strike-talks.txt", "ferry-strike-ends.txt"]
    chat = CliRunner().invoke(cli, ["--data-dir", str(newsroom.settings.data_dir), "chat"],
                              input="How did the ferry strike unfold?\n")
    assert chat.exit_code == 0, chat.output
    assert chat.stdout.index("10 Nov 2026 — ") < chat.stdout.index("24 Nov 2026 — ")
    # Wire copies are collapsed: the tram story is one development, not two.
    tram = json.loads(run(newsroom, "timeline", "--json", "the airport tram extension").stdout)
    assert len([c for c in tram["citations"] if "tram" in c["article_id"]]) == 1


def test_a_story_with_no_dated_articles_in_reach_gets_no_timeline(newsroom: Components) -> None:
    data = json.loads(run(newsroom, "timeline", "--json", "--until", "2020-01-01",
                          "the ferry strike").stdout)
    assert data["abstained"] and data["citations"] == []
    assert data["answer"].startswith("The articles give no dated developments for")


def test_answers_inside_a_window_are_recognised(newsroom: Components) -> None:
    engine = newsroom.build_engine()
    inside = engine.ask("What happened with the tram extension yesterday?",
                        as_of=parse_date(AS_OF))
    assert answered_inside_window(inside)
    outside = engine.ask("What happened with the tram extension?")
    assert not answered_inside_window(outside)  # no window at all

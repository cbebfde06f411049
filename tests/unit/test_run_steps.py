"""The ingest run's pure steps on their own: which version wins, what a prune deletes, how
outcomes are counted, wire stories' names, and the one union-find."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from ingest.model.records import ChunkMeta, Failure, StoredArticle
from ingest.run.arbitration import Verdict, Version, decide
from ingest.run.outcomes import (
    Failed,
    NotModified,
    Renamed,
    Stored,
    Unchanged,
    WireCopies,
    Withdrawn,
    reported_sources,
    summarize,
)
from ingest.run.prune import plan, productive
from ingest.run.wire_copies import first_copy_renames, orphan_renames, renamed_groups
from ingest.sources.discover import source_origin
from ingest.text.groups import DisjointSets


def day(n: int) -> datetime:
    return datetime(2024, 5, n, tzinfo=UTC)


def test_a_later_updated_date_wins_then_the_later_file() -> None:
    kept = Version("a.json", "k1", day(1), None, 100)
    assert decide(Version("b.json", "k2", day(1), day(2), 50), kept) is Verdict.REPLACES
    assert decide(Version("b.json", "k2", day(1), None, 50), kept) is Verdict.OLDER
    assert decide(Version("b.json", "k2", day(1), None, 200), kept) is Verdict.REPLACES


def test_two_versions_nothing_tells_apart_are_undecided_unless_one_is_stored() -> None:
    read = Version("b.json", "k2", None, None, None)
    assert decide(read, Version("a.json", "k1", None, None, None)) is Verdict.UNDECIDED
    stored = Version("a.json", "k1", None, None, None, stored=True)
    assert decide(read, stored) is Verdict.REPLACES  # a file edited in place


def test_a_withdrawn_version_is_uncounted_once_however_often_it_gives_way() -> None:
    summary = summarize([Stored("a", "added", 2), Withdrawn("a"), Withdrawn("a"),
                         Stored("a", "added", 3), Unchanged("b")])
    assert (summary.added, summary.updated, summary.unchanged) == (1, 0, 1)
    assert summary.chunks == 5 and summary.changed == {"a": "added"}


def test_renamed_stories_rewrite_the_wire_copies_reported() -> None:
    summary = summarize([WireCopies({"b": "a", "c": "a"}), Renamed({"a": "c"})])
    assert summary.wire_copies == [{"id": "b", "copy_of": "c"}, {"id": "a", "copy_of": "c"}]


def test_sources_that_said_why_are_not_reported_empty() -> None:
    said = reported_sources([Failed(Failure("x.json", "bad")), NotModified("https://n/")])
    assert said == {"x.json", "https://n/"}
    produced = Counter({source_origin("y"): 2})
    origins, empty = productive(["x.json", "y", "https://n/", "z"], produced, said)
    assert origins == [source_origin("y")]
    assert empty == [Failure("z", "no articles found in z")]


def test_a_prune_over_the_share_is_refused_unless_forced() -> None:
    stored = {f"d/{n}": StoredArticle(f"d/{n}", origin="d", path=f"d/{n}") for n in range(4)}
    kwargs = {"seen": {"d/0"}, "protected_origins": set(), "protected_paths": set(),
              "holds": lambda article_id: True, "max_share": 0.5}
    refused = plan(stored, ["d"], force=False, **kwargs)  # type: ignore[arg-type]
    assert refused.gone == () and len(refused.refused) == 1
    forced = plan(stored, ["d"], force=True, **kwargs)  # type: ignore[arg-type]
    assert forced.gone == ("d/1", "d/2", "d/3") and forced.refused == ()


def meta(article_id: str, published: datetime | None, copy_of: str | None = None) -> ChunkMeta:
    return ChunkMeta(article_id, 0, 1, "h", "t", "title", published=published,
                     copy_of=copy_of)


def test_a_story_is_named_after_its_earliest_copy() -> None:
    renames = first_copy_renames({"early": "late"}, {"early": meta("early", day(1))},
                                 {"late": meta("late", day(3))})
    assert renames == {"late": "early"}
    marked = [meta("other", day(4), copy_of="late")]
    assert renamed_groups(renames, marked) == {"other": "early", "late": "early",
                                               "early": None}
    assert orphan_renames([meta("x", day(5), "gone"), meta("y", day(2), "gone")]) == {
        "gone": "y"}


def test_a_group_is_known_by_its_smallest_member() -> None:
    groups = DisjointSets(5)
    groups.join(4, 2)
    groups.join(2, 3)
    assert [groups.root(n) for n in range(5)] == [0, 1, 2, 2, 2]

"""The change log's reading rule (ingest.store.change_log) against simulated concurrent writers:
entries that land out of order, writers whose clocks differ, slow writes and dead writers."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.store.change_log import Cursor, EntryHead, Timing, advance

TIMING = Timing(window=10.0, abandon_after=40.0)
SKEW = 2.0  # max |clock error| of any process; window >= 2 * SKEW + LANDING
LANDING = 5.0  # max time from stamping an entry to its being visible


@dataclass(frozen=True)
class Write:
    """One write, in true time: stamped (by a clock `skew` off), visible `landing` later, its
    chunks written `duration` after that, marked done right after unless the writer died."""

    start: float
    skew: float
    landing: float
    duration: float
    dies: bool

    @property
    def ts(self) -> float:
        return self.start + self.skew

    @property
    def visible(self) -> float:
        return self.start + self.landing

    @property
    def written(self) -> float:
        return self.visible + self.duration


writes_strategy = st.lists(
    st.builds(Write,
              start=st.floats(0, 200),
              skew=st.floats(-SKEW, SKEW),
              landing=st.floats(0, LANDING),
              # A live writer's write can take long (it stays pending); a dead writer's last
              # write lands well within abandon_after (less the clocks' difference).
              duration=st.floats(0, 60),
              dies=st.booleans()),
    max_size=25)


@given(writes=writes_strategy, reads=st.lists(st.floats(0, 300), max_size=40),
       reader_skew=st.floats(-SKEW, SKEW))
@settings(max_examples=300, deadline=None)
def test_every_write_is_applied_after_its_chunks_are_written(
        writes: list[Write], reads: list[float], reader_skew: float) -> None:
    writes = [w if not w.dies else Write(w.start, w.skew, w.landing,
                                         min(w.duration, TIMING.abandon_after / 2 - 2 * SKEW
                                             - LANDING), True)
              for w in writes]
    cursor = Cursor.start(0.0 + reader_skew, TIMING)
    applied_at: dict[int, list[float]] = {n: [] for n in range(len(writes))}
    # Reads at random times, then enough later ones for everything to settle.
    times = sorted(reads) + [400.0 + 5 * n for n in range(20)]
    # A live writer whose write took over abandon_after / 2 records a fresh, done entry
    # (ingest.store.chroma does): "n+" stands for it.
    slow = {n for n, w in enumerate(writes)
            if not w.dies and w.written - w.start > TIMING.abandon_after / 2}
    for t in times:
        listed = [EntryHead(str(n), w.ts, not w.dies and t >= w.written)
                  for n, w in enumerate(writes) if t >= w.visible and w.ts >= cursor.low]
        listed += [EntryHead(f"{n}+", writes[n].written + writes[n].skew, True)
                   for n in slow if t >= writes[n].written + writes[n].landing
                   and writes[n].written + writes[n].skew >= cursor.low]
        apply, cursor = advance(cursor, listed, t + reader_skew, TIMING)
        for entry in apply:
            applied_at[int(entry.rstrip("+"))].append(t)
    for n, write in enumerate(writes):
        if write.ts < 0.0 - max(TIMING.window, TIMING.abandon_after) + SKEW:
            continue  # before the reader started: its full read covers it
        assert any(t >= write.written for t in applied_at[n]), (write, applied_at[n])
    assert cursor.waiting == 0


def test_a_final_entry_is_applied_once_and_a_pending_one_until_done() -> None:
    cursor = Cursor.start(100.0, TIMING)
    apply, cursor = advance(cursor, [EntryHead("a", 100.0, True),
                                     EntryHead("b", 101.0, False)], 102.0, TIMING)
    assert sorted(apply) == ["a", "b"] and cursor.waiting == 1
    apply, cursor = advance(cursor, [EntryHead("a", 100.0, True),
                                     EntryHead("b", 101.0, False)], 103.0, TIMING)
    assert apply == ["b"]
    apply, cursor = advance(cursor, [EntryHead("a", 100.0, True),
                                     EntryHead("b", 101.0, True)], 104.0, TIMING)
    assert apply == ["b"] and cursor.waiting == 0
    apply, cursor = advance(cursor, [EntryHead("a", 100.0, True),
                                     EntryHead("b", 101.0, True)], 105.0, TIMING)
    assert apply == []


def test_the_window_moves_on_and_forgets_what_it_left() -> None:
    cursor = Cursor.start(0.0, TIMING)
    entries = [EntryHead(str(n), float(n), True) for n in range(100)]
    _, cursor = advance(cursor, entries, 100.0, TIMING)
    assert cursor.low == 99.0 - TIMING.window
    assert cursor.applied == {str(n) for n in range(89, 100)}


def test_a_pending_entry_holds_the_window_back_until_abandoned() -> None:
    cursor = Cursor.start(0.0, TIMING)
    entries = [EntryHead("stuck", 1.0, False), *(EntryHead(str(n), float(n), True)
                                                 for n in range(2, 30))]
    _, cursor = advance(cursor, entries, 30.0, TIMING)
    assert cursor.low == 1.0 and cursor.waiting == 1
    apply, cursor = advance(cursor, entries, 1.0 + TIMING.abandon_after, TIMING)
    assert apply == ["stuck"]  # applied once more, now that whatever it wrote has landed
    assert cursor.waiting == 0 and cursor.low == 29.0 - TIMING.window


def test_a_cursor_survives_json() -> None:
    cursor = Cursor(1.5, 9.25, frozenset({"a", "b"}), 2)
    assert Cursor.from_json(cursor.to_json()) == cursor

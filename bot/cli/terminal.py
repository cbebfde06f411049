"""Newsdesk on a terminal: answers, passages, traces and summaries as text (pure: returns
strings, styled with click.style; the CLI echoes them, and click drops the styling when the
output is not a terminal). bot/slack/blocks.py does the same for Slack. At the end, the two live
pieces that write as they go: an LLM's streamed tokens and the progress bar."""

from __future__ import annotations

import collections
import re
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ingest.model.records import READ_TYPES
from retrieval.question.time_window import TimeWindow
from retrieval.records import Answer, Passage

# Control characters other than tab and newline, and escape sequences other than colours (SGR,
# which click writes itself): article text must never write to the clipboard (OSC 52), hide a
# link (OSC 8), clear the screen or move the cursor.
_UNPRINTABLE = re.compile(r"\x1b\[[0-9;]*m|\x1b[\[\]]?|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` as it may reach a terminal: colour codes kept, every other control removed."""
    return _UNPRINTABLE.sub(lambda m: m.group() if m.group().endswith("m") else "", text)


class PrintableStream:
    """A text stream whose writes pass through `printable` (stdout of the CLI, whatever
    command prints article text); everything else is the wrapped stream's."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return int(self._stream.write(printable(text)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


CHAT_COMMANDS = ("/sources", "/reset", "/help", "/quit", "/exit", "/q")


def unknown_command(line: str) -> bool:
    """A slash and a word that is no chat command (`/source`, a typo): said to be unknown,
    never asked as a question. A question may still begin with a path ("/r/news says…")."""
    word = line.split(maxsplit=1)[0].lower() if line.strip() else ""
    return (word.startswith("/") and word not in CHAT_COMMANDS
            and word[1:].isalpha() and len(line.split()) <= 2)


CHAT_HELP = "Commands: /sources (passages behind the last answer), /reset (new conversation), " \
            "/help, /quit."


@dataclass(frozen=True)
class Screen:
    """What to show: `out` on stdout, `note` (a warning about the answer) on stderr."""

    out: str
    note: str = ""


def answer_screen(answer: Answer, streamed: str | None = None) -> Screen:
    """The answer (its lead value in bold), its window above it and its sources below;
    `streamed` is the text already printed token by token (an LLM answer), not repeated when
    the final answer is the same."""
    lines: list[str] = []
    if answer.window is not None and not streamed:
        lines.append(click.style(f"{answer.window.label}:", dim=True))
    if streamed is None or streamed.strip() != answer.answer:
        if streamed:
            lines.append("")
        lines.append(lead_in_bold(answer))
    else:
        lines.append("")
    if answer.citations:
        lines += ["", click.style("Sources", bold=True)]
        # Two passages of one article are one source: "[1][2] Title", not the title twice.
        numbers: dict[str, list[int]] = {}
        first: dict[str, Passage] = {}
        for citation in answer.citations:
            numbers.setdefault(citation.passage.article_id, []).append(citation.n)
            first.setdefault(citation.passage.article_id, citation.passage)
        lines += [f"  {''.join(f'[{n}]' for n in ns)} {describe(first[article])}"
                  for article, ns in numbers.items()]
    note = click.style(f"({answer.note})", fg="yellow") if answer.note else ""
    return Screen("\n".join(lines), note)


def lead_in_bold(answer: Answer) -> str:
    """The answer with the value it leads with in bold (`Answer.lead`, data, not parsed)."""
    lead = answer.lead
    if lead is None or not answer.answer.startswith(lead):
        return answer.answer
    return click.style(lead, bold=True) + answer.answer[len(lead):]


def describe(passage: Passage) -> str:
    """One line naming a passage's article: title (date, source) <url>; where it also ran."""
    text = passage.title or passage.article_id
    if passage.details:
        text += f" ({', '.join(passage.details)})"
    text += f" <{passage.url}>" if passage.url else f" [{passage.article_id}]"
    return text + (f"; {passage.also_ran}" if passage.reprints else "")


def excerpt(text: str, limit: int) -> str:
    """At most `limit` characters of `text`, cut at a word, wrapped and indented."""
    short = textwrap.shorten(text, width=limit, placeholder=" …")
    return textwrap.fill(short, width=100, initial_indent="   ", subsequent_indent="   ")


def passages_text(passages: Sequence[Passage], window: TimeWindow | None = None, *,
                  scores: bool = True, limit: int = 400) -> str:
    """Ranked passages with an excerpt each (search results, /sources in chat)."""
    lines = [click.style(f"{window.label}:", dim=True)] if window is not None else []
    if not passages:
        lines.append("No passages match." + (" Try a wider window." if window else ""))
    for rank, passage in enumerate(passages, start=1):
        score = f"  score {passage.score:.4f}" if scores else ""
        lines.append(click.style(f"{rank}. {describe(passage)}{score}", bold=True))
        lines.append(excerpt(passage.text, limit))
    return "\n".join(lines)


def trace_text(answer: Answer) -> str:
    """The answerer's trace, for a person: what it read, what it weighed, what it decided."""
    trace = answer.trace
    if trace is None:
        return "\n" + click.style(
            "(no trace: this answer did not come from the extractive answerer)", dim=True)
    reading = trace["question"]
    terms = ", ".join(f"{t} {w}" for t, w in list(reading["terms"].items())[:8])
    intents = [name for name in ("latest", "change", "year_asked", "follow_up")
               if reading.get(name)]
    lines = ["", click.style("Question", bold=True),
             f"  kind {reading['kind']}; terms (IDF) {terms}",
             f"  names {reading['names'] or '-'}; measured {reading['measured'] or '-'}; "
             f"role {reading['role'] or '-'}; intents {', '.join(intents) or '-'}",
             click.style("Best sentences", bold=True)]
    for number, candidate in enumerate(trace["candidates"], start=1):
        span = f" value {candidate['span']!r}" if candidate["span"] else ""
        lines.append(f"  {number}. p={candidate['probability']:.3f} [{candidate['passage']}]"
                     f"{span} {candidate['text'][:110]}")
        parts = ", ".join(f"{k} {v:+.2f}" for k, v in candidate["contributions"].items())
        lines.append(click.style(f"     {parts}", dim=True))
    lines += [click.style("Rules", bold=True), "  " + ("; ".join(trace["rules"]) or "none fired")]
    if trace.get("lead"):
        lead = trace["lead"]
        confidence, threshold = distinct(lead["confidence"], lead["threshold"])
        lines.append(f"  lead value {lead['span']!r}: confidence {confidence} "
                     f"(shown at >= {threshold}) -> "
                     f"{'shown' if lead['shown'] else 'not shown'}")
    lines += [click.style("Decision", bold=True), f"  {trace['decision']}"]
    return "\n".join(lines)


def distinct(value: float, threshold: float) -> tuple[str, str]:
    """Both numbers with the fewest decimals (2 to 6) that keep unequal values unequal: a
    confidence just under its threshold must not print as equal to it."""
    for places in range(2, 7):
        shown = f"{value:.{places}f}", f"{threshold:.{places}f}"
        if value == threshold or shown[0] != shown[1]:
            return shown
    return shown


def summary_line(data: dict[str, Any]) -> str:
    """An ingest summary (IngestSummary.as_dict) in one line: "added 3, updated 0, …"."""
    keys = ["added", "updated", "unchanged", "removed", "duplicates", "failed", "chunks"]
    keys += [key for key in ("wire_copies", "superseded", "partial", "not_modified",
                             "other_shards", "skipped") if data.get(key)]
    return ", ".join(
        f"{key.replace('_', ' ')} {data[key] if isinstance(data[key], int) else len(data[key])}"
        for key in keys
    )


def one_line(text: object) -> str:
    """A name as one line: a file may be named with a newline, and must not forge a line of
    the summary (`\\n`, `\\r` and other controls shown escaped)."""
    return "".join(c if c.isprintable() or c == " " else ascii(c)[1:-1] for c in str(text))


def ingest_text(data: dict[str, Any]) -> str:
    """The summary line, then one line per article that needs a reader's attention."""
    lines = [summary_line(data)]
    lines += [f"  duplicate: {one_line(dup['id'])} (same text as "
              f"{one_line(dup['duplicate_of'])})" for dup in data["duplicates"]]
    lines += [f"  wire copy: {one_line(copy['id'])} (stored, grouped with "
              f"{one_line(copy['copy_of'])})" for copy in data["wire_copies"]]
    lines += [f"  superseded: {one_line(old['source'])} (an older version of "
              f"{one_line(old['id'])}; kept the one in {one_line(old['newer'])})"
              for old in data["superseded"]]
    lines += [f"  partial: {one_line(partial['source'])}: {one_line(partial['reason'])}"
              for partial in data["partial"]]
    lines += [f"  failed: {one_line(failure['source'])}: {one_line(failure['reason'])}"
              for failure in data["failed"]]
    if data.get("skipped"):
        # one line, not one a file: a site's export folder may hold hundreds of images
        kinds = collections.Counter(Path(s["source"]).suffix.lower() or "(no suffix)"
                                    for s in data["skipped"])
        lines.append(f"  skipped: {len(data['skipped'])} files of types Newsdesk does not read "
                     f"({', '.join(f'{k} {n}' for k, n in kinds.most_common())}), e.g. "
                     f"{one_line(data['skipped'][0]['source'])}; it reads {READ_TYPES}")
    return "\n".join(lines)


def stats_text(data: dict[str, Any]) -> str:
    """`newsdesk stats` for a person (ChromaStore.stats())."""
    span = f"{data['published_from']} .. {data['published_to']}" if data["published_from"] else "-"
    lines = [f"articles   {data['articles']}", f"chunks     {data['chunks']}",
             f"published  {span}", f"dated      {data['dated_articles']} of {data['articles']} "
                                   "articles"]
    if data["wire_copies"]:
        lines.append(f"copies     {data['wire_copies']} articles are copies of a wire story")
    lines += [f"store      {data['store']} (collection {data['collection']})",
              f"model      {data['model']}"]
    if data["sources"]:
        lines.append("sources")
        lines += [f"  {count:6d}  {name}" for name, count in data["sources"].items()]
    return "\n".join(lines)


def doctor_text(data: dict[str, Any]) -> str:
    """`newsdesk doctor` for a person: the damage found, by kind, and whether it was repaired."""
    if not data["damaged"]:
        return f"keyword index matches the store ({data['chunks']} chunks)"
    lines = [f"keyword index: {data['unreadable']}"] if data["unreadable"] else []
    for name in ("missing", "extra", "stale"):
        ids = data[name]
        if ids:
            shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
            lines.append(f"{name:8s} {len(ids)} chunks: {shown}")
    for name, what in (("leads_missing", "missing from"), ("leads_stale", "stale in")):
        ids = data.get(name) or []
        if ids:
            shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
            lines.append(f"wire-copy lookup: {len(ids)} first chunks {what} it: {shown}")
    lines.append("repaired" if data["repaired"] else "not repaired (--check-only)")
    return "\n".join(lines)


def eval_table(summary: dict[str, Any]) -> str:
    """`newsdesk eval` scores: one row per metric, one column overall and per question type."""
    rows = {"overall": summary["overall"], **summary["by_type"]}
    lines = [f"{'metric':24}" + "".join(f"{name:>14}" for name in rows)]
    for metric in summary["overall"]:
        cells = "".join(
            f"{'-' if rows[n][metric] is None else rows[n][metric]:>14}" for n in rows)
        lines.append(f"{metric:24}{cells}")
    return "\n".join(lines)


def vote_line(vote: dict[str, Any]) -> str:
    symbol = "+1" if vote["vote"] == "up" else "-1"
    return (f"{vote['created_at']}  {symbol}  {vote['user']}  {vote['channel']}  "
            f"{(vote['question'] or '-')[:60]!r}")


# -- live output (the two pieces here that write) ------------------------------------------------


class StreamEcho:
    """Prints an LLM's tokens as they arrive and keeps them to compare with the final text."""

    def __init__(self) -> None:
        self._pieces: list[str] = []

    def __call__(self, piece: str) -> None:
        self._pieces.append(piece)
        click.echo(piece, nl=False)

    @property
    def text(self) -> str:
        return "".join(self._pieces)


class Progress:
    """A rich progress bar on an interactive stderr; silent otherwise."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._bar: Any = None
        self._task: Any = None
        self._started = time.monotonic()

    def articles(self, read: int) -> None:
        """Articles read so far, and their rate: progress inside one large file (a JSONL
        export), where the bar's sources-done count stands still."""
        if self._bar is not None:
            rate = read / max(time.monotonic() - self._started, 1e-6)
            self._bar.update(self._task, description=f"{self._label} ({read:,} articles "
                                                     f"read, {rate:,.1f}/s)")

    def step(self, doing: str) -> None:
        """What the run is doing between sources ("embedding 128/512 chunks…"), with how long
        the run has taken: the bar never stands still without a word."""
        if self._bar is not None:
            elapsed = time.monotonic() - self._started
            self._bar.update(self._task, description=f"{self._label}: {doing} "
                                                     f"({elapsed:,.0f} s)")

    def __enter__(self) -> Progress:
        return self

    def __iter__(self) -> Iterator[Callable[..., None]]:
        """(on_total, on_advance), as `with Progress(...) as (on_total, on_advance)`."""
        return iter(self._callbacks())

    def _callbacks(self) -> tuple[Callable[[int], None], Callable[[], None]]:
        if not sys.stderr.isatty():
            return (lambda total: None), (lambda: None)
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TimeRemainingColumn
        from rich.progress import Progress as Bar

        self._bar = Bar(
            "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
            TimeRemainingColumn(), console=Console(stderr=True), transient=True,
        )
        self._bar.start()
        task = self._task = self._bar.add_task(self._label, total=None)
        return (
            lambda total: self._bar.update(task, total=total),
            lambda: self._bar.advance(task),
        )

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

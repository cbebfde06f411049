"""The `newsdesk` command line: a thin click layer over the library objects."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from pydantic import BaseModel, ValidationError

from bot.desk_commands import brief, echo_alerts, watch
from bot.logs import configure_logging, safe
from config import Settings, load_settings
from ingest.errors import NewsdeskError
from ingest.ids import source_names
from ingest.parse import parse_date, parse_filter
from ingest.records import IngestSummary, SearchFilter
from ingest.schedule import ScheduledSource, parse_interval
from retrieval.evaluation import EvalQuestion, score_question, summarise
from retrieval.records import Answer, Passage
from retrieval.time_window import TimeWindow

if TYPE_CHECKING:  # imported when a command needs it: `newsdesk --help` stays quick
    from bot.factory import Components

log = logging.getLogger(__name__)


class NewsdeskGroup(click.Group):
    """Turns project errors into one line on stderr and the error's exit code; anything
    unexpected into one line too (its traceback with -v), never with a secret in it."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsdeskError as exc:
            click.echo(safe(f"newsdesk: error: {exc}"), err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            # The reader went away (`newsdesk stats | head`): stop quietly, as Python's docs
            # advise, pointing stdout at devnull so the interpreter's final flush is silent.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(1)
        except Exception as exc:
            if logging.getLogger().isEnabledFor(logging.INFO):  # -v: the traceback too
                log.error("unexpected error", exc_info=True)
            first = (str(exc).strip().splitlines() or [""])[0]
            click.echo(safe(f"newsdesk: error: {type(exc).__name__}: {first}"
                            " (run with -v for details)"), err=True)
            ctx.exit(1)


@click.group(cls=NewsdeskGroup)
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Settings file (TOML) layered over the defaults. Env: NEWSDESK_CONFIG.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the store lives. Env: NEWSDESK_DATA_DIR.")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="newsdesk")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, data_dir: Path | None, verbose: int) -> None:
    """Newsdesk: ask questions about your news articles and get cited answers."""
    configure_logging(verbose)
    ctx.obj = _LazyComponents(config_file, {"data_dir": data_dir})


class _LazyComponents:
    """Settings and components are built on first use: `--help` works with a broken config."""

    def __init__(self, config_file: Path | None, overrides: dict[str, Any]) -> None:
        self._config_file = config_file
        self._overrides = overrides
        self._components: Components | None = None

    def components(self) -> Components:
        if self._components is None:
            from bot.factory import Components

            settings = load_settings(self._config_file, **self._overrides)
            self._components = Components(settings)
        return self._components


def _components(ctx: click.Context) -> Components:
    lazy: _LazyComponents = ctx.find_root().obj
    return lazy.components()


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, default=str))


@cli.command()
@click.argument("sources", nargs=-1)
@click.option("--prune", is_flag=True,
              help="Also remove stored articles of these sources that are gone from them "
                   "(other sources' articles are never touched).")
@click.option("--force", is_flag=True,
              help="With --prune: remove them even if that is most of a source's articles.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--watch", is_flag=True,
              help="Keep running: re-ingest each source on its refresh schedule.")
@click.option("--every", metavar="DURATION",
              help="With --watch: refresh interval (e.g. 15m) for sources that have none.")
@click.pass_context
def ingest(ctx: click.Context, sources: tuple[str, ...], prune: bool, force: bool,
           as_json: bool, watch: bool, every: str | None) -> None:
    """Ingest articles from files, directories, URLs and RSS/Atom feeds.

    Without SOURCES, ingests the [[sources]] of the settings. Re-running is cheap: unchanged
    articles are skipped, changed ones replaced, unchanged feeds cost one request.
    Exit status: 0 all ingested, 1 some sources failed, 2 usage or configuration error.
    """
    components = _components(ctx)
    scheduled = _scheduled_sources(components.settings, sources, every)
    ingestor = components.build_ingestor()
    if watch:
        from ingest.watch import run_schedule

        def report(due: list[str], summary: IngestSummary) -> None:
            stamp = datetime.now().isoformat(timespec="seconds")
            click.echo(f"{stamp} {', '.join(due)}: {_summary_line(summary.as_dict())}")
            echo_alerts(summary.alerts)
            sys.stdout.flush()

        click.echo("Watching sources; Ctrl-C to stop.", err=True)
        with contextlib.suppress(KeyboardInterrupt):
            run_schedule(scheduled, lambda due: ingestor.ingest(due, prune=prune, force=force),
                         threading.Event(), report)
        return
    from ingest.pipeline import Interrupted

    interrupted = False
    with _Progress("Ingesting") as progress:
        on_total, on_advance = progress
        try:
            summary = ingestor.ingest([s.location for s in scheduled], prune=prune,
                                      force=force, on_total=on_total, on_advance=on_advance,
                                      on_article=progress.articles)
        except Interrupted as stop:  # Ctrl-C: still say what was stored
            summary, interrupted = stop.summary, True
    if summary.chunks and not interrupted:
        # The model is loaded now: make the query-time export (if missing) while it is
        # cheap, so that the first question does not pay for it.
        _ = components.query_embedder
    data = summary.as_dict()
    if as_json:
        _print_json(data)
    else:
        click.echo(_summary_line(data))
        for dup in data["duplicates"]:
            click.echo(f"  duplicate: {dup['id']} (same text as {dup['duplicate_of']})")
        for copy in data["wire_copies"]:
            click.echo(f"  wire copy: {copy['id']} (stored, grouped with {copy['copy_of']})")
        for old in data["superseded"]:
            click.echo(safe(f"  superseded: {old['source']} (an older version of {old['id']}; "
                            f"kept the one in {old['newer']})"))
        for partial in data["partial"]:
            click.echo(safe(f"  partial: {partial['source']}: {partial['reason']}"))
        for failure in data["failed"]:
            click.echo(safe(f"  failed: {failure['source']}: {failure['reason']}"))
        echo_alerts(data["alerts"])
    ctx.exit(130 if interrupted else 1 if summary.failed else 0)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.pass_context
def regroup(ctx: click.Context, as_json: bool) -> None:
    """Find wire copies across the whole store again.

    Ingest groups each new article with the stored story it copies; run this once for a store
    made before wire copies were grouped. Nothing is re-embedded.
    """
    changed = _components(ctx).build_ingestor().regroup()
    if as_json:
        _print_json({"regrouped": changed})
    else:
        click.echo(f"regrouped {changed} articles")


def _summary_line(data: dict[str, Any]) -> str:
    keys = ["added", "updated", "unchanged", "removed", "duplicates", "failed", "chunks"]
    keys += [key for key in ("wire_copies", "superseded", "partial", "not_modified")
             if data.get(key)]
    return ", ".join(
        f"{key.replace('_', ' ')} {data[key] if isinstance(data[key], int) else len(data[key])}"
        for key in keys
    )


def _scheduled_sources(settings: Settings, sources: tuple[str, ...],
                       every: str | None) -> list[ScheduledSource]:
    try:
        default_every = parse_interval(every)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--every") from None
    if sources:
        return [ScheduledSource(s, default_every) for s in sources]
    if not settings.sources:
        raise click.UsageError("give SOURCES, or list [[sources]] in your settings file")
    return [ScheduledSource(s.location, s.refresh or default_every) for s in settings.sources]


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print as one JSON object.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Show what the store holds: articles, chunks, sources, date range, location, model."""
    data = _components(ctx).store.stats()
    if as_json:
        _print_json(data)
        return
    click.echo(f"articles   {data['articles']}")
    click.echo(f"chunks     {data['chunks']}")
    span = f"{data['published_from']} .. {data['published_to']}" if data["published_from"] else "-"
    click.echo(f"published  {span}")
    click.echo(f"dated      {data['dated_articles']} of {data['articles']} articles")
    if data["wire_copies"]:
        click.echo(f"copies     {data['wire_copies']} articles are copies of a wire story")
    click.echo(f"store      {data['store']} (collection {data['collection']})")
    click.echo(f"model      {data['model']}")
    if data["sources"]:
        click.echo("sources")
        for name, count in data["sources"].items():
            click.echo(f"  {count:6d}  {name}")


@cli.command()
@click.option("--check-only", is_flag=True, help="Report differences; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print as one JSON object.")
@click.pass_context
def doctor(ctx: click.Context, check_only: bool, as_json: bool) -> None:
    """Check this machine's keyword index against the store, and repair it.

    Compares every chunk id, and a hash of the text each was indexed from, with the store;
    re-indexes what differs (a rebuild if the index or its sync state cannot be read) unless
    --check-only. Exits 1 if it found damage, 0 if the index matched the store.
    """
    found = _components(ctx).keyword_index.check(repair=not check_only)
    data = {"chunks": found.chunks, "missing": found.missing, "extra": found.extra,
            "stale": found.stale, "unreadable": found.unreadable, "repaired": found.repaired,
            "damaged": found.damaged}
    if as_json:
        _print_json(data)
    elif not found.damaged:
        click.echo(f"keyword index matches the store ({found.chunks} chunks)")
    else:
        if found.unreadable:
            click.echo(f"keyword index: {found.unreadable}")
        for name, ids in (("missing", found.missing), ("extra", found.extra),
                          ("stale", found.stale)):
            if ids:
                shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
                click.echo(safe(f"{name:8s} {len(ids)} chunks: {shown}"))
        click.echo("repaired" if found.repaired else "not repaired (--check-only)")
    ctx.exit(1 if found.damaged else 0)


# -- asking -------------------------------------------------------------------------------------


def _filter(sources: tuple[str, ...], since: str | None, until: str | None) -> SearchFilter:
    try:
        return parse_filter(source_names(sources), since, until)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _as_of(value: str | None) -> datetime | None:
    """--as-of: the moment the question's time words are read from (default now)."""
    if not value:
        return None
    parsed = parse_date(value)
    if parsed is None:
        raise click.BadParameter(f"not a date: {value!r}", param_hint="--as-of")
    return parsed


def _filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--as-of", "as_of", metavar="DATE",
        help="Read time words in questions (\"last week\", \"in March\") as of this date "
             "instead of today (YYYY-MM-DD), for reproducible runs.")(command)
    command = click.option("--until", help="Only articles published on or before (YYYY-MM-DD).")(
        command)
    command = click.option("--since", help="Only articles published on or after (YYYY-MM-DD).")(
        command)
    command = click.option("--source", "sources", multiple=True,
                           help="Only articles from this source: a source name, or a folder, "
                                "feed or page URL as ingested (repeatable).")(command)
    return click.option("-k", "k", type=click.IntRange(1, 100),
                        help="Passages to retrieve (default from settings).")(command)


def _render(answer: Answer, streamed: str | None = None) -> None:
    if answer.window is not None and not streamed:
        click.secho(f"{answer.window.label}:", dim=True)
    if streamed is None or streamed.strip() != answer.answer:
        if streamed:
            click.echo()
        click.echo(_lead_in_bold(answer))
    else:
        click.echo()
    if answer.note:
        click.secho(f"({answer.note})", fg="yellow", err=True)
    if answer.citations:
        click.echo()
        click.secho("Sources", bold=True)
        for citation in answer.citations:
            click.echo(f"  [{citation.n}] {_describe(citation.passage)}")


def _lead_in_bold(answer: Answer) -> str:
    """The answer with the value it leads with in bold (plain when not a terminal)."""
    lead = answer.lead
    if lead is None or not answer.answer.startswith(lead):
        return answer.answer
    return click.style(lead, bold=True) + answer.answer[len(lead):]


def _describe(passage: Passage) -> str:
    text = passage.title or passage.article_id
    if passage.details:
        text += f" ({', '.join(passage.details)})"
    text += f" <{passage.url}>" if passage.url else f" [{passage.article_id}]"
    return text + (f"; {passage.also_ran}" if passage.reprints else "")


@cli.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the Answer as JSON.")
@click.option("--jsonl", is_flag=True,
              help="Read questions from stdin (text or {question, history} objects), one per "
                   "line; write one JSON Answer per line.")
@click.option("--explain", is_flag=True,
              help="Also show how the answer was reached: the question as read, the best "
                   "sentences with their features and probabilities, the rules that fired "
                   "and the decision (under `trace` with --json).")
@_filter_options
@click.pass_context
def ask(ctx: click.Context, question: str | None, as_json: bool, jsonl: bool, explain: bool,
        k: int | None, sources: tuple[str, ...], since: str | None, until: str | None,
        as_of: str | None) -> None:
    """Answer QUESTION from the ingested articles, citing passages as [n].

    Time words in the question ("last week", "since Monday", "in March 2005") restrict it to
    articles published then; --since/--until, when given, win over them."""
    where = _filter(sources, since, until)
    moment = _as_of(as_of)
    engine = _components(ctx).build_engine()
    if jsonl:
        for number, line in enumerate(sys.stdin, start=1):
            if not line.strip():
                continue
            try:
                request = _jsonl_request(line)
            except ValueError as exc:
                _print_json({"error": f"line {number}: {exc}"})
                continue
            answer = engine.ask(request.question, request.history, k=k, where=where,
                                as_of=moment)
            _print_json(answer.as_dict(explain=explain))
            sys.stdout.flush()
        return
    if not question:
        raise click.UsageError("give a QUESTION, or --jsonl to read questions from stdin")
    if as_json:
        _print_json(engine.ask(question, k=k, where=where, as_of=moment).as_dict(explain))
        return
    streaming = _components(ctx).settings.answer.mode == "llm" and sys.stdout.isatty()
    echo = _StreamEcho()
    answer = engine.ask(question, k=k, where=where, on_token=echo if streaming else None,
                        as_of=moment)
    _render(answer, echo.text if streaming else None)
    if explain:
        _render_trace(answer)


def _render_trace(answer: Answer) -> None:
    """The answerer's trace, for a person: what it read, what it weighed, what it decided."""
    click.echo()
    trace = answer.trace
    if trace is None:
        click.secho("(no trace: this answer did not come from the extractive answerer)",
                    dim=True)
        return
    reading = trace["question"]
    click.secho("Question", bold=True)
    terms = ", ".join(f"{t} {w}" for t, w in list(reading["terms"].items())[:8])
    intents = [name for name in ("latest", "change", "year_asked", "follow_up")
               if reading.get(name)]
    click.echo(f"  kind {reading['kind']}; terms (IDF) {terms}")
    click.echo(f"  names {reading['names'] or '-'}; measured {reading['measured'] or '-'}; "
               f"role {reading['role'] or '-'}; intents {', '.join(intents) or '-'}")
    click.secho("Best sentences", bold=True)
    for number, candidate in enumerate(trace["candidates"], start=1):
        span = f" value {candidate['span']!r}" if candidate["span"] else ""
        click.echo(f"  {number}. p={candidate['probability']:.3f} [{candidate['passage']}]"
                   f"{span} {candidate['text'][:110]}")
        parts = ", ".join(f"{k} {v:+.2f}" for k, v in candidate["contributions"].items())
        click.secho(f"     {parts}", dim=True)
    click.secho("Rules", bold=True)
    click.echo("  " + ("; ".join(trace["rules"]) or "none fired"))
    if trace.get("lead"):
        lead = trace["lead"]
        click.echo(f"  lead value {lead['span']!r}: confidence {lead['confidence']:.2f} "
                   f"(shown at >= {lead['threshold']:.2f}) -> "
                   f"{'shown' if lead['shown'] else 'not shown'}")
    click.secho("Decision", bold=True)
    click.echo(f"  {trace['decision']}")


class _StreamEcho:
    """Prints an LLM's tokens as they arrive and keeps them to compare with the final text."""

    def __init__(self) -> None:
        self._pieces: list[str] = []

    def __call__(self, piece: str) -> None:
        self._pieces.append(piece)
        click.echo(piece, nl=False)

    @property
    def text(self) -> str:
        return "".join(self._pieces)


class _AskRequest(BaseModel):
    question: str
    history: list[tuple[str, str]] = []


def _jsonl_request(line: str) -> _AskRequest:
    text = line.strip()
    if not text.startswith("{"):
        return _AskRequest(question=text)
    try:
        return _AskRequest.model_validate_json(text)
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"]) from None


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print passages as JSON.")
@_filter_options
@click.pass_context
def search(ctx: click.Context, question: str, as_json: bool, k: int | None,
           sources: tuple[str, ...], since: str | None, until: str | None,
           as_of: str | None) -> None:
    """Show the ranked passages retrieved for QUESTION (its time words set the window)."""
    engine = _components(ctx).build_engine()
    asked, where = engine.windowed(question, _filter(sources, since, until), _as_of(as_of))
    passages = engine.search(asked, k=k, where=where)
    if as_json:
        _print_json([{"rank": i, **p.as_dict()} for i, p in enumerate(passages, start=1)])
        return
    if where is not None and (where.since or where.until):
        click.secho(f"{TimeWindow(where.since, where.until).label}:", dim=True)
    for rank, passage in enumerate(passages, start=1):
        click.secho(f"{rank}. {_describe(passage)}  score {passage.score:.4f}", bold=True)
        click.echo(_excerpt(passage.text, 400))


@cli.command()
@click.argument("topic")
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as a JSON Answer.")
@_filter_options
@click.pass_context
def timeline(ctx: click.Context, topic: str, as_json: bool, k: int | None,
             sources: tuple[str, ...], since: str | None, until: str | None,
             as_of: str | None) -> None:
    """List TOPIC's dated developments, oldest first: one cited sentence per article, wire
    copies collapsed. Chat, Slack and the API answer "timeline of …" questions the same way."""
    engine = _components(ctx).build_engine()
    answer = engine.timeline(topic, where=_filter(sources, since, until), as_of=_as_of(as_of))
    if as_json:
        _print_json(answer.as_dict())
        return
    _render(answer)


def _excerpt(text: str, limit: int) -> str:
    """At most `limit` characters of `text`, cut at a word, wrapped and indented."""
    short = textwrap.shorten(text, width=limit, placeholder=" …")
    return textwrap.fill(short, width=100, initial_indent="   ", subsequent_indent="   ")


CHAT_HELP = "Commands: /sources (passages behind the last answer), /reset (new conversation), " \
            "/help, /quit."


@cli.command()
@_filter_options
@click.pass_context
def chat(ctx: click.Context, k: int | None, sources: tuple[str, ...], since: str | None,
         until: str | None, as_of: str | None) -> None:
    """Chat about the articles; follow-up questions use the conversation so far.

    With a pipe on stdin, answers each line in turn and exits at the end of the input:
    `echo "Who won?" | newsdesk chat`. Ctrl-C cancels an answer; at the prompt it quits.
    """
    where = _filter(sources, since, until)
    moment = _as_of(as_of)
    components = _components(ctx)
    engine = components.build_engine()
    interactive = sys.stdin.isatty()
    if interactive:
        passages = components.store.count()  # count() is cheap; stats() reads every chunk
        click.secho(f"Newsdesk — {passages} passages to search. Ask a question. {CHAT_HELP}",
                    dim=True)
    history: list[tuple[str, str]] = []
    last: Answer | None = None
    streaming = components.settings.answer.mode == "llm" and sys.stdout.isatty()
    for question in _chat_lines(interactive):
        command = question.lower()
        if command in {"/quit", "/exit", "/q"}:
            return
        if command == "/help":
            click.echo(CHAT_HELP)
            continue
        if command == "/reset":
            history.clear()
            last = None
            click.secho("(new conversation)", dim=True)
            continue
        if command == "/sources":
            _show_passages(last)
            continue
        if interactive:
            click.secho("newsdesk> ", fg="green", bold=True, nl=False)
        echo = _StreamEcho()
        try:
            answer = engine.ask(question, history, k=k, where=where,
                                on_token=echo if streaming else None, as_of=moment)
        except KeyboardInterrupt:
            click.secho("\n(cancelled)", dim=True)
            continue
        except NewsdeskError as exc:
            click.secho(safe(f"\nSorry, that failed: {exc}"), fg="red")
            continue
        last = answer
        _render(answer, echo.text if streaming else None)
        if not interactive:
            click.echo()
        history.append((question, answer.answer))


def _chat_lines(interactive: bool) -> Iterator[str]:
    """The questions typed at the prompt, or the lines of piped input, until the end."""
    while True:
        if interactive:
            try:
                line = click.prompt(click.style("you", fg="cyan", bold=True),
                                    prompt_suffix="> ", default="", show_default=False)
            except (EOFError, KeyboardInterrupt, click.Abort):
                click.echo()
                return
        else:
            line = sys.stdin.readline()
            if not line:
                return
        if line.strip():
            yield line.strip()


def _show_passages(answer: Answer | None) -> None:
    if answer is None:
        click.echo("No answer yet.")
        return
    for rank, passage in enumerate(answer.passages, start=1):
        click.secho(f"{rank}. {_describe(passage)}", bold=True)
        click.echo(_excerpt(passage.text, 300))


@cli.command(name="eval")
@click.argument("questions", type=click.File("r"))
@click.option("--k", "k", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Passages retrieved per question (hits and recall are reported up to k).")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
@click.option("--details", type=click.File("w"),
              help="Write each question's answer and scores to this JSONL file.")
@click.pass_context
def eval_command(ctx: click.Context, questions: Any, k: int, as_json: bool,
                 details: Any) -> None:
    """Score retrieval and answers on a question file (bbc-qa format)."""
    items = _read_questions(questions)
    engine = _components(ctx).build_engine()
    ks = sorted({x for x in (1, 5, 10, k) if x <= k})
    scores = []
    with _Progress("Evaluating") as (on_total, on_advance):
        on_total(len(items))
        for item in items:
            moment = (datetime.combine(item.as_of, datetime.min.time(), tzinfo=UTC)
                      if item.as_of else None)
            answer = engine.ask(item.question, item.history, k=k, as_of=moment)
            score = score_question(item, answer, ks, recall_k=k)
            scores.append(score)
            if details:
                details.write(json.dumps({"id": item.id, "type": item.type,
                                          "gold": item.answer, "score": asdict(score),
                                          **answer.as_dict()}) + "\n")
            on_advance()
    summary = summarise(scores, ks, recall_k=k)
    if as_json:
        _print_json(summary)
        return
    rows = {"overall": summary["overall"], **summary["by_type"]}
    metrics = list(summary["overall"])
    click.echo(f"{'metric':24}" + "".join(f"{name:>14}" for name in rows))
    for metric in metrics:
        cells = "".join(
            f"{'-' if rows[n][metric] is None else rows[n][metric]:>14}" for n in rows
        )
        click.echo(f"{metric:24}{cells}")


def _read_questions(handle: Any) -> list[EvalQuestion]:
    items = []
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            items.append(EvalQuestion.model_validate_json(line))
        except ValidationError as exc:
            raise click.BadParameter(f"line {number}: {exc.errors()[0]['msg']}",
                                     param_hint="QUESTIONS") from None
    return items


# -- Slack ----------------------------------------------------------------------------------


@cli.command()
@click.option("--socket/--http", "socket", default=None,
              help="Socket Mode (default when SLACK_APP_TOKEN is set) or HTTP mode.")
@click.option("--port", type=click.IntRange(0, 65535), default=3000, show_default=True,
              help="HTTP mode: port for /slack/events.")
@click.option("--host", default="0.0.0.0", show_default=True, help="HTTP mode: address.")
@click.option("--refresh", is_flag=True,
              help="Also re-ingest the configured [[sources]] on their schedules.")
@click.pass_context
def slack(ctx: click.Context, socket: bool | None, port: int, host: str,
          refresh: bool) -> None:
    """Run the Slack app (tokens from SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN).

    HTTP mode serves /slack/events, /healthz, /readyz and /metrics (the server of
    `newsdesk serve`, without its API).
    """
    from bot.metrics import Metrics
    from bot.slack_app import slack_tokens

    tokens = slack_tokens(dict(os.environ), socket)  # fail fast, before loading the model
    components = _components(ctx)
    metrics = Metrics()
    if tokens.app is None:
        bot = components.build_slack_bot(tokens, metrics)
        service = components.build_service(api=False, slack=bot, metrics=metrics, host=host)
        _serve_http(components, service, host, port, refresh, on_stop=bot.close)
        return
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    components.warm_up()  # before the first question
    bot = components.build_slack_bot(tokens, metrics)
    stop_refresh = _start_refresh(components, refresh, metrics)
    click.echo("Newsdesk is listening in Socket Mode. Ctrl-C to stop.", err=True)
    try:
        SocketModeHandler(bot.app, tokens.app.get_secret_value(), web_client=bot.client).start()
    finally:
        stop_refresh.set()
        bot.close()
        components.close()


@cli.command()
@click.option("--host", help="Address to listen on (default from [serve] host: 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535),
              help="Port (default from [serve] port: 8080).")
@click.option("--refresh", is_flag=True,
              help="Also re-ingest the configured [[sources]] on their schedules.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, refresh: bool) -> None:
    """Serve the HTTP API, MCP, health checks, metrics and (with Slack tokens) Slack events.

    Routes: POST /api/ask, GET /api/search, GET /api/stats, /mcp, POST /slack/events,
    GET /healthz, /readyz, /metrics. API and MCP need `Authorization: Bearer
    $NEWSDESK_API_TOKEN`; without a token they are served on a loopback address only.
    """
    from bot.metrics import Metrics
    from bot.slack_app import slack_tokens

    components = _components(ctx)
    settings = components.settings.serve
    host = host or settings.host
    port = settings.port if port is None else port
    metrics = Metrics()
    bot = None
    if os.environ.get("SLACK_BOT_TOKEN"):
        bot = components.build_slack_bot(slack_tokens(dict(os.environ), False), metrics)
    service = components.build_service(api=True, slack=bot, metrics=metrics, host=host)
    _serve_http(components, service, host, port, refresh,
                on_stop=bot.close if bot is not None else None)


def _serve_http(components: Components, service: Any, host: str, port: int, refresh: bool,
                on_stop: Callable[[], None] | None) -> None:
    from bot.http_app import build_app
    from bot.http_server import HttpServer

    server = HttpServer(build_app(service), host, port,
                        components.settings.serve.header_timeout)
    stop_refresh = _start_refresh(components, refresh, service.metrics)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        server.start()
        click.echo(f"Newsdesk is listening on http://{host}:{server.port}. Ctrl-C to stop.",
                   err=True)
        stopping.wait()
    finally:
        server.stop()  # graceful: requests in progress are finished
        stop_refresh.set()
        service.answers.shutdown(wait=False, cancel_futures=True)
        if on_stop is not None:
            on_stop()
        components.close()


@cli.command()
@click.pass_context
def mcp(ctx: click.Context) -> None:
    """Serve the MCP tools search_articles, ask_articles and story_timeline over stdio, for
    a local AI assistant (configure it to run `newsdesk mcp`)."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.mcp_tools import build_mcp

    components = _components(ctx)
    engine = components.build_engine()
    with ThreadPoolExecutor(max_workers=components.settings.serve.answer_workers) as pool:
        build_mcp(engine, pool).run("stdio")
    components.close()


def _start_refresh(components: Components, enabled: bool, metrics: Any = None) -> Any:
    """Run the ingest schedule in a daemon thread of this process; returns its stop event."""
    from ingest.watch import run_schedule

    stop = threading.Event()
    if not enabled:
        return stop
    scheduled = _scheduled_sources(components.settings, (), None)
    ingestor = components.build_ingestor()

    def record(due: list[str], summary: IngestSummary) -> None:
        if metrics is not None:
            metrics.ingest_run(summary)

    threading.Thread(target=run_schedule, name="newsdesk-refresh", daemon=True,
                     args=(scheduled, ingestor.ingest, stop, record)).start()
    return stop


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON lines.")
@click.pass_context
def feedback(ctx: click.Context, as_json: bool) -> None:
    """List the 👍/👎 votes given to answers in Slack."""
    components = _components(ctx)
    votes = components.feedback.votes()
    components.close()
    for vote in votes:
        if as_json:
            _print_json(vote)
        else:
            symbol = "+1" if vote["vote"] == "up" else "-1"
            click.echo(f"{vote['created_at']}  {symbol}  {vote['user']}  {vote['channel']}  "
                       f"{(vote['question'] or '-')[:60]!r}")
    if not votes and not as_json:
        click.echo("No feedback yet.")


class _Progress:
    """A rich progress bar on an interactive stderr; silent otherwise."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._bar: Any = None
        self._task: Any = None

    def articles(self, read: int) -> None:
        """Articles read so far: progress inside one large file (a JSONL export)."""
        if self._bar is not None:
            self._bar.update(self._task, description=f"{self._label} ({read:,} articles read)")

    def __enter__(self) -> _Progress:
        return self

    def __iter__(self) -> Iterator[Callable[..., None]]:
        """(on_total, on_advance), as `with _Progress(...) as (on_total, on_advance)`."""
        return iter(self._callbacks())

    def _callbacks(self) -> tuple[Callable[[int], None], Callable[[], None]]:
        if not sys.stderr.isatty():
            return (lambda total: None), (lambda: None)
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self._bar = Progress(
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


cli.add_command(watch)
cli.add_command(brief)


def main() -> None:
    cli(prog_name="newsdesk")


if __name__ == "__main__":
    main()

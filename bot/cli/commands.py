"""The `newsdesk` command line: a thin click layer over the library objects."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from pydantic import ValidationError

from bot.app.asking import Request, read_request
from bot.app.logs import configure_logging, safe
from bot.app.user_values import read_shard
from bot.cli import terminal
from bot.cli.watch_commands import brief, echo_alerts, watch
from config import load_settings
from config.errors import NewsdeskError, RequestError, StoreError
from ingest.model.records import IngestSummary
from retrieval.answer.evaluation import EvalQuestion, score_question, summarise
from retrieval.records import Answer

if TYPE_CHECKING:  # imported when a command needs it: `newsdesk --help` stays quick
    from bot.factory import Components

ROUTE = "cli"  # the metrics label of questions asked here

log = logging.getLogger(__name__)


# The program's own options, taken after the command too (`newsdesk ask Q --data-dir D`),
# where people type them: option -> whether it takes a value.
_PROGRAM_OPTIONS = {"--data-dir": True, "--config": True, "-v": False, "-vv": False,
                    "--verbose": False}


def program_options_first(args: list[str]) -> list[str]:
    """`args` with the program's options found after the command moved before it (nothing
    after a `--` is touched)."""
    moved: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        name = arg.split("=", 1)[0]
        if arg == "--":
            rest.extend(args[index:])
            break
        if name in _PROGRAM_OPTIONS and rest:
            takes_value = _PROGRAM_OPTIONS[name] and "=" not in arg
            moved.extend(args[index:index + 1 + takes_value])
            index += 1 + takes_value
            continue
        rest.append(arg)
        index += 1
    return moved + rest


class NewsdeskGroup(click.Group):
    """Turns project errors into one line on stderr and the error's exit code; anything
    unexpected into one line too (its traceback with -v), never with a secret in it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, program_options_first(args))

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
    click.echo(safe(json.dumps(data, ensure_ascii=False, default=str)))


@cli.command()
@click.argument("sources", nargs=-1)
@click.option("--prune", is_flag=True,
              help="Also remove stored articles of these sources that are gone from them "
                   "(other sources' articles are never touched).")
@click.option("--force", is_flag=True,
              help="With --prune: remove them even if that is most of a source's articles.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--watch", "refresh", is_flag=True,
              help="Keep running: re-ingest each source on its refresh schedule.")
@click.option("--every", metavar="DURATION",
              help="With --watch: refresh interval (e.g. 15m) for sources that have none.")
@click.option("--shard", metavar="I/N",
              help="Store only shard I of N of the articles (by id), so that N workers, each "
                   "with its own data dir, can share the sources against one Chroma server.")
@click.pass_context
def ingest(ctx: click.Context, sources: tuple[str, ...], prune: bool, force: bool,
           as_json: bool, refresh: bool, every: str | None, shard: str | None) -> None:
    """Ingest articles from files, directories, URLs and RSS/Atom feeds.

    Without SOURCES, ingests the [[sources]] of the settings. Re-running is cheap: unchanged
    articles are skipped, changed ones replaced, unchanged feeds cost one request.
    Exit status: 0 all ingested, 1 some sources failed, 2 usage or configuration error.
    """
    from bot.cli.runtime import scheduled_sources
    from ingest.run.pipeline import Interrupted

    split = read_shard(shard)
    components = _components(ctx)
    scheduled = scheduled_sources(components.settings, sources, every)
    ingestor = components.build_ingestor()
    if refresh:
        from ingest.run.refresh import run_schedule

        def report(due: list[str], summary: IngestSummary) -> None:
            stamp = datetime.now().isoformat(timespec="seconds")
            click.echo(f"{stamp} {', '.join(due)}: {terminal.summary_line(summary.as_dict())}")
            echo_alerts(summary.alerts)
            sys.stdout.flush()

        click.echo("Watching sources; Ctrl-C to stop.", err=True)
        with contextlib.suppress(KeyboardInterrupt):
            run_schedule(scheduled, lambda due: ingestor.ingest(
                due, prune=prune, force=force, shard=split), threading.Event(), report)
        return
    interrupted = False
    with terminal.Progress("Ingesting") as progress:
        on_total, on_advance = progress
        try:
            summary = ingestor.ingest([s.location for s in scheduled], prune=prune,
                                      force=force, on_total=on_total, on_advance=on_advance,
                                      on_article=progress.articles, on_step=progress.step,
                                      shard=split)
        except Interrupted as stop:  # Ctrl-C: still say what was stored
            summary, interrupted = stop.summary, True
        if summary.chunks and not interrupted:
            # The model is loaded now: make the query-time export (if missing) while it is
            # cheap, so that the first question does not pay for it.
            progress.step("preparing the question model (once per model and machine)")
            _ = components.query_embedder
    data = summary.as_dict()
    if as_json:
        _print_json(data)
    else:
        click.echo(safe(terminal.ingest_text(data)))
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
        # Not a count of copies (`stats` has that): an original that became a copy, a copy
        # that became an original, a copy moved to another story each count once.
        click.echo(f"{changed} articles changed wire story group (see `newsdesk stats` for "
                   "the number of copies)")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print as one JSON object.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Show what the store holds: articles, chunks, sources, date range, location, model."""
    components = _components(ctx)
    components.require_store()  # a mistyped --data-dir is said, not created and counted
    data = components.build_desk(lazy=True).stats(ROUTE)
    if as_json:
        _print_json(data)
    else:
        click.echo(terminal.stats_text(data))


@cli.command()
@click.option("--check-only", is_flag=True, help="Report differences; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print as one JSON object.")
@click.pass_context
def doctor(ctx: click.Context, check_only: bool, as_json: bool) -> None:
    """Check this machine's keyword index against the store, and repair it.

    Compares every chunk id, and a hash of the text each was indexed from, with the store;
    re-indexes what differs (a rebuild if the index or its sync state cannot be read) unless
    --check-only. Checks the store's wire-copy lookup (every article's first chunk) likewise.
    Exits 1 if it found damage, 0 if all matched the store.
    """
    components = _components(ctx)
    components.require_store()  # a mistyped --data-dir is said, not created
    found = components.keyword_index.check(repair=not check_only)
    leads_missing, leads_stale = components.store.check_leads(repair=not check_only)
    data = {"chunks": found.chunks, "missing": found.missing, "extra": found.extra,
            "stale": found.stale, "unreadable": found.unreadable,
            "repaired": found.repaired or (not check_only and bool(leads_missing or leads_stale)),
            "leads_missing": leads_missing, "leads_stale": leads_stale,
            "damaged": found.damaged or bool(leads_missing or leads_stale)}
    if as_json:
        _print_json(data)
    else:
        click.echo(safe(terminal.doctor_text(data)))
    ctx.exit(1 if data["damaged"] else 0)


# -- asking -------------------------------------------------------------------------------------


def _request(question: str, k: int | None, sources: tuple[str, ...], since: str | None,
             until: str | None, as_of: str | None, *, name: str = "question",
             explain: bool = False, history: list[tuple[str, str]] | None = None) -> Request:
    """The one request model's checks (bot.app.asking), as every front end makes them."""
    return read_request({"question": question, "k": k, "source": list(sources),
                         "since": since, "until": until, "as_of": as_of, "explain": explain,
                         "history": history or []}, name=name)


def _filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--as-of", "as_of", metavar="DATE",
        help="Read time words in questions (\"last week\", \"in March\") as of this date "
             "instead of today (YYYY-MM-DD), for reproducible runs.")(command)
    command = click.option("--until", help="Only articles published on or before (YYYY-MM-DD "
                                           "or e.g. \"yesterday\").")(command)
    command = click.option("--since", help="Only articles published on or after (YYYY-MM-DD "
                                           "or e.g. \"3 days ago\").")(command)
    command = click.option("--source", "sources", multiple=True,
                           help="Only articles from this source: a source name, or a folder, "
                                "feed or page URL as ingested (repeatable).")(command)
    return click.option("-k", "--k", "k", type=int,
                        help="Passages to retrieve, 1 to 100 (default from settings).")(command)


def _show(answer: Answer, streamed: str | None = None) -> None:
    screen = terminal.answer_screen(answer, streamed)
    click.echo(screen.out)
    if screen.note:
        click.echo(screen.note, err=True)


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
    if jsonl:
        _ask_lines(ctx, explain, k, sources, since, until, as_of)
        return
    if question is None:
        raise click.UsageError("give a QUESTION, or --jsonl to read questions from stdin")
    asked = _request(question, k, sources, since, until, as_of, explain=explain)
    components = _components(ctx)
    _require_articles(components)
    desk = components.build_desk()
    if as_json:
        _print_json(desk.ask(asked, ROUTE).as_dict(explain))
        return
    streaming = components.settings.answer.mode == "llm" and sys.stdout.isatty()
    echo = terminal.StreamEcho()
    answer = desk.ask(asked, ROUTE, on_token=echo if streaming else None)
    _show(answer, echo.text if streaming else None)
    if explain:
        click.echo(terminal.trace_text(answer))


def _require_articles(components: Components) -> None:
    """An empty store (a mistyped --data-dir, no ingest yet) is said at once, with the
    directory read, rather than answered "The articles don't say" after loading a model; a
    directory that does not exist is not created by a question."""
    settings = components.settings
    if (not settings.store.url and not settings.chroma_dir.exists()) or (
            components.store.count() == 0):
        raise StoreError(f"no articles in the store at {components.settings.data_dir}: ingest "
                         "some first (newsdesk ingest PATH), or point --data-dir or "
                         "NEWSDESK_DATA_DIR at the directory you ingested into")


def _ask_lines(ctx: click.Context, explain: bool, k: int | None, sources: tuple[str, ...],
               since: str | None, until: str | None, as_of: str | None) -> None:
    """`ask --jsonl`: one JSON Answer per stdin line; a bad line gets {"error": …}."""
    _request("(checking the options)", k, sources, since, until, as_of)  # fail once, early
    desk = _components(ctx).build_desk()
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            fields = _jsonl_fields(line)
            asked = _request(fields.get("question", ""), k, sources, since, until, as_of,
                             explain=explain, history=fields.get("history"))
        except RequestError as exc:
            _print_json({"error": f"line {number}: {exc}"})
            continue
        _print_json(desk.ask(asked, ROUTE).as_dict(explain=explain))
        sys.stdout.flush()


def _jsonl_fields(line: str) -> dict[str, Any]:
    """A line of `ask --jsonl`: plain text, or {"question": …, "history": […]}."""
    text = line.strip()
    if not text.startswith("{"):
        return {"question": text}
    try:
        data = json.loads(text)
    except ValueError:
        raise RequestError("line", "is not valid JSON") from None
    if not isinstance(data, dict):
        raise RequestError("line", "must be text or {\"question\": …, \"history\": […]}")
    if unknown := sorted(set(data) - {"question", "history"}):
        # k, source, since… apply to every line: they are the command's options
        raise RequestError(unknown[0], "is not a field of a line (a line has \"question\" "
                                       "and \"history\"; give k, source, since, until, as_of "
                                       "as options of `ask --jsonl`)")
    return data


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print passages as JSON.")
@_filter_options
@click.pass_context
def search(ctx: click.Context, question: str, as_json: bool, k: int | None,
           sources: tuple[str, ...], since: str | None, until: str | None,
           as_of: str | None) -> None:
    """Show the ranked passages retrieved for QUESTION (its time words set the window)."""
    asked = _request(question, k, sources, since, until, as_of)
    components = _components(ctx)
    components.require_store()  # a mistyped --data-dir is said, not created
    found = components.build_desk().search(asked, ROUTE)
    if as_json:
        _print_json([{"rank": i, **p.as_dict()} for i, p in enumerate(found.passages, start=1)])
        return
    click.echo(terminal.passages_text(found.passages, found.window))


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
    asked = _request(topic, k, sources, since, until, as_of, name="topic")
    components = _components(ctx)
    components.require_store()  # a mistyped --data-dir is said, not created
    answer = components.build_desk().timeline(asked, ROUTE)
    if as_json:
        _print_json(answer.as_dict())
        return
    _show(answer)


@cli.command()
@_filter_options
@click.pass_context
def chat(ctx: click.Context, k: int | None, sources: tuple[str, ...], since: str | None,
         until: str | None, as_of: str | None) -> None:
    """Chat about the articles; follow-up questions use the conversation so far.

    With a pipe on stdin, answers each line in turn and exits at the end of the input:
    `echo "Who won?" | newsdesk chat`. Ctrl-C cancels an answer; at the prompt it quits.
    """
    _request("(checking the options)", k, sources, since, until, as_of)  # fail once, early
    components = _components(ctx)
    _require_articles(components)
    desk = components.build_desk()
    interactive = sys.stdin.isatty()
    if interactive:
        passages = components.store.count()  # count() is cheap; stats() reads every chunk
        click.secho(f"Newsdesk — {passages} passages to search. Ask a question. "
                    f"{terminal.CHAT_HELP}", dim=True)
    history: list[tuple[str, str]] = []
    last: Answer | None = None
    streaming = components.settings.answer.mode == "llm" and sys.stdout.isatty()
    for question in _chat_lines(interactive):
        command = question.lower()
        if command in {"/quit", "/exit", "/q"}:
            return
        if command == "/help":
            click.echo(terminal.CHAT_HELP)
            continue
        if command == "/reset":
            history.clear()
            last = None
            click.secho("(new conversation)", dim=True)
            continue
        if command == "/sources":
            click.echo(terminal.passages_text(last.passages, scores=False, limit=300)
                       if last is not None else "No answer yet.")
            continue
        if terminal.unknown_command(question):
            click.echo(f"Unknown command {question.split()[0]}. {terminal.CHAT_HELP}")
            continue
        if interactive:
            click.secho("newsdesk> ", fg="green", bold=True, nl=False)
        echo = terminal.StreamEcho()
        try:
            asked = _request(question, k, sources, since, until, as_of,
                             history=history[-20:])
            answer = desk.ask(asked, ROUTE, on_token=echo if streaming else None)
        except KeyboardInterrupt:
            click.secho("\n(cancelled)", dim=True)
            continue
        except NewsdeskError as exc:
            click.secho(safe(f"\nSorry, that failed: {exc}"), fg="red")
            continue
        last = answer
        _show(answer, echo.text if streaming else None)
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
    desk = _components(ctx).build_desk()
    ks = sorted({x for x in (1, 5, 10, k) if x <= k})
    scores = []
    with terminal.Progress("Evaluating") as (on_total, on_advance):
        on_total(len(items))
        for item in items:
            moment = (datetime.combine(item.as_of, datetime.min.time(), tzinfo=UTC)
                      if item.as_of else None)
            asked = Request(question=item.question, history=tuple(item.history), k=k,
                            as_of=moment)
            answer = desk.ask(asked, "eval")
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
    else:
        click.echo(terminal.eval_table(summary))


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


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON lines.")
@click.pass_context
def feedback(ctx: click.Context, as_json: bool) -> None:
    """List the 👍/👎 votes given to answers in Slack and on the web page."""
    components = _components(ctx)
    data_dir = components.settings.data_dir
    if not data_dir.exists():  # a mistyped --data-dir is said, not created
        raise StoreError(f"no data directory at {data_dir}: point --data-dir or "
                         "NEWSDESK_DATA_DIR at the one the bot answers from")
    votes = components.feedback.votes()
    components.close()
    for vote in votes:
        click.echo(json.dumps(vote, ensure_ascii=False, default=str) if as_json
                   else terminal.vote_line(vote))
    if not votes and not as_json:
        click.echo("No feedback yet.")


from bot.cli.change_commands import changes  # noqa: E402  (commands of their own modules)
from bot.cli.server_commands import mcp, serve, slack  # noqa: E402

cli.add_command(changes)
cli.add_command(watch)
cli.add_command(brief)
cli.add_command(slack)
cli.add_command(serve)
cli.add_command(mcp)


def main() -> None:
    if not isinstance(sys.stdout, terminal.PrintableStream):
        sys.stdout = terminal.PrintableStream(sys.stdout)
    cli(prog_name="newsdesk")


if __name__ == "__main__":
    main()

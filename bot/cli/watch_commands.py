"""The `newsdesk watch` and `newsdesk brief` commands, and how an alert reads in a terminal.

Registered on the CLI with `cli.add_command`; the components come from the CLI's root
context (its lazy `components()`), so these commands build only what they use.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import click

from bot.app.logs import safe

if TYPE_CHECKING:
    from bot.factory import Components
    from retrieval.news.brief import Brief


def _components(ctx: click.Context) -> Components:
    components: Components = ctx.find_root().obj.components()
    return components


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, default=str))


def _source_line(citation: dict[str, Any]) -> str:
    """`[n] Title (source, date) <url>; also ran in: …` from a citation's JSON."""
    details = [d for d in (citation.get("source"), (citation.get("published") or "")[:10])
               if d]
    text = f"[{citation['n']}] {citation.get('title') or citation['article_id']}"
    text += f" ({', '.join(details)})" if details else ""
    text += f" <{citation['url']}>" if citation.get("url") else f" [{citation['article_id']}]"
    also = [r.get("source") or r.get("url") or r["article_id"]
            for r in citation.get("also_ran_in", [])]
    return text + (f"; also ran in: {', '.join(also)}" if also else "")


def alert_lines(alert: dict[str, Any]) -> list[str]:
    """An alert (Alert.as_dict()) as terminal lines: what fired, the answer, its sources."""
    lines = [f"alert ({alert['kind']}) for saved question {alert['watch']}: "
             f"{alert['question']!r}", f"  {alert['answer']}"]
    lines += [f"  what changed: {line}" for line in alert.get("changes", [])]
    lines += [f"    {_source_line(c)}" for c in alert["citations"]]
    return [safe(line) for line in lines]


def echo_alerts(alerts: Iterable[dict[str, Any]]) -> None:
    """Print each alert of an ingest summary (`newsdesk ingest` without --json)."""
    for alert in alerts:
        for line in alert_lines(alert):
            click.echo(line)


@click.group()
def watch() -> None:
    """Saved questions: checked after every ingest against the articles it added or changed.

    An alert is the cited answer, marked new or updated, sent once per story (a wire copy of
    an alerted story is not sent again) and only when the answer changed. `newsdesk ingest`
    prints them (under "alerts" with --json).
    """


@watch.command("add")
@click.argument("question")
@click.option("--channel", help="The Slack channel (or user) to alert; its desk's sources "
                                "apply when --source is not given.")
@click.option("--source", "sources", multiple=True,
              help="Only articles from this source: a source name, or a folder, feed or page "
                   "URL as ingested (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the saved question as JSON.")
@click.pass_context
def watch_add(ctx: click.Context, question: str, channel: str | None,
              sources: tuple[str, ...], as_json: bool) -> None:
    """Save QUESTION: the next ingests alert when a new or updated article answers it."""
    saved = _components(ctx).watch_service.add(
        {"question": question, "channel": channel, "source": list(sources)})
    if as_json:
        _print_json(saved.as_dict())
    else:
        click.echo(safe(f"saved question {saved.id}: {saved.question!r}"))


@watch.command("list")
@click.option("--channel", help="Only this channel's saved questions.")
@click.option("--json", "as_json", is_flag=True, help="Print as one JSON list.")
@click.pass_context
def watch_list(ctx: click.Context, channel: str | None, as_json: bool) -> None:
    """List the saved questions and the answer each last alerted with."""
    saved = _components(ctx).watch_service.list(channel)
    if as_json:
        _print_json([w.as_dict() for w in saved])
        return
    if not saved:
        click.echo("No saved questions.")
    for item in saved:
        where = [f"channel {item.channel}"] if item.channel else []
        where += [f"sources {', '.join(item.sources)}"] if item.sources else []
        click.echo(safe(f"{item.id:4d}  {item.question}"
                        + (f"  ({'; '.join(where)})" if where else "")))
        if item.last_answer:
            click.echo(safe(f"      last alert: {item.last_answer}"))


@watch.command("remove")
@click.argument("watch_id")
@click.pass_context
def watch_remove(ctx: click.Context, watch_id: str) -> None:
    """Delete saved question WATCH_ID (exit 1 if there is none)."""
    if not _components(ctx).watch_service.remove(watch_id):
        click.echo(f"no saved question {watch_id}", err=True)
        ctx.exit(1)
    click.echo(f"removed saved question {watch_id}")


@click.command()
@click.option("--since", default="24h", show_default=True,
              help="The period: a duration back from now (24h, 3d) or a date (YYYY-MM-DD, "
                   "yesterday, \"3 days ago\": from that day on).")
@click.option("--until", help="End of the period (YYYY-MM-DD, that whole day).")
@click.option("--source", "sources", multiple=True,
              help="Only articles from this source (repeatable).")
@click.option("--as-of", "as_of", metavar="DATE",
              help="Read a duration back from this date instead of now (reproducible runs).")
@click.option("--json", "as_json", is_flag=True, help="Print the brief as one JSON object.")
@click.pass_context
def brief(ctx: click.Context, since: str, until: str | None, sources: tuple[str, ...],
          as_of: str | None, as_json: bool) -> None:
    """The stories published in a period, most covered first: wire copies as one story
    ("ran in 3 sources"), each with its lead sentence cited and its date, and a short
    timeline for a story that developed over the period."""
    components = _components(ctx)
    components.require_store()  # a mistyped --data-dir is said, not created
    result = components.watch_service.brief(
        {"since": since, "until": until, "source": list(sources), "as_of": as_of})
    if as_json:
        _print_json(result.as_dict())
        return
    render_brief(result)


def render_brief(result: Brief) -> None:
    click.echo(safe(result.text))
    if result.citations:
        click.echo()
        click.secho("Sources", bold=True)
        for citation in result.citations:
            click.echo(safe(f"  {_source_line(citation.as_dict())}"))

"""`newsdesk changes`: what changed in an article or a story, cited to its versions."""

from __future__ import annotations

import json

import click

from bot.app.asking import read_request
from retrieval.records import Passage

ROUTE = "cli"


@click.command()
@click.argument("target", metavar="ARTICLE_OR_TOPIC")
@click.option("--json", "as_json", is_flag=True,
              help="Print the Answer as JSON, with `article_id` and `changes` (the steps).")
@click.option("--source", "sources", multiple=True,
              help="Look for the story only in this source: a source name, or a folder, feed "
                   "or page URL as ingested (repeatable).")
@click.pass_context
def changes(ctx: click.Context, target: str, as_json: bool, sources: tuple[str, ...]) -> None:
    """Show what changed in ARTICLE_OR_TOPIC (an article id or URL, or a topic: the
    best-matching article with earlier versions kept): correction notes first, then values
    changed, sentences added and removed, each cited to the version it comes from. Chat,
    Slack and the API answer "What changed in the … story?" the same way."""
    asked = read_request({"question": target, "source": list(sources)}, name="target")
    components = ctx.find_root().obj.components()
    components.require_store()  # a mistyped --data-dir is said, not created
    report = components.build_desk().changes(asked, ROUTE)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, default=str))
        return
    answer = report.answer
    click.echo(answer.answer)
    if answer.citations:
        click.echo()
        click.secho("Sources", bold=True)
        for citation in answer.citations:
            click.echo(f"  [{citation.n}] {_describe(citation.passage)}")


def _describe(passage: Passage) -> str:
    """A cited version: "Title (Source, 22 Nov 2026, updated …) <url>", an earlier version
    marked with its number."""
    text = passage.title or passage.article_id
    if passage.details:
        text += f" ({', '.join(passage.details)})"
    text += f" <{passage.url}>" if passage.url else f" [{passage.article_id}]"
    _, _, version = passage.chunk_id.rpartition("@v")
    return text + (f" — earlier version {version}" if version.isdigit() else "")

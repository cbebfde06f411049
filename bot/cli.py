"""The `newsdesk` command line: a thin click layer over the library objects."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from bot.factory import Components
from config import Settings, load_settings
from ingest.errors import NewsdeskError

log = logging.getLogger(__name__)


class NewsdeskGroup(click.Group):
    """Turns project errors into one line on stderr and the error's exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsdeskError as exc:
            click.echo(f"newsdesk: error: {exc}", err=True)
            ctx.exit(exc.exit_code)


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
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("httpx", "chromadb", "sentence_transformers", "transformers", "trafilatura"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.DEBUG if verbose > 1
                                               else logging.WARNING))
    ctx.obj = _LazySettings(config_file, {"data_dir": data_dir})


class _LazySettings:
    """Settings are loaded on first use so `--help` works even with a broken config."""

    def __init__(self, config_file: Path | None, overrides: dict[str, Any]) -> None:
        self._config_file = config_file
        self._overrides = overrides
        self._components: Components | None = None

    def components(self, **more: Any) -> Components:
        if self._components is None:
            settings = load_settings(self._config_file, **self._overrides, **more)
            self._components = Components(settings)
        return self._components

    @property
    def settings(self) -> Settings:
        return self.components().settings


def _components(ctx: click.Context, **overrides: Any) -> Components:
    lazy: _LazySettings = ctx.find_root().obj
    return lazy.components(**overrides)


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, default=str))


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--prune", is_flag=True,
              help="Remove stored articles that are not in the given sources any more.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.pass_context
def ingest(ctx: click.Context, sources: tuple[str, ...], prune: bool, as_json: bool) -> None:
    """Ingest articles from files, directories, URLs and RSS/Atom feeds.

    Re-running is cheap: unchanged articles are skipped, changed ones replaced.
    Exit status: 0 all ingested, 1 some sources failed, 2 usage or configuration error.
    """
    components = _components(ctx)
    ingestor = components.build_ingestor()
    with _Progress("Ingesting") as (on_total, on_advance):
        summary = ingestor.ingest(list(sources), prune=prune, on_total=on_total,
                                  on_advance=on_advance)
    data = summary.as_dict()
    if as_json:
        _print_json(data)
    else:
        click.echo(
            ", ".join(f"{key} {data[key] if isinstance(data[key], int) else len(data[key])}"
                      for key in ("added", "updated", "unchanged", "removed", "duplicates",
                                  "failed", "chunks"))
        )
        for dup in data["duplicates"]:
            click.echo(f"  duplicate: {dup['id']} (same text as {dup['duplicate_of']})")
        for failure in data["failed"]:
            click.echo(f"  failed: {failure['source']}: {failure['reason']}")
    ctx.exit(1 if summary.failed else 0)


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
    click.echo(f"store      {data['store']} (collection {data['collection']})")
    click.echo(f"model      {data['model']}")
    if data["sources"]:
        click.echo("sources")
        for name, count in data["sources"].items():
            click.echo(f"  {count:6d}  {name}")


class _Progress:
    """A rich progress bar on an interactive stderr; silent otherwise."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._bar: Any = None

    def __enter__(self) -> tuple[Callable[[int], None], Callable[[], None]]:
        if not sys.stderr.isatty():
            return (lambda total: None), (lambda: None)
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self._bar = Progress(
            "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
            TimeRemainingColumn(), console=Console(stderr=True), transient=True,
        )
        self._bar.start()
        task = self._bar.add_task(self._label, total=None)
        return (
            lambda total: self._bar.update(task, total=total),
            lambda: self._bar.advance(task),
        )

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def main() -> None:
    cli(prog_name="newsdesk")


if __name__ == "__main__":
    main()

"""The server commands: `newsdesk slack`, `newsdesk serve` and `newsdesk mcp`.

Registered on the CLI with `cli.add_command`; bot/cli/runtime.py runs the servers. The
components come from the CLI's root context (its lazy `components()`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from bot.cli import surface

if TYPE_CHECKING:
    from bot.factory import Components


def _announce(text: str) -> None:
    click.echo(text, err=True)


@click.command()
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
    from bot.app.metrics import Metrics
    from bot.cli import runtime
    from bot.slack.app import slack_tokens

    tokens = slack_tokens(dict(os.environ), socket)  # fail fast, before loading the model
    components: Components = ctx.find_root().obj.components()
    components.require_store(refresh=refresh)
    if tokens.app is not None:
        runtime.run_socket_mode(components, tokens, refresh, _announce)
        return
    metrics = Metrics()
    desk = components.build_desk(metrics, lazy=True)
    bot = components.build_slack_bot(tokens, desk)
    service = components.build_service(api=False, desk=desk, slack=bot, metrics=metrics,
                                       host=host)
    runtime.serve_http(components, service, host, port, refresh, _announce, on_stop=bot.close,
                       slack_client=bot.client)


@click.command(help=surface.serve_help())
@click.option("--host", help="Address to listen on (default from [serve] host: 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535),
              help="Port (default from [serve] port: 8080).")
@click.option("--refresh", is_flag=True,
              help="Also re-ingest the configured [[sources]] on their schedules.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, refresh: bool) -> None:
    from bot.app.metrics import Metrics
    from bot.cli import runtime
    from bot.slack.app import slack_tokens

    components: Components = ctx.find_root().obj.components()
    settings = components.settings.serve
    host = host or settings.host
    port = settings.port if port is None else port
    components.require_api_token(host)  # before the store: the command line's mistake first
    components.require_store(refresh=refresh)
    metrics = Metrics()
    desk = components.build_desk(metrics, lazy=True)
    bot = None
    if os.environ.get("SLACK_BOT_TOKEN"):
        bot = components.build_slack_bot(slack_tokens(dict(os.environ), False), desk)
    service = components.build_service(api=True, desk=desk, slack=bot, metrics=metrics,
                                       host=host)
    runtime.serve_http(components, service, host, port, refresh, _announce,
                       on_stop=bot.close if bot is not None else None,
                       slack_client=bot.client if bot is not None else None)


@click.command(help=surface.mcp_help())
@click.pass_context
def mcp(ctx: click.Context) -> None:
    from bot.cli import runtime

    components: Components = ctx.find_root().obj.components()
    components.require_store()
    runtime.run_mcp_stdio(components)

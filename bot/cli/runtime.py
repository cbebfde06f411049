"""Long-running Newsdesk processes: the HTTP server, Slack's Socket Mode, MCP over stdio, and
the in-process refresh of the configured sources. Signals, threads and shutdown live here;
the click commands in bot/cli/server_commands.py only choose which to run.

Shutdown of the HTTP server (SIGTERM or Ctrl-C), in `serve_http`:
1. drain: new requests get a JSON 503 with Retry-After, /readyz reports "shutting down";
2. the requests in progress get `[serve] shutdown_grace` seconds to finish;
3. abandon: those still waiting get a JSON 503 (an `error` event on a stream);
4. uvicorn stops, the refresh thread and the answer pools are stopped, and the process exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from config import Settings
from config.durations import parse_interval
from config.errors import ConfigError, RequestError
from ingest.model.records import IngestSummary
from ingest.run.schedule import ScheduledSource

if TYPE_CHECKING:
    from bot.factory import Components
    from bot.http.service import Lifecycle, Service
    from bot.slack.app import SlackTokens

log = logging.getLogger(__name__)

ABANDON_SECONDS = 5.0  # after abandoning: time for the 503s to be written before uvicorn stops


def scheduled_sources(settings: Settings, sources: Sequence[str],
                      every: str | None) -> list[ScheduledSource]:
    """The sources to ingest and how often: those given (each `every`), else the settings'
    [[sources]] (each its own refresh, else `every`). RequestError for a bad `every`,
    ConfigError when there is nothing to ingest."""
    try:
        default_every = parse_interval(every)
    except ValueError as exc:
        raise RequestError("--every", str(exc)) from None
    if sources:
        return [ScheduledSource(s, default_every) for s in sources]
    if not settings.sources:
        raise ConfigError("give SOURCES, or list [[sources]] in your settings file")
    return [ScheduledSource(s.location, s.refresh or default_every) for s in settings.sources]


def start_refresh(components: Components, enabled: bool,
                  on_run: Callable[[list[str], IngestSummary], None] | None = None
                  ) -> threading.Event:
    """Run the ingest schedule in a daemon thread of this process; returns its stop event."""
    from ingest.run.refresh import run_schedule

    stop = threading.Event()
    if not enabled:
        return stop
    scheduled = scheduled_sources(components.settings, (), None)
    ingestor = components.build_ingestor()

    def record(due: list[str], summary: IngestSummary) -> None:
        if on_run is not None:
            on_run(due, summary)

    threading.Thread(target=run_schedule, name="newsdesk-refresh", daemon=True,
                     args=(scheduled, ingestor.ingest, stop, record),
                     kwargs={"health": components.refresh_health}).start()
    return stop


def start_briefs(components: Components, client: Any) -> threading.Event:
    """Post each channel's daily brief at its time (`[[slack.desks]] brief`) from a daemon
    thread, through the Slack Web API `client`; returns its stop event."""
    from datetime import UTC, datetime
    from datetime import time as day_time
    from zoneinfo import ZoneInfo

    from bot.slack.brief_schedule import BriefPoster, ChannelBrief
    from bot.slack.watch_blocks import brief_blocks

    stop = threading.Event()
    slack = components.settings.slack
    briefs = [ChannelBrief(c.channel, day_time.fromisoformat(c.brief))
              for c in slack.desks if c.brief]
    if not briefs:
        return stop
    watch_service = components.watch_service

    def compose(channel: str) -> tuple[list[dict[str, Any]], str]:
        return brief_blocks(watch_service.brief({"since": "24h"}, channel))

    poster = BriefPoster(briefs, ZoneInfo(slack.timezone), client, compose, datetime.now(UTC))
    threading.Thread(target=poster.run, args=(stop, lambda: datetime.now(UTC)),
                     name="newsdesk-briefs", daemon=True).start()
    log.info("daily briefs: %s (%s)", ", ".join(f"{d.channel} at {d.at:%H:%M}" for d in briefs),
             slack.timezone)
    return stop


def drain(lifecycle: Lifecycle, grace: float, *, poll: float = 0.05) -> None:
    """Steps 1–3 of the shutdown (see the module docstring); returns when no request is in
    progress, or ABANDON_SECONDS after abandoning those that were."""
    lifecycle.drain()
    deadline = time.monotonic() + grace
    while lifecycle.in_flight and time.monotonic() < deadline:
        time.sleep(poll)
    if not lifecycle.in_flight:
        return
    log.warning("shutting down: %d requests did not finish within %gs; answering them 503",
                lifecycle.in_flight, grace)
    lifecycle.abandon()
    deadline = time.monotonic() + ABANDON_SECONDS
    while lifecycle.in_flight and time.monotonic() < deadline:
        time.sleep(poll)


def serve_http(components: Components, service: Service, host: str, port: int,
               refresh: bool, announce: Callable[[str], None],
               on_stop: Callable[[], None] | None = None, slack_client: Any = None) -> None:
    """Serve `service` until SIGTERM or SIGINT, then shut down as the module docstring says."""
    from bot.http.app import build_app
    from bot.http.server import HttpServer

    server = HttpServer(build_app(service), host, port,
                        components.settings.serve.header_timeout)
    metrics = service.metrics
    stop_refresh = start_refresh(components, refresh,
                                 lambda due, summary: metrics.ingest_run(summary))
    stop_briefs = start_briefs(components, slack_client) if slack_client is not None \
        else threading.Event()
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        server.start()
        announce(f"Newsdesk is listening on http://{host}:{server.port}. Ctrl-C to stop.")
        stopping.wait()
        announce("Stopping: finishing the requests in progress.")
        drain(service.lifecycle, components.settings.serve.shutdown_grace)
    finally:
        server.stop()
        stop_refresh.set()
        stop_briefs.set()
        service.answers.shutdown(wait=False, cancel_futures=True)
        if on_stop is not None:
            on_stop()
        components.close()


def run_socket_mode(components: Components, tokens: SlackTokens, refresh: bool,
                    announce: Callable[[str], None]) -> None:
    """The Slack app over Socket Mode (a websocket to Slack), until Ctrl-C."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app.metrics import Metrics

    metrics = Metrics()
    components.warm_up()  # before the first question
    bot = components.build_slack_bot(tokens, components.build_desk(metrics))
    stop_refresh = start_refresh(components, refresh,
                                 lambda due, summary: metrics.ingest_run(summary))
    stop_briefs = start_briefs(components, bot.client)
    announce("Newsdesk is listening in Socket Mode. Ctrl-C to stop.")
    if tokens.app is None:
        raise ConfigError("Socket Mode needs SLACK_APP_TOKEN")
    try:
        SocketModeHandler(bot.app, tokens.app.get_secret_value(), web_client=bot.client).start()
    finally:
        stop_refresh.set()
        stop_briefs.set()
        bot.close()
        components.close()


def run_mcp_stdio(components: Components) -> None:
    """The MCP tools over stdio, for a local assistant, until its input closes."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.mcp.tools import build_mcp
    from bot.mcp.watch_tools import register_watch_tools

    desk = components.build_desk(None, lazy=True)
    with ThreadPoolExecutor(max_workers=components.settings.serve.answer_workers) as pool:
        server = build_mcp(desk, pool)
        register_watch_tools(server, components.watch_service, pool)
        server.run("stdio")
    components.close()


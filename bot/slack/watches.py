"""Saved questions and the daily brief in Slack: the slash command's sub-commands, and alerts
posted to the channel (or DM) a question was saved in.

    /ask watch Has the ferry strike been called off?    save a question for this channel
    /ask watches                                        this channel's saved questions
    /ask unwatch 3                                      remove one
    /ask brief [24h | 3d | 2026-12-01]                  the brief (a date: that day's)

Replies are Block Kit from bot/slack/watch_blocks.py. A brief is composed in a worker thread after
the command is acknowledged (Slack wants the ack within 3 seconds).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from bot.app.user_values import chat_period
from bot.app.watching import WatchService
from bot.slack.blocks import plain_text
from bot.slack.watch_blocks import (
    alert_blocks,
    brief_blocks,
    refused_text,
    removed_text,
    saved_text,
    watches_blocks,
)
from config.errors import RequestError
from retrieval.news.alerts import Alert

log = logging.getLogger(__name__)

_SUB = re.compile(r"^\s*(watch|watches|unwatch|brief)\b\s*(.*)$", re.IGNORECASE | re.DOTALL)


class Poster(Protocol):
    """What posting an alert needs (slack_sdk's WebClient)."""

    def chat_postMessage(self, *, channel: str, **kwargs: Any) -> Any: ...  # noqa: N802


class SlackWatchCommands:
    """`handle` answers the sub-commands (True when the text was one); `post_alert` is a
    WatchChecker notify step."""

    def __init__(self, watch_service: WatchService, poster: Poster, command: str = "/ask",
                 response_type: str = "in_channel") -> None:
        self._watch_service = watch_service
        self._poster = poster
        self._command = command
        self._response_type = response_type
        self._work = ThreadPoolExecutor(max_workers=1, thread_name_prefix="slack-brief")

    def handle(self, command: dict[str, Any], ack: Callable[..., None],
               respond: Callable[..., Any]) -> bool:
        typed = command.get("text")
        match = _SUB.match(plain_text(typed if isinstance(typed, str) else ""))
        if match is None:
            return False
        verb, rest = match.group(1).lower(), match.group(2).strip()
        channel = command.get("channel_id") or None
        try:
            if verb == "watch":
                saved = self._watch_service.add({"question": rest, "channel": channel})
                ack(text=saved_text(saved, self._command))
            elif verb == "watches":
                blocks, text = watches_blocks(self._watch_service.list(channel), self._command)
                ack(blocks=blocks, text=text)
            elif verb == "unwatch":
                try:
                    removed = self._watch_service.remove(rest, channel)
                except OverflowError:  # a number past any saved question's (SQLite's range)
                    removed = False
                ack(text=removed_text(rest, removed))
            else:
                fields = chat_period(rest)  # "brief 2026-12-01": that day's brief
                ack(text=":newspaper: Composing the brief…")
                self._work.submit(self._brief, fields, channel, respond)
        except RequestError as exc:
            ack(text=refused_text(str(exc)))
        except Exception:  # a reply, never a 500 (the details go to the log)
            log.exception("the %s sub-command failed", verb)
            ack(text="Sorry, that failed; please try again in a moment.")
        return True

    def _brief(self, fields: dict[str, Any], channel: str | None,
               respond: Callable[..., Any]) -> None:
        try:
            blocks, text = brief_blocks(self._watch_service.brief(fields, channel))
        except RequestError as exc:
            blocks, text = [], refused_text(str(exc))
        except Exception:  # never leave the user without a reply
            log.exception("composing a brief failed")
            blocks, text = [], "Sorry, the brief failed; please try again in a moment."
        try:
            respond(blocks=blocks, text=text, response_type=self._response_type,
                    replace_original=False)
        except Exception:  # in a worker: nobody else would see this
            log.exception("could not deliver the brief")

    def post_alert(self, alert: Alert) -> None:
        """Post an alert to the channel its question was saved in (none: not a Slack one)."""
        if not alert.watch.channel:
            return
        blocks, text = alert_blocks(alert)
        self._poster.chat_postMessage(channel=alert.watch.channel, blocks=blocks, text=text,
                                      unfurl_links=False)

    def close(self) -> None:
        self._work.shutdown(wait=False, cancel_futures=True)

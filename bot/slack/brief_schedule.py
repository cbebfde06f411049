"""The daily brief each Slack channel asks for (`[[slack.desks]] brief = "08:00"`): when it is
due (pure), and the loop that posts it (`BriefPoster`, run by bot/cli/runtime.py beside the Slack
app).

A channel's brief is due once per local day, at or after its time in `[slack] timezone`. The day
a brief was posted is kept in memory: a bot started more than `LATE_START` after today's time
does not post today's (a restart at noon would otherwise post a second one).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

LATE_START = timedelta(minutes=10)
CHECK_SECONDS = 30.0


@dataclass(frozen=True)
class ChannelBrief:
    """A channel and its local brief time."""

    channel: str
    at: time


def due(briefs: list[ChannelBrief], now: datetime, zone: ZoneInfo,
        posted: Mapping[str, date]) -> list[str]:
    """The channels whose brief is due at `now` (aware): today's time passed, not posted
    today (local days)."""
    local = now.astimezone(zone)
    return [brief.channel for brief in briefs
            if local.time() >= brief.at and posted.get(brief.channel) != local.date()]


def skipped_at_start(briefs: list[ChannelBrief], started: datetime, zone: ZoneInfo
                     ) -> dict[str, date]:
    """Today's briefs a bot started late should not post (see the module docstring)."""
    local = started.astimezone(zone)
    return {brief.channel: local.date() for brief in briefs
            if local - datetime.combine(local.date(), brief.at, tzinfo=zone) > LATE_START}


class Poster(Protocol):
    def chat_postMessage(self, **kwargs: Any) -> Any: ...  # noqa: N802 (slack_sdk's name)


class BriefPoster:
    """Posts each channel's brief when due: `compose(channel)` gives (blocks, text)."""

    def __init__(self, briefs: list[ChannelBrief], zone: ZoneInfo, client: Poster,
                 compose: Callable[[str], tuple[list[dict[str, Any]], str]],
                 started: datetime) -> None:
        self._briefs = briefs
        self._zone = zone
        self._client = client
        self._compose = compose
        self.posted: dict[str, date] = skipped_at_start(briefs, started, zone)

    def tick(self, now: datetime) -> list[str]:
        """Post what is due at `now`; returns the channels posted to (a failure is logged and
        counted as posted: one brief a day, never a flood of retries)."""
        sent = []
        for channel in due(self._briefs, now, self._zone, self.posted):
            self.posted[channel] = now.astimezone(self._zone).date()
            try:
                blocks, text = self._compose(channel)
                self._client.chat_postMessage(channel=channel, blocks=blocks, text=text)
                sent.append(channel)
            except Exception:
                log.warning("could not post the daily brief to %s", channel, exc_info=True)
        return sent

    def run(self, stop: threading.Event, clock: Callable[[], datetime]) -> None:
        while not stop.wait(CHECK_SECONDS):
            self.tick(clock())

"""Saved questions and the daily brief for every front end (CLI, HTTP, MCP, Slack): what each
receives is read by bot.app.user_values, as a question is (a RequestError naming the field),
and the same records come back (Watch, Brief).
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.app.asking import read_request
from bot.app.briefing import LeadReader, daily_brief
from bot.app.user_values import can_exist, read_brief_period, read_sources, read_watch_number
from bot.app.watches import WatchStore
from config.errors import RequestError
from ingest.text.ids import source_names
from retrieval.news.alerts import Watch
from retrieval.news.brief import Brief

log = logging.getLogger(__name__)

MAX_WATCHES = 100  # saved questions per channel (per data directory for those without one)


class _WatchFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str
    channel: str | None = None
    source: list[str] | str | None = None


class _BriefFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: str | None = None
    until: str | None = None
    source: list[str] | str | None = None
    as_of: str | None = None


def _fields(model: type[BaseModel], data: Mapping[str, Any]) -> Any:
    try:
        return model.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        problem = exc.errors()[0]
        place = ".".join(str(p) for p in problem["loc"]) or "request"
        raise RequestError(place, str(problem["msg"]).lower()) from None


class WatchService:
    """Saved questions (add, list, remove; per channel when one is given) and the brief.
    `channel_sources` maps a Slack channel to its sources ([[slack.desks]]): a question saved
    for a channel without sources of its own is answered from the channel's, as the channel's
    questions are; `store` gives the store when a brief is asked for (nothing is opened
    before)."""

    def __init__(self, watches: WatchStore, store: Callable[[], LeadReader],
                 channel_sources: Mapping[str, Sequence[str]] | None = None) -> None:
        self._watches = watches
        self._store = store
        self._channel_sources = dict(channel_sources or {})

    def add(self, data: Mapping[str, Any]) -> Watch:
        """Save `question` (as `ask` would read it: same limits), for `channel`, restricted
        to `source` (a name, or a list); RequestError when not acceptable."""
        fields: _WatchFields = _fields(_WatchFields, data)
        asked = read_request({"question": fields.question, "source": fields.source})
        channel = (fields.channel or "").strip() or None
        sources = asked.where.sources
        if not sources and channel is not None:
            sources = source_names(self._channel_sources.get(channel, ()))
        if len(self._watches.list(channel)) >= MAX_WATCHES:
            raise RequestError("question", f"{MAX_WATCHES} questions are saved "
                                           f"{'here' if channel else 'already'}; remove one "
                                           "first")
        saved = self._watches.add(asked.question, channel, sources)
        log.info("saved question %d (channel %s)", saved.id, channel or "-")
        return saved

    def list(self, channel: str | None = None) -> list[Watch]:
        return self._watches.list(channel)

    def alerts(self, channel: str | None = None) -> builtins.list[dict[str, Any]]:
        """The alerts sent for the saved questions, newest first (WatchStore.alerts)."""
        return self._watches.alerts(channel)

    def remove(self, watch_id: Any, channel: str | None = None) -> bool:
        """Delete saved question `watch_id` (only `channel`'s, when given); False if there
        is none. RequestError when `watch_id` is not a number."""
        number = read_watch_number(watch_id)
        if not can_exist(number):
            return False
        return self._watches.remove(number, channel)

    def brief(self, data: Mapping[str, Any], channel: str | None = None) -> Brief:
        """The brief of `since` (a duration back from `as_of` or now, or a date; default
        24h) to `until`, of `source` (else `channel`'s sources, else every article)."""
        fields: _BriefFields = _fields(_BriefFields, data)
        sources = read_sources(fields.source, limit=None)
        if not sources and channel is not None:
            sources = source_names(self._channel_sources.get(channel, ()))
        where = read_brief_period(fields.since, fields.until, sources, fields.as_of)
        return daily_brief(self._store(), where)

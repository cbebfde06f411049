"""The daily brief's schedule (bot/slack/brief_schedule.py): once per local day, at its time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.slack.brief_schedule import BriefPoster, ChannelBrief, due

OSLO = ZoneInfo("Europe/Oslo")
DESKS = [ChannelBrief("C0SPORT", time(8, 0)), ChannelBrief("C0CITY", time(17, 30))]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_brief_is_due_at_its_local_time_once_a_day() -> None:
    # 06:59 UTC is 07:59 in Oslo (winter): not yet; 07:00 UTC is 08:00 there.
    assert due(DESKS, at("2026-12-01T06:59"), OSLO, {}) == []
    assert due(DESKS, at("2026-12-01T07:00"), OSLO, {}) == ["C0SPORT"]
    assert due(DESKS, at("2026-12-01T07:00"), OSLO, {"C0SPORT": date(2026, 12, 1)}) == []
    assert due(DESKS, at("2026-12-01T16:45"), OSLO, {"C0SPORT": date(2026, 12, 1)}) == [
        "C0CITY"]


class FakeClient:
    def __init__(self, fail: bool = False) -> None:
        self.posts: list[dict[str, Any]] = []
        self.fail = fail

    def chat_postMessage(self, **kwargs: Any) -> Any:
        if self.fail:
            raise RuntimeError("channel_not_found")
        self.posts.append(kwargs)


def compose(channel: str) -> tuple[list[dict[str, Any]], str]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": f"brief {channel}"}}], \
        f"brief {channel}"


def test_the_poster_posts_each_desk_once_per_day_and_a_late_start_skips_today() -> None:
    client = FakeClient()
    poster = BriefPoster(DESKS, OSLO, client, compose, started=at("2026-12-01T05:00"))
    assert poster.tick(at("2026-12-01T07:00")) == ["C0SPORT"]
    assert poster.tick(at("2026-12-01T07:01")) == []
    assert poster.tick(at("2026-12-02T07:05")) == ["C0SPORT"]
    assert [p["channel"] for p in client.posts] == ["C0SPORT", "C0SPORT"]
    assert client.posts[0]["text"] == "brief C0SPORT"
    late = BriefPoster(DESKS, OSLO, FakeClient(), compose, started=at("2026-12-01T12:00"))
    assert late.tick(at("2026-12-01T12:00")) == []  # 13:00 in Oslo: today's 08:00 is past
    assert late.tick(at("2026-12-01T16:30")) == ["C0CITY"]


def test_a_failed_post_is_logged_not_retried_all_day() -> None:
    poster = BriefPoster(DESKS, OSLO, FakeClient(fail=True), compose,
                         started=at("2026-12-01T05:00"))
    assert poster.tick(at("2026-12-01T07:00")) == []
    assert poster.posted["C0SPORT"] == date(2026, 12, 1)

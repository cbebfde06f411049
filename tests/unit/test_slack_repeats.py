"""What the Slack app handles once: deliveries and slash commands seen recently, in a bounded
set."""

from __future__ import annotations

import time

from bot.slack.app import _repeat_key, _SeenEvents


def test_seen_keys_expire_and_stay_bounded() -> None:
    seen = _SeenEvents(ttl=0.2, size=3)
    assert seen.first_time("a") and not seen.first_time("a")
    for key in ("b", "c", "d"):  # "a", the oldest, is forgotten to make room
        assert seen.first_time(key)
    assert len(seen._expiry) == 3 and seen.first_time("a")
    time.sleep(0.25)
    assert seen.first_time("d")  # expired
    assert len(seen._expiry) == 1


def test_what_makes_a_delivery_the_same() -> None:
    assert _repeat_key({"event_id": "Ev1", "event": {}}) == "event Ev1"
    command = {"command": "/ask", "trigger_id": "t1", "response_url": "https://r/1"}
    assert _repeat_key(command) == "command t1 https://r/1"
    assert _repeat_key({**command, "response_url": "https://r/2"}) != _repeat_key(command)
    assert _repeat_key({"command": "/ask"}) is None  # nothing to tell two apart by
    # a button click: its trigger id and action time (a second click has its own)
    click = {"type": "block_actions", "trigger_id": "t1", "actions": [{"action_ts": "17.5"}]}
    assert _repeat_key(click) == "action t1 17.5"
    assert _repeat_key({**click, "trigger_id": "t2"}) != _repeat_key(click)
    assert _repeat_key({"type": "block_actions"}) is None
    assert _repeat_key({"event_id": 5}) is None  # malformed: not a string

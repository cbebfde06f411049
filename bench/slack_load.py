"""Slack load benchmark: 200 signed @mention events to the HTTP endpoint at concurrency 8,
answered from a store of the BBC corpus, against a fake Slack Web API on 127.0.0.1.

Reports ack latency p50/p95/max (Slack needs < 3 s), answer latency p50/p95 (event sent to
answer posted) and checks that exactly one answer arrived per question.

    python bench/slack_load.py --data-dir DIR [--events 200] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.request import Request, urlopen

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import SecretStr

from bench.common import SHARED, median, percentile, save, serve_in_thread
from bench.quality import load_questions
from bot.app.metrics import Metrics
from bot.factory import Components
from bot.slack.app import SlackTokens
from config import load_settings
from tests.peers import FakeSlack, mention_event, slack_signature

SECRET = "bench-signing-secret"


def signed(body: str) -> dict[str, str]:
    return {**slack_signature(body, SECRET), "Content-Type": "application/json"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    fake = FakeSlack()
    components = Components(load_settings(data_dir=str(args.data_dir)))
    components.build_engine().ask("warm up")
    tokens = SlackTokens(bot=SecretStr("xoxb-bench"), app=None,
                         signing_secret=SecretStr(SECRET), api_url=fake.api_url)
    metrics = Metrics()
    desk = components.build_desk(metrics)
    bot = components.build_slack_bot(tokens, desk)
    server = serve_in_thread(components, components.build_service(
        api=False, desk=desk, slack=bot, metrics=metrics, host="127.0.0.1"))
    url = f"http://127.0.0.1:{server.port}/slack/events"
    questions = [q.question for q in load_questions(SHARED / "bbc-qa" / "dev.jsonl")]
    sent_at: dict[str, float] = {}

    def send(i: int) -> float:
        ts = f"{2000 + i}.000100"
        body = mention_event(questions[i % len(questions)], ts, f"Ev{i}")
        sent_at[ts] = time.monotonic()
        started = time.perf_counter()
        with urlopen(Request(url, data=body.encode(), headers=signed(body)), timeout=30) as r:
            assert r.status == 200
        return time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        acks = list(pool.map(send, range(args.events)))

    def answered() -> list[tuple[dict[str, object], float]]:
        return [(p, t) for (m, p), t in zip(fake.calls, fake.call_times, strict=True)
                if m == "chat.update"]

    deadline = time.monotonic() + 1800
    while len(answered()) < args.events and time.monotonic() < deadline:
        time.sleep(0.2)
    answers = answered()
    threads = [str(fake.posted[str(p["ts"])]["thread_ts"]) for p, _ in answers]
    latencies = [t - sent_at[thread] for (_, t), thread in zip(answers, threads, strict=True)]
    save("slack_load", {
        "events": args.events,
        "concurrency": args.concurrency,
        "workers": components.settings.slack.workers,
        "ack_ms": {"p50": round(median(acks) * 1000, 1),
                   "p95": round(percentile(acks, 95) * 1000, 1),
                   "max": round(max(acks) * 1000, 1)},
        "answer_s": {"p50": round(median(latencies), 2),
                     "p95": round(percentile(latencies, 95), 2)},
        "answers": len(answers),
        "distinct_threads_answered": len(set(threads)),
        "duplicates": len(threads) - len(set(threads)),
        "placeholders": len(fake.posted),
        "apologies": sum("Sorry" in json.dumps(p) for p, _ in answers),
    })
    server.stop()
    bot.close()
    fake.close()


if __name__ == "__main__":
    main()

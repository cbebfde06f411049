"""Load on `newsdesk serve`: API questions and signed Slack events at the same time, then one
question while hundreds of idle connections are held open.

Phase 1: --questions API questions (POST /api/ask) and as many signed Slack @mentions, mixed,
from --concurrency client threads; reports p50/p95/max of API answer latency and of Slack acks
(Slack needs an ack within 3 s), and checks every event got exactly one answer.
Phase 2: the same API question --repeat times with no other traffic (baseline), then again with
--idle connections open and silent; reports both medians, their ratio, and the server's thread
count (asyncio: idle connections cost no thread).

    python bench/serve_load.py --data-dir DIR [--questions 200] [--concurrency 8] [--idle 300]

DIR must hold a Newsdesk store (e.g. `newsdesk --data-dir DIR ingest ../shared/bench/bbc`).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from pydantic import SecretStr

from bench.common import SHARED, median, percentile, save, serve_in_thread
from bench.quality import load_questions
from bot.app.logs import configure_logging
from bot.app.metrics import Metrics
from bot.factory import Components
from bot.slack.app import SlackTokens
from config import load_settings
from tests.peers import FakeSlack, mention_event, slack_signature

SECRET = "bench-signing-secret"
TOKEN = "bench-api-token-0123456789"


def signed(body: str) -> dict[str, str]:
    return {**slack_signature(body, SECRET), "Content-Type": "application/json"}


def ms(values: list[float]) -> dict[str, float]:
    return {"p50": round(median(values) * 1000, 1), "p95": round(percentile(values, 95) * 1000, 1),
            "max": round(max(values) * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--idle", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    configure_logging(0)
    os.environ["NEWSDESK_API_TOKEN"] = TOKEN
    fake = FakeSlack()
    components = Components(load_settings(data_dir=str(args.data_dir)))
    components.warm_up()
    metrics = Metrics()
    tokens = SlackTokens(bot=SecretStr("xoxb-bench"), app=None,
                         signing_secret=SecretStr(SECRET), api_url=fake.api_url)
    desk = components.build_desk(metrics)
    bot = components.build_slack_bot(tokens, desk)
    service = components.build_service(api=True, desk=desk, slack=bot, metrics=metrics,
                                       host="127.0.0.1")
    server = serve_in_thread(components, service)
    base = f"http://127.0.0.1:{server.port}"
    questions = [q.question for q in load_questions(SHARED / "bbc-qa" / "dev.jsonl")
                 if not q.history]
    api = httpx.Client(base_url=base, timeout=600, headers={"Authorization": f"Bearer {TOKEN}"},
                       limits=httpx.Limits(max_connections=args.concurrency * 2))

    # -- phase 1: API and Slack together ---------------------------------------------------
    api_latency: list[float] = []
    acks: list[float] = []
    failures: list[str] = []

    def ask(i: int) -> None:
        started = time.perf_counter()
        response = api.post("/api/ask", json={"question": questions[i % len(questions)]})
        if response.status_code != 200:
            failures.append(f"api {response.status_code}")
        api_latency.append(time.perf_counter() - started)

    def mention(i: int) -> None:
        body = mention_event(questions[(i * 7) % len(questions)], f"{5000 + i}.000100",
                             f"Ev{i}")
        started = time.perf_counter()
        response = httpx.post(f"{base}/slack/events", content=body, headers=signed(body),
                              timeout=30)
        if response.status_code != 200:
            failures.append(f"slack {response.status_code}")
        acks.append(time.perf_counter() - started)

    work = [(ask, i) for i in range(args.questions)] + [(mention, i)
                                                         for i in range(args.questions)]
    work.sort(key=lambda item: item[1])  # interleaved: API and Slack arrive together
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        list(pool.map(lambda item: item[0](item[1]), work))
    phase1 = time.perf_counter() - started

    def answered() -> int:
        return sum(1 for m, _ in fake.calls if m == "chat.update")

    deadline = time.monotonic() + 1800
    while answered() < args.questions and time.monotonic() < deadline:
        time.sleep(0.5)
    threads = [str(fake.posted[str(p["ts"])]["thread_ts"]) for m, p in fake.calls
               if m == "chat.update"]

    # -- phase 2: one question with idle connections open -----------------------------------
    question = {"question": questions[0]}

    def one() -> float:
        started = time.perf_counter()
        assert api.post("/api/ask", json=question).status_code == 200
        return time.perf_counter() - started

    baseline = [one() for _ in range(args.repeat)]
    threads_before = threading.active_count()
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(args.idle)]
    time.sleep(0.5)
    with_idle = [one() for _ in range(args.repeat)]
    threads_with_idle = threading.active_count()
    for connection in idle:
        connection.close()

    save("serve_load", {
        "questions": args.questions, "slack_events": args.questions,
        "concurrency": args.concurrency,
        "api_answer_ms": ms(api_latency), "slack_ack_ms": ms(acks),
        "phase1_seconds": round(phase1, 1),
        "slack_answers": len(threads), "slack_duplicates": len(threads) - len(set(threads)),
        "failures": failures,
        "idle_connections": args.idle,
        "question_ms_no_idle": {"p50": round(median(baseline) * 1000, 1)},
        "question_ms_with_idle": {"p50": round(median(with_idle) * 1000, 1),
                                  "max": round(max(with_idle) * 1000, 1)},
        "idle_over_baseline_p50": round(median(with_idle) / median(baseline), 2),
        "process_threads": {"before_idle": threads_before, "with_idle": threads_with_idle},
    })
    api.close()
    server.stop()
    bot.close()
    fake.close()


if __name__ == "__main__":
    main()

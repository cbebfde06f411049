"""News-aware figures on the dated fixture corpus (tests/fixtures/newsroom), read as of
25 Nov 2026: the share of time-bounded questions answered only from articles inside their
window, and of "latest" questions whose first citation is the newest relevant article.

    python -m bench.news [--data-dir DIR]   (a fresh temporary store by default)
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import UTC, datetime

from bench.common import RESULTS, ROOT
from bot.factory import Components
from config.settings import load_settings
from retrieval.answer.evaluation import NewsQuestion, news_check

CORPUS = ROOT / "tests" / "fixtures" / "newsroom"
QUESTIONS = ROOT / "tests" / "fixtures" / "newsroom-questions.jsonl"
AS_OF = datetime(2026, 11, 25, 12, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="newsdesk-news-")
    components = Components(load_settings(data_dir=data_dir))
    components.build_ingestor().ingest([str(CORPUS)])
    engine = components.build_engine()
    questions = [NewsQuestion.model_validate_json(line)
                 for line in QUESTIONS.read_text().splitlines() if line.strip()]
    results: dict[str, list[dict[str, object]]] = {"window": [], "latest": []}
    for question in questions:
        answer = engine.ask(question.question, as_of=AS_OF)
        results[question.kind].append({
            "question": question.question, "ok": news_check(question, answer),
            "window": answer.window.label if answer.window else None,
            "cited": [c.passage.article_id for c in answer.citations],
            "answer": answer.answer})
    report = {kind: {"questions": len(rows), "share": round(
        sum(bool(r["ok"]) for r in rows) / len(rows), 3) if rows else None, "rows": rows}
        for kind, rows in results.items()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "news.json").write_text(json.dumps(report, indent=1))
    for kind, data in report.items():
        print(f"{kind}: {data['share']} of {data['questions']}")
        for row in data["rows"]:  # type: ignore[attr-defined]
            if not row["ok"]:
                print("  FAILED", row["question"], row["window"], row["cited"])


if __name__ == "__main__":
    main()

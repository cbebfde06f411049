"""A bot's keyword replica in a process of its own (its own data dir, as on another machine):
catches up from the store's change log every 0.1 s until the file `stop` exists, once more
after, then writes how its catch-ups went and the chunk ids it holds to `out` (JSON).
Run by test_concurrent_writers."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

from bot.factory import Components
from config import load_settings


def main(stop: Path, out: Path) -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    index = Components(load_settings()).keyword_index
    kinds: list[str] = []
    last = None
    while not stop.exists():
        index.current()
        if index.last_sync is not last and index.last_sync is not None:
            last = index.last_sync
            kinds.append(last.kind)
        time.sleep(0.1)
    index.current()
    out.write_text(json.dumps({"syncs": kinds, "ids": index.current().ids()}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

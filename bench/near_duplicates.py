"""Wire copies on a real corpus: how many near-duplicate groups each method finds, and what
it costs. Reads an ingested store (first chunks, their vectors and texts); no re-embedding.

Methods compared, all on the first chunk of each article (what ingest compares):
- exact: every pair's shingle resemblance (an inverted index over shingles); the reference.
- ingest: what `newsdesk ingest` does — the 3 nearest earlier first chunks by embedding, then
  the shingle resemblance, in ingest order.
- minhash: datasketch MinHash LSH (128 permutations) at the same threshold.

    python -m bench.near_duplicates --data-dir /tmp/bbcstore [--sample 30]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np

from bench.common import RESULTS
from bot.factory import Components
from config.settings import load_settings
from ingest.near_duplicates import RESEMBLANCE, Lead, copy_group, resemblance, shingles


def groups_of(pairs: Iterable[tuple[int, int]], n: int) -> list[list[int]]:
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        parent[find(a)] = find(b)
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        members[find(i)].append(i)
    return sorted((m for m in members.values() if len(m) > 1), key=lambda m: m[0])


def exact_pairs(sets: list[frozenset[int]], threshold: float) -> list[tuple[int, int, float]]:
    postings: dict[int, list[int]] = defaultdict(list)
    for i, shingle_set in enumerate(sets):
        for shingle in shingle_set:
            postings[shingle].append(i)
    pairs = []
    for i, shingle_set in enumerate(sets):
        shared: Counter[int] = Counter()
        for shingle in shingle_set:
            shared.update(j for j in postings[shingle] if j > i)
        for j, common in shared.items():
            score = common / (len(shingle_set) + len(sets[j]) - common)
            if score >= threshold:
                pairs.append((i, j, score))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--sample", type=int, default=30)
    args = parser.parse_args()
    settings = load_settings(data_dir=args.data_dir)
    stored = sorted(Components(settings).store.leads(), key=lambda lead: lead[0].id)
    ids = [chunk.meta.article_id for chunk, _ in stored]
    texts = [chunk.text for chunk, _ in stored]
    titles = [chunk.meta.title for chunk, _ in stored]
    vectors = np.asarray([vector for _, vector in stored], dtype=np.float32)
    n = len(ids)
    report: dict[str, Any] = {"articles": n, "threshold": RESEMBLANCE}

    started = time.perf_counter()
    sets = [shingles(t) for t in texts]
    near = exact_pairs(sets, 0.3)  # the histogram shows what lies around the threshold
    exact = [(a, b, s) for a, b, s in near if s >= RESEMBLANCE]
    report["exact"] = {"pairs": len(exact), "seconds": round(time.perf_counter() - started, 2)}

    started = time.perf_counter()
    ingest_pairs = []
    leads = [Lead(ids[i], ids[i], texts[i]) for i in range(n)]
    for i in range(1, n):
        similar = vectors[:i] @ vectors[i]
        nearest = np.argsort(-similar)[:3]
        group = copy_group(leads[i], [leads[j] for j in nearest])
        if group is not None:
            j = ids.index(group)
            ingest_pairs.append((j, i))
            leads[i] = Lead(ids[i], group, texts[i])
    report["ingest"] = {"pairs": len(ingest_pairs),
                        "seconds": round(time.perf_counter() - started, 2)}

    from datasketch import MinHash, MinHashLSH
    started = time.perf_counter()
    lsh = MinHashLSH(threshold=RESEMBLANCE, num_perm=128)
    hashes = []
    for i, text in enumerate(texts):
        minhash = MinHash(num_perm=128)
        for word_gram in _grams(text):
            minhash.update(word_gram.encode())
        hashes.append(minhash)
        lsh.insert(str(i), minhash)
    minhash_pairs = {(min(i, int(j)), max(i, int(j))) for i, m in enumerate(hashes)
                     for j in lsh.query(m) if int(j) != i
                     and m.jaccard(hashes[int(j)]) >= RESEMBLANCE}
    report["minhash"] = {"pairs": len(minhash_pairs),
                         "seconds": round(time.perf_counter() - started, 2)}

    reference = groups_of(((a, b) for a, b, _ in exact), n)
    found = groups_of(ingest_pairs, n)
    hashed = groups_of(minhash_pairs, n)
    reference_pairs = {(a, b) for a, b, _ in exact}
    report["groups"] = {"exact": len(reference), "ingest": len(found), "minhash": len(hashed)}
    report["articles_in_groups"] = {"exact": sum(map(len, reference)),
                                    "ingest": sum(map(len, found)),
                                    "minhash": sum(map(len, hashed))}
    covered = {frozenset(g) for g in found}
    report["ingest_groups_equal_to_exact"] = sum(frozenset(g) in covered for g in reference)
    report["minhash_pair_recall"] = round(
        len(minhash_pairs & reference_pairs) / len(reference_pairs), 3) if reference_pairs else 1
    report["resemblance_histogram"] = _histogram([s for _, _, s in near])
    sample = random.Random(7).sample(found, min(args.sample, len(found)))
    report["sample"] = [[{"id": ids[i], "title": titles[i],
                          "start": " ".join(texts[i].split()[:40]),
                          "resemblance_to_first": round(resemblance(sets[g[0]], sets[i]), 3)}
                         for i in g] for g in sample]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "near_duplicates.json").write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k != "sample"}, indent=1))


def _grams(text: str) -> list[str]:
    words = re.findall(r"\w+", text.lower())
    return [" ".join(words[i:i + 4]) for i in range(max(1, len(words) - 3))]


def _histogram(scores: list[float]) -> dict[str, int]:
    bins: Counter[str] = Counter(f"{int(s * 10) / 10:.1f}" for s in scores)
    return dict(sorted(bins.items()))


if __name__ == "__main__":
    main()

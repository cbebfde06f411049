"""The reader's training data: mined negatives and folds (bench/train_reader.py)."""
from __future__ import annotations

from collections.abc import Sequence

from bench.train_reader import BM25, Article, label, make_folds, mined_negatives
from retrieval.answer.reader import ReaderInput, Reading


class WordReader:
    """A fake reader: P(answer) is the share of the question's words a sentence holds."""

    def read(self, question: str, candidates: Sequence[ReaderInput]) -> list[Reading]:
        words = {w.strip("?.,").lower() for w in question.split()}
        return [Reading(len(words & {w.strip(".,").lower() for w in c.sentence.split()})
                        / len(words), None, 0.0) for c in candidates]

    def no_answer(self, readings: Sequence[Reading]) -> float:
        return 1.0 - max(r.p_answer for r in readings)


ARTICLES = {
    "a.txt": Article("a.txt", "Bridge reopens", [
        "Bridge reopens", "The harbour bridge reopened on 3 May.",
        "The harbour bridge closed in February for repairs.",
        "Repairs to the harbour bridge cost 4 million.", "Ferries ran meanwhile."]),
    "b.txt": Article("b.txt", "Tunnel plan", [
        "Tunnel plan", "A tunnel under the harbour was proposed in 2019.",
        "The harbour tunnel would reopen the old line."]),
}


def _setup(items: list[dict[str, object]]):  # type: ignore[no-untyped-def]
    keys = [(d, i) for d, a in ARTICLES.items() for i in range(len(a.sentences))]
    bm25 = BM25([ARTICLES[d].sentences[i] for d, i in keys])
    return [label(item, ARTICLES) for item in items], bm25, keys


def test_the_negatives_are_what_the_reader_scores_highest_without_the_answer() -> None:
    questions, bm25, keys = _setup([{
        "id": "q1", "type": "factoid", "question": "When did the harbour bridge reopen?",
        "answer": "3 May", "evidence": [{"doc": "a.txt",
                                         "quote": "The harbour bridge reopened on 3 May."}]}])
    mined = mined_negatives(questions, ARTICLES, bm25, keys, set(ARTICLES), WordReader(),
                            per_question=2)
    sentences = [e.candidate.sentence for e in mined]
    # the closure and the cost share the question's words; the answer's sentence is no negative
    assert sentences == ["The harbour bridge closed in February for repairs.",
                         "Repairs to the harbour bridge cost 4 million."]
    assert all(e.label == 0 and e.span is None for e in mined)


def test_an_unanswerable_question_gets_one_negative_more_and_only_allowed_articles() -> None:
    questions, bm25, keys = _setup([{
        "id": "q2", "type": "unanswerable", "question": "When will the harbour tunnel open?",
        "answer": "", "evidence": []}])
    mined = mined_negatives(questions, ARTICLES, bm25, keys, {"b.txt"}, WordReader(),
                            per_question=2)
    assert len(mined) == 3
    assert {e.candidate.sentence for e in mined} <= set(ARTICLES["b.txt"].sentences)


def test_candidates_the_reader_already_rejects_teach_nothing() -> None:
    questions, bm25, keys = _setup([{
        "id": "q3", "type": "factoid", "question": "Who painted the mural?",
        "answer": "Ana", "evidence": [{"doc": "a.txt", "quote": "Ferries ran meanwhile."}]}])
    assert mined_negatives(questions, ARTICLES, bm25, keys, set(ARTICLES), WordReader(),
                           floor=0.5) == []


def test_a_soup_averages_the_weights_and_keeps_integer_buffers() -> None:
    import torch

    from bench.train_reader import averaged

    first = {"w": torch.tensor([1.0, 3.0]), "ids": torch.tensor([0, 1])}
    second = {"w": torch.tensor([3.0, 5.0]), "ids": torch.tensor([0, 1])}
    soup = averaged([first, second])
    assert torch.equal(soup["w"], torch.tensor([2.0, 4.0]))
    assert soup["ids"].dtype == torch.int64 and torch.equal(soup["ids"], first["ids"])


def test_later_rounds_join_their_articles_fold_and_never_the_held_out_one() -> None:
    def item(number: str, doc: str) -> dict[str, object]:
        return {"id": number, "type": "factoid", "question": "When did the bridge reopen?",
                "answer": "3 May", "evidence": [{"doc": doc, "quote": "reopened on 3 May."}]}

    first = [item(f"b00-{n}", "a.txt") for n in range(3)] + [item("b00-9", "b.txt")]
    later = [item("r2a-0001", "b.txt"), item("r3c-0001", "b.txt"),
             *(item(f"r3c-{n:04}", f"new-{n}.txt") for n in range(2, 40))]
    questions = [label(i, ARTICLES) for i in first + later]
    folds = make_folds(questions, {"a.txt"}, seed=13)
    # a.txt holds a dev article: its group is fold 5 (index 4); b.txt is dealt elsewhere
    assert folds[:3] == [4, 4, 4] and folds[3] != 4
    assert folds[4] == folds[5] == folds[3]  # rounds 2 and 3 join b.txt's fold
    assert 4 not in folds[6:] and len(set(folds[6:])) == 4  # new articles: folds 1-4 only

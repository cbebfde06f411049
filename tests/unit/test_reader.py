"""The reader's pre- and post-processing on small fakes (no model is loaded)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tokenizers import Tokenizer, models, pre_tokenizers

from retrieval.answer.reader import (
    Budgets,
    PairEncoder,
    Reader,
    ReaderInput,
    ReaderProtocol,
    Reading,
    decode_span,
    length_batches,
    no_answer_probability,
    pad_batch,
    readings_from_outputs,
    span_text,
)

WORDS = ("[PAD] [UNK] [CLS] [SEP] | where did the helicopter crash crashed in calabasas on "
         "sunday . it was foggy police said a b c d e f g").split()


def tiny_tokenizer() -> Any:
    vocab = {word: number for number, word in enumerate(WORDS)}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.normalizer = None
    return tokenizer


def lower(text: str) -> str:
    return text.lower()


class LoweringTokenizer:
    """WordLevel on lower-cased text with the original offsets (as BERT's uncased one)."""

    def __init__(self) -> None:
        self.inner = tiny_tokenizer()

    def no_padding(self) -> None:
        self.inner.no_padding()

    def no_truncation(self) -> None:
        self.inner.no_truncation()

    def token_to_id(self, token: str) -> int | None:
        return self.inner.token_to_id(token)

    def encode_batch(self, texts: list[str], add_special_tokens: bool = True) -> list[Any]:
        return self.inner.encode_batch([lower(t) for t in texts],
                                       add_special_tokens=add_special_tokens)


SENTENCE = "The helicopter crashed in Calabasas on Sunday."


def test_decode_span_stays_inside_the_sentence_and_takes_the_best_pair() -> None:
    offsets = [(0, 3), (4, 14), (15, 22), (23, 25), (26, 35), (36, 38), (39, 45), (45, 46)]
    starts = np.full(len(offsets), -5.0)
    ends = np.full(len(offsets), -5.0)
    starts[4], ends[4] = 6.0, 6.0  # "Calabasas"
    span, probability = decode_span(starts, ends, offsets, SENTENCE)
    assert span is not None
    assert SENTENCE[span[0]:span[1]] == "Calabasas"
    assert 0.9 < probability <= 1.0


def test_decode_span_never_ends_before_it_starts_and_respects_the_length_cap() -> None:
    offsets = [(i, i + 1) for i in range(0, 20, 2)]
    sentence = " ".join("abcdefghij")
    starts = np.zeros(10)
    ends = np.zeros(10)
    starts[6], ends[2] = 9.0, 9.0  # the best single logits would make end < start
    span, _ = decode_span(starts, ends, offsets, sentence)
    assert span is not None
    assert span[0] < span[1]
    starts = np.zeros(10)
    ends = np.zeros(10)
    starts[0], ends[9] = 9.0, 9.0
    span, _ = decode_span(starts, ends, offsets, sentence, max_tokens=3)
    assert span is not None
    assert (span[1] - span[0] + 1) // 2 <= 3


def test_decode_span_widens_a_word_piece_to_the_whole_word() -> None:
    # "cal" "##abas" "##as": the model may pick only the middle piece
    offsets = [(0, 3), (3, 7), (7, 9)]
    span, _ = decode_span(np.array([0.0, 5.0, 0.0]), np.array([0.0, 5.0, 0.0]), offsets,
                          "Calabasas")
    assert span == (0, 9)


def test_decode_span_of_an_empty_sentence_is_none() -> None:
    assert decode_span(np.zeros(0), np.zeros(0), [], "") == (None, 0.0)


def test_no_answer_is_one_minus_the_best_reading() -> None:
    readings = [Reading(0.2, (0, 1), 0.5), Reading(0.7, None, 0.0)]
    assert no_answer_probability(readings) == pytest.approx(0.3)
    assert no_answer_probability([]) == 1.0


def test_bold_confidence_multiplies_answer_and_span_probability() -> None:
    assert Reading(0.5, (0, 3), 0.4).bold_confidence == pytest.approx(0.2)


def test_length_batches_cover_every_row_once_longest_first() -> None:
    encoder = PairEncoder(LoweringTokenizer())
    rows = encoder.encode("where did the helicopter crash",
                          [ReaderInput("a " * n) for n in (1, 5, 3, 2, 4)])
    batches = length_batches(rows, 2)
    assert sorted(i for batch in batches for i in batch) == [0, 1, 2, 3, 4]
    assert [len(b) for b in batches] == [2, 2, 1]
    assert batches[0][0] == 1  # the longest
    with pytest.raises(ValueError):
        length_batches(rows, 0)


def test_the_pair_marks_the_sentence_between_two_separators() -> None:
    encoder = PairEncoder(LoweringTokenizer())
    candidate = ReaderInput(SENTENCE, previous="It was foggy.", next="Police said.",
                            headline="Helicopter crash", question_context="where did it crash")
    (row,) = encoder.encode("Where did the helicopter crash?", [candidate])
    sep = encoder.sep
    ids = list(row.ids)
    assert ids[0] == encoder.cls
    assert ids[row.sentence_start - 1] == sep
    assert ids[row.sentence_start + len(row.offsets)] == sep
    assert ids[-1] == sep
    kept = [SENTENCE[a:b] for a, b in row.offsets]
    assert kept[4] == "Calabasas"
    first_sep = ids.index(sep)
    assert set(row.type_ids[: first_sep + 1]) == {0}
    assert set(row.type_ids[first_sep + 1:]) == {1}


def test_long_neighbours_are_cut_before_the_sentence() -> None:
    budgets = Budgets(max_length=30, question=5, context=3, sentence=12, headline=4,
                      neighbour=10)
    encoder = PairEncoder(LoweringTokenizer(), budgets)
    long = "a b c d e f g " * 10
    (row,) = encoder.encode("where did the helicopter crash crashed",
                            [ReaderInput(SENTENCE, previous=long, next=long, headline=long)])
    assert len(row.ids) <= 30
    assert len(row.offsets) == 8  # the whole sentence is kept


def test_pad_batch_masks_the_padding() -> None:
    encoder = PairEncoder(LoweringTokenizer())
    rows = encoder.encode("where", [ReaderInput("a b c"), ReaderInput("a")])
    feed = pad_batch(rows)
    assert feed["input_ids"].shape == feed["attention_mask"].shape
    assert feed["attention_mask"][1].sum() == len(rows[1].ids)
    assert feed["input_ids"].dtype == np.int64


def test_readings_from_outputs_decode_within_each_rows_sentence() -> None:
    encoder = PairEncoder(LoweringTokenizer())
    candidates = [ReaderInput("It was foggy."), ReaderInput(SENTENCE)]
    rows = encoder.encode("where did the helicopter crash", candidates)
    width = max(len(r.ids) for r in rows)
    starts = np.zeros((2, width))
    ends = np.zeros((2, width))
    starts[:, 1] = ends[:, 1] = 50.0  # a question token: must never be chosen
    at = rows[1].sentence_start + 4
    starts[1, at] = ends[1, at] = 8.0
    readings = readings_from_outputs(rows, candidates, np.array([-3.0, 3.0]), starts, ends)
    assert readings[0].p_answer < 0.1
    assert readings[1].p_answer > 0.9
    assert span_text(candidates[1], readings[1]) == "Calabasas"
    assert readings[0].span is not None
    assert readings[0].span[1] <= len(candidates[0].sentence)


class FakeSession:
    """Scores a row by how many "calabasas" tokens it holds; spans at the sentence's 5th
    token. Records the batch shapes it saw."""

    def __init__(self, calabasas: int) -> None:
        self.calabasas = calabasas
        self.shapes: list[tuple[int, int]] = []

    def run(self, names: Sequence[str], feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        ids = feed["input_ids"]
        self.shapes.append(ids.shape)
        answer = (ids == self.calabasas).sum(axis=1).astype(np.float32) * 6 - 3
        starts = np.zeros(ids.shape, dtype=np.float32)
        ends = np.zeros(ids.shape, dtype=np.float32)
        starts[ids == self.calabasas] = 9
        ends[ids == self.calabasas] = 9
        return [answer, starts, ends]


def test_reader_batches_and_returns_readings_in_candidate_order(tmp_path: Path) -> None:
    reader = Reader(tmp_path, threads=1, batch_size=2)
    encoder = PairEncoder(LoweringTokenizer())
    session = FakeSession(encoder.tokenizer.token_to_id("calabasas"))
    reader.__dict__["encoder"] = encoder
    reader.__dict__["_session"] = session
    candidates = [ReaderInput("It was foggy."), ReaderInput("Police said."),
                  ReaderInput(SENTENCE), ReaderInput("a b c d e f g a b")]
    readings = reader.read("where did the helicopter crash", candidates)
    assert len(readings) == 4
    best = max(range(4), key=lambda i: readings[i].p_answer)
    assert best == 2
    assert span_text(candidates[2], readings[2]) == "Calabasas"
    assert [shape[0] for shape in session.shapes] == [2, 2]
    assert reader.last_cost.candidates == 4
    assert reader.last_cost.batches == 2
    assert reader.no_answer(readings) == pytest.approx(1 - readings[2].p_answer)
    assert reader.read("where", []) == []


def test_a_fake_satisfies_the_protocol() -> None:
    class Fake:
        def read(self, question: str, candidates: Sequence[ReaderInput]) -> list[Reading]:
            return [Reading(0.5, None, 0.0) for _ in candidates]

        def no_answer(self, readings: Sequence[Reading]) -> float:
            return no_answer_probability(readings)

    reader: ReaderProtocol = Fake()
    assert reader.no_answer(reader.read("q", [ReaderInput("s")])) == 0.5


def test_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    reader = Reader(tmp_path)
    with pytest.raises(FileNotFoundError):
        _ = reader._session


@pytest.mark.parametrize(("sentence", "piece", "expected"), [
    ("The ferry leaves at 9 p.m. on Friday.", "p", "p.m."),  # the tokeniser splits "p . m ."
    ("Talks with the U.S. failed.", "S", "U.S."),
    ("Prices rose 3.5 percent.", "5", "3.5"),
    ("It ended. Then more.", "ended", "ended"),  # a sentence's own full stop stays out
])
def test_decode_span_keeps_dotted_words_whole(sentence: str, piece: str, expected: str) -> None:
    at = sentence.index(piece)
    span, _ = decode_span(np.array([5.0]), np.array([5.0]), [(at, at + len(piece))], sentence)
    assert span is not None
    assert sentence[span[0]:span[1]] == expected

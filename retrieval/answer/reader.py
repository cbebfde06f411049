"""The reader: a question-answering model of our own that reads one candidate sentence at a time.

Given a question and candidate sentences (each with its neighbours and its article's headline),
the reader gives, per sentence, P(this sentence answers the question) and the answer's span inside
the sentence, and for the question as a whole a no-answer probability.

The model is all-MiniLM-L6-v2 (Apache-2.0) fine-tuned by `bench/train_reader.py` on our own
question set (bench/reader_questions/), with two heads: a [CLS] head for P(answers) and a
start/end token head for the span. It ships as int8 ONNX with its tokenizer in
`retrieval/answer/reader_model/` (package data; figures, folds and thresholds in its README.md) and
runs
with onnxruntime + tokenizers: no torch, no download.

Input, as one BERT pair of at most `max_length` (160) tokens::

    [CLS] question | earlier question [SEP] headline | previous [SEP] SENTENCE [SEP] next [SEP]

The candidate sentence sits between two [SEP]s; spans are decoded only over its tokens. When
the pair is too long, the neighbours and the headline are cut first (see `budgets`), then the
sentence's tail beyond `sentence_tokens`.

No-answer: `no_answer(readings)` = 1 − max p_answer over the question's candidates (1.0 with no
candidates). The refusal threshold on it and the bold-value threshold on
`bold_confidence` = p_answer × span_probability were chosen out of fold by the training script
and are in `reader_model/reader.json` (`Reader.thresholds`).

Cost: one forward pass per candidate, run in length-sorted batches (`batch_size`); measured
figures in the model card. `Reader.last_cost` holds the last call's candidates and wall time.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

MODEL_DIRECTORY = "reader_model"
MAX_SPAN_TOKENS = 30


@dataclass(frozen=True)
class ReaderInput:
    """One candidate sentence for a question.

    sentence: the candidate (the span is given in its character offsets).
    previous / next: the sentences before and after it in its article ("" at either end).
    headline: its article's headline ("" if none).
    question_context: for a follow-up, the conversation's earlier question (None otherwise).
    """

    sentence: str
    previous: str = ""
    next: str = ""
    headline: str = ""
    question_context: str | None = None


@dataclass(frozen=True)
class Reading:
    """The reader's verdict on one candidate.

    p_answer: probability (0..1) that the sentence answers the question (sigmoid of the [CLS]
      head's logit).
    span: (start, end) character offsets of the answer inside the candidate's `sentence`
      (end exclusive, widened to whole words), or None when the sentence has no tokens.
    span_probability: P(start) × P(end) of that span under the start/end softmaxes taken over
      the sentence's tokens only (0..1; 0.0 when span is None).
    """

    p_answer: float
    span: tuple[int, int] | None
    span_probability: float

    @property
    def bold_confidence(self) -> float:
        """p_answer × span_probability: what the bold-value threshold is set on."""
        return self.p_answer * self.span_probability


@dataclass(frozen=True)
class ReadCost:
    """What one `read` call cost: candidates scored, wall milliseconds, forward batches."""

    candidates: int
    milliseconds: float
    batches: int


class ReaderProtocol(Protocol):
    """What the answer engine needs from a reader (tests pass a fake)."""

    def read(self, question: str, candidates: Sequence[ReaderInput]) -> list[Reading]: ...

    def no_answer(self, readings: Sequence[Reading]) -> float: ...


def no_answer_probability(readings: Sequence[Reading]) -> float:
    """1 − the highest p_answer among a question's readings; 1.0 for none.

    A question is refused when this is ≥ the threshold in reader.json (`no_answer`)."""
    if not readings:
        return 1.0
    return 1.0 - max(reading.p_answer for reading in readings)


# --- encoding (shared with bench/train_reader.py, so training and runtime inputs are equal) ---


@dataclass(frozen=True)
class Budgets:
    """Token limits for the pair's parts (the sentence is kept whole up to `sentence`)."""

    max_length: int = 160
    question: int = 40
    context: int = 20
    sentence: int = 96
    headline: int = 20
    neighbour: int = 32


@dataclass(frozen=True)
class Encoded:
    """One candidate as model input.

    ids / type_ids: token ids and segment ids (0 for the question part, 1 after), length ≤
      max_length. sentence_start: index of the sentence's first token. offsets: (start, end)
      character offsets into the sentence of each of its kept tokens."""

    ids: tuple[int, ...]
    type_ids: tuple[int, ...]
    sentence_start: int
    offsets: tuple[tuple[int, int], ...]


class PairEncoder:
    """Builds the reader's input pairs from a `tokenizers.Tokenizer` (padding and truncation
    turned off here; the parts are cut by `Budgets`)."""

    def __init__(self, tokenizer: Any, budgets: Budgets | None = None) -> None:
        tokenizer.no_padding()
        tokenizer.no_truncation()
        self.tokenizer = tokenizer
        self.budgets = budgets or Budgets()
        self.cls = int(tokenizer.token_to_id("[CLS]"))
        self.sep = int(tokenizer.token_to_id("[SEP]"))
        self.bar = int(tokenizer.token_to_id("|"))
        self.pad = int(tokenizer.token_to_id("[PAD]"))

    def encode(self, question: str, candidates: Sequence[ReaderInput]) -> list[Encoded]:
        texts = [question]
        for candidate in candidates:
            texts.extend((candidate.sentence, candidate.previous, candidate.next,
                          candidate.headline, candidate.question_context or ""))
        unique = list(dict.fromkeys(texts))
        encodings = dict(zip(unique, self.tokenizer.encode_batch(unique,
                                                                 add_special_tokens=False),
                             strict=True))
        q_ids = list(encodings[question].ids)
        return [self._one(q_ids, encodings, candidate) for candidate in candidates]

    def _one(self, q_ids: list[int], encodings: dict[str, Any],
             candidate: ReaderInput) -> Encoded:
        b = self.budgets
        first = q_ids[: b.question]
        if candidate.question_context:
            context = list(encodings[candidate.question_context].ids)[: b.context]
            first = [*first, self.bar, *context]
        sentence = encodings[candidate.sentence]
        # [CLS] first [SEP] headline | prev [SEP] sentence [SEP] next [SEP]: 6 fixed tokens
        s_ids = list(sentence.ids)[: max(1, min(b.sentence, b.max_length - len(first) - 6))]
        s_offsets = tuple((int(o[0]), int(o[1])) for o in sentence.offsets[: len(s_ids)])
        room = b.max_length - len(first) - len(s_ids) - 6
        head = list(encodings[candidate.headline].ids)[: max(0, min(b.headline, room))]
        room -= len(head)
        prev_all = list(encodings[candidate.previous].ids)
        next_all = list(encodings[candidate.next].ids)
        half = max(0, room // 2)
        prev_n = min(len(prev_all), b.neighbour, half)
        next_n = min(len(next_all), b.neighbour, max(0, room - prev_n))
        prev_n = min(len(prev_all), b.neighbour, max(0, room - next_n))
        prev = prev_all[len(prev_all) - prev_n:] if prev_n else []
        nxt = next_all[:next_n]
        second = [*head, self.bar, *prev, self.sep]
        sentence_start = 1 + len(first) + 1 + len(second)
        ids = [self.cls, *first, self.sep, *second, *s_ids, self.sep, *nxt, self.sep]
        type_ids = [0] * (len(first) + 2) + [1] * (len(ids) - len(first) - 2)
        return Encoded(tuple(ids), tuple(type_ids), sentence_start, s_offsets)


def pad_batch(rows: Sequence[Encoded], pad: int = 0) -> dict[str, np.ndarray]:
    """input_ids, attention_mask, token_type_ids as int64 arrays [len(rows), longest row]."""
    width = max(len(row.ids) for row in rows)
    ids = np.full((len(rows), width), pad, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    types = np.zeros((len(rows), width), dtype=np.int64)
    for line, row in enumerate(rows):
        ids[line, : len(row.ids)] = row.ids
        mask[line, : len(row.ids)] = 1
        types[line, : len(row.ids)] = row.type_ids
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def length_batches(rows: Sequence[Encoded], batch_size: int) -> list[list[int]]:
    """Row indexes in batches of ≤ batch_size, longest first (little padding); every index
    appears exactly once."""
    if batch_size < 1:
        raise ValueError("batch_size must be ≥ 1")
    order = sorted(range(len(rows)), key=lambda row: -len(rows[row].ids))
    return [order[start:start + batch_size] for start in range(0, len(order), batch_size)]


def _softmax(values: np.ndarray) -> np.ndarray:
    shifted = np.exp(values - values.max())
    return shifted / shifted.sum()


def decode_span(start_logits: np.ndarray, end_logits: np.ndarray,
                offsets: Sequence[tuple[int, int]], sentence: str,
                max_tokens: int = MAX_SPAN_TOKENS) -> tuple[tuple[int, int] | None, float]:
    """The best answer span inside the sentence and its probability.

    start_logits / end_logits: the model's logits for the sentence's tokens only, shape [n]
    (n = len(offsets)). The span maximises start + end logit with start ≤ end < start +
    max_tokens; its probability is softmax(start)[s] × softmax(end)[e] over those n tokens.
    Returned offsets are characters into `sentence`, widened to whole words. (None, 0.0) when
    the sentence has no tokens."""
    n = len(offsets)
    if n == 0:
        return None, 0.0
    starts = np.asarray(start_logits[:n], dtype=np.float64)
    ends = np.asarray(end_logits[:n], dtype=np.float64)
    pairs = starts[:, None] + ends[None, :]
    index = np.arange(n)
    allowed = (index[None, :] >= index[:, None]) & (index[None, :] < index[:, None] + max_tokens)
    pairs = np.where(allowed, pairs, -np.inf)
    flat = int(np.argmax(pairs))
    s, e = flat // n, flat % n
    probability = float(_softmax(starts)[s] * _softmax(ends)[e])
    return _whole_words(sentence, int(offsets[s][0]), int(offsets[e][1])), probability


def _whole_words(sentence: str, begin: int, finish: int) -> tuple[int, int]:
    """[begin, finish) widened to whole words: through a dot inside a word ("3.5", "p.m")
    and the closing dot of dotted letters ("9 p.m.", "U.S."), which the tokeniser splits."""
    def inside(at: int) -> bool:
        return (sentence[at].isalnum() or (sentence[at] == "." and 0 < at < len(sentence) - 1
                and sentence[at - 1].isalnum() and sentence[at + 1].isalnum()))

    while begin > 0 and inside(begin - 1):
        begin -= 1
    while finish < len(sentence) and inside(finish):
        finish += 1
    if finish < len(sentence) and sentence[finish] == "." and _DOTTED.search(
            sentence[begin:finish]):
        finish += 1
    return begin, finish


# Letters each followed by a dot, the last dot not yet taken: "p.m", "U.S", "K.C".
_DOTTED = re.compile(r"(?:^|[^\w.])(?:[^\W\d_]\.)+[^\W\d_]$")


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    z = math.exp(value)
    return z / (1.0 + z)


def readings_from_outputs(rows: Sequence[Encoded], candidates: Sequence[ReaderInput],
                          answer_logits: np.ndarray, start_logits: np.ndarray,
                          end_logits: np.ndarray) -> list[Reading]:
    """Readings from the model's outputs for rows in input order: answer_logits [B],
    start/end logits [B, T] (T ≥ each row's length)."""
    readings = []
    for row, (encoded, candidate) in enumerate(zip(rows, candidates, strict=True)):
        lo = encoded.sentence_start
        hi = lo + len(encoded.offsets)
        span, probability = decode_span(start_logits[row, lo:hi], end_logits[row, lo:hi],
                                        encoded.offsets, candidate.sentence)
        readings.append(Reading(_sigmoid(float(answer_logits[row])), span, probability))
    return readings


def model_directory() -> Path:
    """The shipped model's folder (package data)."""
    return Path(str(resources.files("retrieval.answer").joinpath(MODEL_DIRECTORY)))


class Reader:
    """The int8 ONNX reader. Loads on first use; `threads` pins onnxruntime's intra-op threads
    (2 by default: this runs beside the rest of the answer engine on small machines).

    Raises FileNotFoundError when the model files are missing (a broken install)."""

    def __init__(self, directory: Path | None = None, threads: int = 2,
                 batch_size: int = 16) -> None:
        self.directory = directory or model_directory()
        self.threads = threads
        self.batch_size = batch_size
        self.last_cost = ReadCost(0, 0.0, 0)

    @cached_property
    def config(self) -> dict[str, Any]:
        """reader.json: budgets, thresholds, figures' provenance."""
        config: dict[str, Any] = json.loads((self.directory / "reader.json").read_text())
        return config

    @property
    def thresholds(self) -> dict[str, float]:
        """{"no_answer": refuse at or above, "bold": show the span at or above
        bold_confidence}; chosen out of fold (see the model card)."""
        return {key: float(value) for key, value in self.config.get("thresholds", {}).items()}

    @cached_property
    def _session(self) -> Any:
        from ingest.embed.onnx_embedder import cpu_session

        return cpu_session(self.directory / "model.onnx", self.threads)

    @cached_property
    def encoder(self) -> PairEncoder:
        from tokenizers import Tokenizer

        budgets = Budgets(**self.config.get("budgets", {}))
        return PairEncoder(Tokenizer.from_file(str(self.directory / "tokenizer.json")), budgets)

    def read(self, question: str, candidates: Sequence[ReaderInput]) -> list[Reading]:
        """One Reading per candidate, in the candidates' order."""
        began = time.perf_counter()
        if not candidates:
            self.last_cost = ReadCost(0, 0.0, 0)
            return []
        rows = self.encoder.encode(question, candidates)
        width = max(len(row.ids) for row in rows)
        answer = np.zeros(len(rows), dtype=np.float32)
        starts = np.zeros((len(rows), width), dtype=np.float32)
        ends = np.zeros((len(rows), width), dtype=np.float32)
        batches = length_batches(rows, self.batch_size)
        for batch in batches:
            feed = pad_batch([rows[i] for i in batch], self.encoder.pad)
            a, s, e = self._session.run(["answer_logit", "start_logits", "end_logits"], feed)
            answer[batch] = a.reshape(-1)
            starts[batch, : s.shape[1]] = s
            ends[batch, : e.shape[1]] = e
        readings = readings_from_outputs(rows, candidates, answer, starts, ends)
        self.last_cost = ReadCost(len(rows), (time.perf_counter() - began) * 1000, len(batches))
        return readings

    def no_answer(self, readings: Sequence[Reading]) -> float:
        """See `no_answer_probability`."""
        return no_answer_probability(readings)



def span_text(candidate: ReaderInput, reading: Reading) -> str:
    """The span's text ("" when there is none)."""
    if reading.span is None:
        return ""
    return candidate.sentence[reading.span[0]: reading.span[1]]

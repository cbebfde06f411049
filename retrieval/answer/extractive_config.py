"""The extractive answerer's settings: the [answer] settings as the answerer takes them, and
the candidates' fixed shape (pure)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from retrieval.answer.ranker import RankerProtocol
from retrieval.answer.reader import ReaderProtocol
from retrieval.answer.scorer import AnswerModel
from retrieval.answer.scoring import AnswerWeights


@dataclass(frozen=True)
class ExtractiveConfig:
    """The [answer] settings (their defaults live there) and the candidates' fixed shape.

    `min_evidence` and `lead_confidence` are probabilities (0..1); 0 means the threshold the
    model was shipped with (chosen out of fold by bench/train_scorer.py)."""

    max_sentences: int
    max_words: int
    min_evidence: float = 0.0
    lead_confidence: float = 0.0
    model: AnswerModel | None = None
    # The conversation's terms weigh this share of their IDF.
    context_term_weight: float = 0.4
    # How many of the best sentences (before similarity) get a semantic similarity score.
    rerank: int = 10
    # A further sentence joins the answer when it covers this share of the question that the
    # ones before it do not and its probability is at least `second_ratio` of the best; or,
    # when the answerer is torn, when its probability is at least `close_ratio` of the best
    # (a reader then sees both candidates: out of fold on the bbc-qa questions, 0.7 raised
    # answers holding the gold from 0.55 to 0.62 for 6 more words on average).
    min_gain: float = 0.2
    second_ratio: float = 0.5
    close_ratio: float = 0.7
    # "Say what is missing": the share of the question's weight its distinguishing words
    # absent from the best sentence's article must carry (see rule_missing).
    missing_share: float = 0.05
    # The latest version wins: a newer article of the same story (sharing this share of its
    # vocabulary with the best sentence's) replaces the best sentence when it scores at
    # least `newer_ratio` of it and gives another value, or the question asks for the latest.
    newer_ratio: float = 0.5
    same_story: float = 0.15
    # ...or at least this share when the question asks for the latest or for the change (0:
    # any article of the story that holds the asked-for kind of value is a version).
    version_ratio: float = 0.0
    # "What's the latest on X?": an earlier sentence of the same article scoring at least
    # this share of the best leads instead (news puts the news first), if it holds a value
    # of the asked-for kind when the question asks for one.
    lead_ratio: float = 0.75
    # The trained answerer: with `ranker`, `reader` and `weights` set, the ranker
    # (retrieval/answer/ranker.py) scores every sentence, the reader (retrieval/answer/reader.py)
    # reads its
    # best `weights.read` for the answer span, and `weights` (retrieval/answer/scoring.py,
    # fitted out of fold by bench/fit_answerer.py) turns both into P(holds the answer), in
    # place of the hand-made sentence and lead models. `no_answer` and `bold` are its
    # thresholds (chosen end to end out of fold by bench/answer_thresholds.py): refuse when
    # 1 − the best probability reaches `no_answer`; show the span in bold when probability ×
    # span probability reaches `bold`.
    reader: ReaderProtocol | None = None
    no_answer: float = 0.5
    bold: float = 0.5
    ranker: RankerProtocol | None = None
    weights: AnswerWeights | None = None
    # The ranker scores at most this many sentences, those sharing most of the question's
    # words with their neighbours and headline (and the top articles' leads): its cost is a
    # forward pass each, and k = 10 passages hold ≈ 190 sentences.
    ranker_candidates: int = 64
    # Whether the trained answerer reads a question (retrieval/question/language.py: its models know
    # English only); a question it does not read is scored by the hand-made model. None: all.
    trained_reads: Callable[[str], bool] | None = None

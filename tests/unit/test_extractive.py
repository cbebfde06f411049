"""Sentence selection and abstention with a small analyzer (no model, no index)."""

from collections.abc import Sequence

from retrieval.answer.compose import compose
from retrieval.answer.extractive import find_evidence
from retrieval.records import Passage
from tests.helpers import Analyzer, extractive_config

BRIDGE = Passage(
    chunk_id="b#0", article_id="b", title="Kestrel bridge reopens", score=1.0,
    text=("The Kestrel bridge reopened on Friday. The repair cost the city 84 million euros. "
          "Engineers replaced all 212 cables. Tolls stay at two euros for cars."),
)
OTHER = Passage(chunk_id="o#0", article_id="o", title="Farm approved", score=0.5,
                text="The council approved a solar farm on Monday by 31 votes to 9.")


def ask(question: str, passages: Sequence[Passage] = (BRIDGE, OTHER),
        **config: float) -> tuple[str, bool]:
    settings = extractive_config(min_evidence=0.3, **config)
    evidence = find_evidence(question, passages, Analyzer(), settings)
    return compose(evidence, settings.max_words), evidence.abstain


def test_picks_the_sentence_that_answers_leads_with_the_value_and_cites_it() -> None:
    text, abstained = ask("How much did the Kestrel bridge repair cost?")
    assert not abstained
    # One sentence answers it: "Tolls stay at two euros" (also an amount) is not added.
    assert text == "84 million euros — The repair cost the city 84 million euros. [1]"


def test_answer_type_steers_to_a_number() -> None:
    text, _ = ask("How many cables were replaced on the Kestrel bridge?")
    assert text == "212 cables — Engineers replaced all 212 cables. [1]"


def test_limits_sentences_and_words() -> None:
    text, _ = ask("Kestrel bridge repair cost cables tolls", max_sentences=2)
    assert text.count("[") <= 2
    short, _ = ask("What did the Kestrel bridge repair involve?", max_words=5)
    assert short.endswith("… [1]") and len(short.split()) == 7


def test_abstains_when_nothing_covers_the_question() -> None:
    text, abstained = ask("Who is the mayor of Lisbon?")
    assert abstained and text == ""


def test_abstains_when_the_asked_for_kind_is_missing() -> None:
    # The passage covers the topic but holds no person's name: no "who" answer to give.
    passage = Passage(chunk_id="x#0", article_id="x", title="Kestrel bridge", score=1.0,
                      text="the kestrel bridge repair was finished on time and on budget.")
    _, abstained = ask("Who finished the Kestrel bridge repair?", [passage])
    assert abstained


def test_threshold_controls_abstention() -> None:
    question = "What did the Kestrel bridge repair cost?"
    assert not find_evidence(question, [BRIDGE], Analyzer(),
                             extractive_config(min_evidence=0.5)).abstain
    assert find_evidence(question, [BRIDGE], Analyzer(),
                         extractive_config(min_evidence=50.0)).abstain


def test_similarity_rerank_can_promote_a_paraphrase() -> None:
    def similarity(query: str, sentences: Sequence[str]) -> list[float]:
        return [5.0 if "Tolls" in s else 0.0 for s in sentences]

    evidence = find_evidence("What will drivers pay on the Kestrel bridge?", [BRIDGE],
                             Analyzer(), extractive_config(min_evidence=0.3), similarity=similarity)
    assert evidence.chosen[0].text.startswith("Tolls stay at two euros")

import pytest

from config.errors import ConfigError
from config.settings import LLMSettings
from retrieval.answer.llm import build_chat_model
from retrieval.answer.prompts import answer_messages, condense_messages, is_abstention
from retrieval.records import Passage


def test_openai_compatible_model_without_key_uses_a_placeholder() -> None:
    model = build_chat_model(
        LLMSettings(model="llama3.1", base_url="http://127.0.0.1:11434/v1"), None)
    assert model.model_name == "llama3.1"  # type: ignore[attr-defined]
    assert "127.0.0.1:11434" in str(model.openai_api_base)  # type: ignore[attr-defined]


def test_anthropic_needs_a_key_and_unknown_providers_are_refused() -> None:
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        build_chat_model(LLMSettings(provider="anthropic", model="claude"), None)
    with pytest.raises(ConfigError, match=r"unknown llm\.provider"):
        build_chat_model(LLMSettings.model_construct(provider="cohere"), "k")


def test_prompts_number_the_passages_and_carry_the_history() -> None:
    passages = [Passage(chunk_id="a#0", article_id="a", title="Bridge", text="It cost 84m.",
                        score=1.0, source="wire")]
    system, human = answer_messages("How much?", passages)
    assert "[1] Bridge (wire)\nIt cost 84m." in human[1]
    assert "[1]" in system[1] and "The articles don't say" in system[1]
    condense = condense_messages("And her?", [("Who scored?", "Kowalski")])
    assert "User: Who scored?\nAssistant: Kowalski" in condense[1][1]
    assert is_abstention("  The articles don't say anything about it.")
    assert not is_abstention("It cost 84m [1].")

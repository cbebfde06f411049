"""LLM answerers through LangChain chat models: OpenAI-compatible endpoints and Anthropic.

Any failure (timeout, connection refused, API error, an answer that cites nothing) falls back to
the extractive answer with a note, so a question always gets a grounded reply.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from config.errors import ConfigError
from config.settings import LLMSettings
from retrieval.answer.answerers import Answerer, Draft, TokenSink
from retrieval.answer.compose import abstention_text
from retrieval.answer.prompts import answer_messages, condense_messages, is_abstention
from retrieval.citations import cited_numbers
from retrieval.question.history import Turn
from retrieval.question.intent import Asked
from retrieval.records import Passage

log = logging.getLogger(__name__)

_ROLES = {"system": SystemMessage, "human": HumanMessage, "ai": AIMessage}


def to_messages(pairs: Sequence[tuple[str, str]]) -> list[BaseMessage]:
    return [_ROLES[role](content=content) for role, content in pairs]


def build_chat_model(llm: LLMSettings, api_key: str | None) -> BaseChatModel:
    """A LangChain chat model for the configured provider; the key is never logged."""
    provider, model, base_url = llm.provider, llm.model, llm.base_url
    temperature, timeout, max_tokens = llm.temperature, llm.timeout, llm.max_tokens
    if provider == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=model,
            base_url=base_url or None,
            # Local servers (Ollama, llama.cpp, vLLM) accept any key; OpenAI itself needs one.
            api_key=api_key or "not-needed",
            temperature=temperature,
            timeout=timeout,
            max_retries=0,
            max_tokens=max_tokens,
        )
    if provider == "anthropic":
        if not api_key:
            raise ConfigError("the anthropic provider needs ANTHROPIC_API_KEY or "
                              "NEWSDESK_LLM_API_KEY in the environment")
        from langchain_anthropic import ChatAnthropic

        kwargs: dict[str, Any] = {"base_url": base_url} if base_url else {}
        return ChatAnthropic(
            model=model, api_key=api_key, temperature=temperature,
            timeout=timeout, max_retries=0, max_tokens=max_tokens, **kwargs,
        )
    raise ConfigError(f"unknown llm.provider {provider!r}; use 'openai' or 'anthropic'")


class LLMAnswerer:
    def __init__(self, model: BaseChatModel, fallback: Answerer, stream: bool = True) -> None:
        self._model = model
        self._fallback = fallback
        self._stream = stream

    def answer(self, asked: Asked, passages: Sequence[Passage],
               on_token: TokenSink | None = None) -> Draft:
        messages = to_messages(answer_messages(asked.text, passages))
        try:
            if on_token is not None and self._stream:
                pieces: list[str] = []
                for chunk in self._model.stream(messages):
                    piece = _text(chunk.content)
                    if piece:
                        pieces.append(piece)
                        on_token(piece)
                text = "".join(pieces)
            else:
                text = _text(self._model.invoke(messages).content)
        except Exception as exc:  # providers raise many types; every one means "fall back"
            log.warning("LLM answer failed, using the extractive answer", exc_info=True)
            return self._fall_back(asked, passages,
                                   f"the language model failed ({_reason(exc)})")
        if is_abstention(text):
            return Draft(abstention_text(passages), abstained=True)
        if not any(1 <= n <= len(passages) for n in cited_numbers(text)):
            return self._fall_back(asked, passages,
                                   "the language model's answer cited no passage")
        return Draft(text.strip(), abstained=False)

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        """A standalone version of a follow-up question; the original if the model fails."""
        try:
            text = _text(self._model.invoke(to_messages(condense_messages(question,
                                                                          history))).content)
        except Exception:  # a failed rewrite must not fail the question
            log.warning("condensing the follow-up failed; searching with history terms",
                        exc_info=True)
            return ""
        return text.strip().strip('"').strip()

    def _fall_back(self, asked: Asked, passages: Sequence[Passage], why: str) -> Draft:
        # as the fallback always has: the question without the one a follow-up follows
        draft = self._fallback.answer(replace(asked, earlier=None), passages)
        return replace(draft, note=f"{why[0].upper()}{why[1:]}; this is the extractive answer.")


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks (Anthropic)
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return str(content)


def _reason(exc: BaseException) -> str:
    name = type(exc).__name__
    return "timed out" if "timeout" in name.lower() else name

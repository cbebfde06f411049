"""Conversation handling for retrieval: is this a follow-up, and what to search for (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence

Turn = tuple[str, str]  # (question, answer)

_ANAPHORA = re.compile(
    r"\b(he|she|it|its|it's|they|them|their|theirs|his|her|hers|him|there|then|"
    r"the (first|second|former|latter|same|other|company|firm|club|team|band|deal|show|film|"
    r"group|player|man|woman))\b"
    # Demonstratives only where they point back ("is that deal", "of those"), not as relative
    # pronouns ("the CD that got ...").
    r"|(^|\b(of|is|was|are|were|about|in|for|does|did|by|from|with|to)\s+)"
    r"(that|this|those|these)\b",
    re.IGNORECASE,
)
_CONTINUATION = re.compile(r"^\s*(and|but|so|also|what about|how about|why|really)\b",
                           re.IGNORECASE)
FOLLOWUP_MAX_WORDS = 5


def is_followup(question: str, history: Sequence[Turn]) -> bool:
    """A question that leans on earlier turns: pronouns, 'and ...', or a very short question."""
    if not history:
        return False
    return bool(
        _ANAPHORA.search(question)
        or _CONTINUATION.search(question)
        or len(question.split()) <= FOLLOWUP_MAX_WORDS
    )


def refers_back(text: str) -> bool:
    """Whether `text` points at something said before ("it", "that deal", "the company")."""
    return bool(_ANAPHORA.search(text))


def conversation_context(question: str, history: Sequence[Turn], turns: int = 2) -> str:
    """The earlier questions and answers a follow-up refers to (most recent last); '' when
    the question stands on its own."""
    if not is_followup(question, history):
        return ""
    recent = history[-turns:]
    return " ".join(f"{q} {a}" for q, a in recent)


def earlier_question(history: Sequence[Turn]) -> str | None:
    """The latest earlier question that stands on its own (no pronoun pointing back, no "and
    ...", over three words): what a follow-up is read with
    ("Who can get a discount?" after "How much will bills rise?" and "Why?" is read with the
    first, not with "Why?"); the latest when every one leans on another; None without any."""
    for question, _ in reversed(history):
        if not (_ANAPHORA.search(question) or _CONTINUATION.search(question)
                or len(question.split()) <= 3):
            return question
    return history[-1][0] if history else None


def search_query(question: str, history: Sequence[Turn]) -> str:
    """What to retrieve with: the question, plus the conversation it follows up on."""
    return with_context(question, conversation_context(question, history))


def with_context(question: str, context: str) -> str:
    """The question, then the conversation context it leans on ('' when none)."""
    return f"{question} {context}".strip() if context else question

"""Prompts for LLM answerers (pure): numbered passages in, `[n]` citations out."""

from __future__ import annotations

from collections.abc import Sequence

from retrieval.question.history import Turn
from retrieval.records import ABSTENTION, Passage

ABSTAIN_PREFIX = ABSTENTION.rstrip(".")

ANSWER_SYSTEM = f"""You answer questions about news articles for a newsroom team.
Use only the numbered passages you are given; never use outside knowledge.
Cite every sentence with the number of the passage that supports it, in square brackets,
like [1] or [2][3]. Only cite passages that really contain the claim.
Answer in at most three short sentences.
Passages carry their publication dates. When passages about the same story disagree (a figure
revised, a toll raised), give the newest passage's value and say "as of <its date>"; mention
the earlier value only if the question asks how it changed.
If the passages do not contain the answer, reply with "{ABSTAIN_PREFIX}." and nothing else."""

CONDENSE_SYSTEM = """Rewrite the user's last question so that it can be understood without the
conversation: replace pronouns and references with what they refer to. Keep it a question.
Reply with the rewritten question only."""


def format_passages(passages: Sequence[Passage]) -> str:
    blocks = []
    for number, passage in enumerate(passages, start=1):
        details = ", ".join(passage.details)
        heading = f"[{number}] {passage.title}" + (f" ({details})" if details else "")
        blocks.append(f"{heading}\n{passage.text}")
    return "\n\n".join(blocks)


def answer_messages(question: str, passages: Sequence[Passage]) -> list[tuple[str, str]]:
    """(role, content) pairs; the adapter turns them into the chat model's message types."""
    user = f"Passages:\n\n{format_passages(passages)}\n\nQuestion: {question}"
    return [("system", ANSWER_SYSTEM), ("human", user)]


def condense_messages(question: str, history: Sequence[Turn]) -> list[tuple[str, str]]:
    conversation = "\n".join(f"User: {q}\nAssistant: {a}" for q, a in history)
    user = f"Conversation:\n{conversation}\n\nLast question: {question}"
    return [("system", CONDENSE_SYSTEM), ("human", user)]


def is_abstention(text: str) -> bool:
    return text.strip().lower().startswith(ABSTAIN_PREFIX.lower())

"""Correction notes in an article's text, in the words newsrooms use for them (pure)."""

from __future__ import annotations

import re

from ingest.text.sentences import split_sentences

# A correction or clarification note, in the words newsrooms use for them.
_CORRECTION = re.compile(
    r"\b(?:an?|the)\s+(?:earlier|previous|original|prior)\s+version\s+of\s+this\s+"
    r"(?:article|story|report|piece)\b"
    r"|\bthis\s+(?:article|story|report|piece)\s+(?:has\s+been|was|is\s+being)\s+"
    r"(?:corrected|amended|clarified)\b"
    r"|\bthis\s+(?:article|story|report|version)\s+(?:corrects|amends)\b"
    r"|^\W*(?:corrections?|clarification)\s*[:\-–—]"
    r"|\bwe\s+(?:regret|apologi[sz]e\s+for)\s+(?:the|this)\s+error\b",
    re.IGNORECASE)


def correction_notes(text: str) -> list[str]:
    """The correction notes in `text`: a sentence in a newsroom's words for one ("An
    earlier version of this article said…", "This article has been corrected", "Correction:
    …"), with the rest of its paragraph when it opens one (the note often goes on to give
    the right value)."""
    notes: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        sentences = _sentences(paragraph)
        for n, sentence in enumerate(sentences):
            if _CORRECTION.search(sentence):
                notes.append(" ".join(sentences[n:]) if n == 0 else sentence)
                if n == 0:
                    break
    return notes


def _sentences(text: str) -> list[str]:
    return [" ".join(text[start:end].split()) for start, end in split_sentences(text)]

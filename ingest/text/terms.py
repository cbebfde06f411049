"""The terms a text is searched by: lower-cased words of two or more characters, English
stop-words removed, Snowball-stemmed. The keyword index stores exactly these terms and the
extractive answerer weighs sentences by them, so both always agree on what a word is."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

from ingest.text.vocabulary import STOPWORDS

_STEMMER = Stemmer.Stemmer("english")
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def analyze(text: str) -> list[str]:
    """Lower-cased, stop-worded, stemmed terms, in text order (repeats kept)."""
    return [_stem(w) for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS]

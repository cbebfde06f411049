"""Which language a question is in, so that only English questions go to the trained answerer.

The ranker and the reader were trained on English questions over English articles
(`bench/reader_questions`); a question in German, French, Spanish, Italian, Dutch or Portuguese
is answered by the hand-made scorer, which reads any language's words. Identified by py3langid
(langid.py's model, shipped inside the package: no download), restricted to those seven
languages; a guess under `SURE` (a name, a few keywords) counts as English.
"""

from __future__ import annotations

import logging
import threading
from functools import cache
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt")
# On full questions the identifier is ≥ 0.97 sure; "Bayern Munich result?" is 0.53 German.
SURE = 0.9
_lock = threading.Lock()


@cache
def _identifier() -> Any:
    from py3langid import langid

    identifier = langid.LanguageIdentifier.from_modelpath(
        Path(langid.__file__).parent / langid.MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def question_language(text: str) -> str:
    """An ISO 639-1 code from LANGUAGES; "en" unless another language is at least SURE."""
    with _lock:  # one model, loaded once (≈ 0.7 s) and shared by the answer threads
        language, probability = _identifier().classify(text)
    return str(language) if probability >= SURE else "en"


def is_english(text: str) -> bool:
    return question_language(text) == "en"

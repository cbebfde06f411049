"""Loads the answer model shipped in the package (retrieval/answer/answer_model.json), once."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from retrieval.answer.scorer import AnswerModel

MODEL_FILE = "answer_model.json"


@cache
def load_packaged() -> AnswerModel:
    """The packaged model; ModelFormatError (a ValueError) when the file is of another
    format, which a broken install or an edit by hand would cause."""
    text = resources.files("retrieval.answer").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return AnswerModel.from_dict(json.loads(text))

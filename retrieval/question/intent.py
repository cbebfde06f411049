"""What a question asks for, read once from its words, its conversation and its time words
(pure): the engine switches on the Intent, the answerer reads its Asked."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.question.history import (
    Turn,
    conversation_context,
    earlier_question,
    refers_back,
    with_context,
)
from retrieval.question.time_window import QuestionTime, TimeWindow
from retrieval.question.two_part import TwoPart, describes_first, split_two_part


@dataclass(frozen=True)
class Asked:
    """One question to answer in its conversation: what retrieval searches for and what the
    answerer reads."""

    text: str
    context: str = ""  # the earlier turns a follow-up leans on; '' when it stands alone
    earlier: str | None = None  # the question a follow-up follows (history.earlier_question)
    two_part: TwoPart | None = None  # asked in two steps: only a question with no history
    described: bool = False  # it describes its subject first (QuestionReading.described)

    @property
    def followup(self) -> bool:
        """Whether it leans on earlier turns (history.is_followup)."""
        return bool(self.context)

    @property
    def search(self) -> str:
        """What to retrieve with: the question, plus the conversation it follows up on."""
        return with_context(self.text, self.context)


def read_asked(text: str, history: Sequence[Turn] = ()) -> Asked:
    """`text` read in its conversation (`history`: earlier turns, oldest first)."""
    context = conversation_context(text, history)
    parts = split_two_part(text)
    return Asked(text, context, earlier_question(history) if context else None,
                 parts if not history else None, describes_first(text, parts))


@dataclass(frozen=True)
class Intent:
    """What a question asks for. `asked` is the question without its time words (what is
    searched and answered), `as_typed` the question whole (answered when no article falls in
    its window); `window` the publication window (--since/--until, else its time words)."""

    question: str
    asked: Asked
    as_typed: Asked
    window: TimeWindow | None = None
    from_words: bool = False  # the question's own time words made the window
    timeline: str | None = None  # the story a timeline is asked of ("it": the last question)
    changes: ChangesQuestion | None = None
    changes_context: str = ""  # the last question, when the changes' topic points back at it
    what_happened: bool = False  # "What happened last week?": the window's stories


def read_intent(question: str, history: Sequence[Turn] = (),
                time: QuestionTime | None = None) -> Intent:
    """`question` read once, with its conversation (`history`) and `time`: the window and the
    question without its time words, as the time reader (or the filter's dates) gave them."""
    asked = time.question if time is not None else question
    # "Timeline of the ferry strike" is a timeline after earlier turns too; "timeline of
    # it" takes its subject from the last question.
    topic = timeline_topic(asked)
    if topic is not None and history and refers_back(topic):
        topic = f"{topic} {history[-1][0]}"
    changes = changes_question(asked)
    # "…in that story?" takes its subject from the last question
    changes_context = (history[-1][0] if changes is not None and history
                       and refers_back(changes.topic) else "")
    reading = read_asked(asked, history)
    return Intent(question=question, asked=reading,
                  as_typed=reading if asked == question else read_asked(question, history),
                  window=time.window if time is not None else None,
                  from_words=asked != question, timeline=topic, changes=changes,
                  changes_context=changes_context, what_happened=asks_what_happened(asked))


# -- the requests a question can make besides a question about the news --------------------

_TIMELINE = re.compile(
    r"^\s*(?:(?:please\s+)?(?:give|show|make|build)\s+(?:me\s+)?|what\s+is\s+|what's\s+)?"
    r"(?:a\s+|the\s+)?(?:timeline|chronology)\s+(?:of|for|on)\s+(?P<a>.+?)\s*[?.!]?\s*$|"
    r"^\s*how\s+(?:did|has|have)\s+(?P<b>.+?)\s+(?:unfold(?:ed)?|develop(?:ed)?|evolve[d]?|"
    r"played\s+out|play\s+out)\s*[?.!]?\s*$", re.IGNORECASE)


def timeline_topic(question: str) -> str | None:
    """"Timeline of the ferry strike" / "How did the ferry strike unfold?" → "the ferry
    strike"; None for any other question."""
    match = _TIMELINE.match(question)
    if match is None:
        return None
    return (match.group("a") or match.group("b")).strip() or None


_STORY_WORDS = r"(?:story|article|report|piece|coverage)"
_ASKED = [
    re.compile(r"^\s*what(?:'s|’s|\s+has|\s+have)?\s+(?:(?:been\s+)?changed|been\s+corrected|"
               r"was\s+corrected|been\s+updated)\s+(?:in|about|on|with)\s+(?P<t>.+?)"
               r"\s*[?.!]?\s*$", re.IGNORECASE),
    re.compile(rf"^\s*what(?:'s|’s|\s+is)\s+(?:new|different)\s+(?:in|about|with)\s+"
               rf"(?P<t>.+?\s+{_STORY_WORDS})\s*[?.!]?\s*$", re.IGNORECASE),
    re.compile(rf"^\s*how\s+(?:has|have|did)\s+(?P<t>.+?\s+{_STORY_WORDS})\s+"
               r"(?:changed|change|been\s+updated|been\s+corrected)\s*[?.!]?\s*$",
               re.IGNORECASE),
    re.compile(r"^\s*(?:(?:show|list|give)\s+(?:me\s+)?)?(?:the\s+|any\s+)?(?:changes|"
               r"corrections|edits|revisions)\s+(?:to|in|of)\s+(?P<t>.+?)\s*[?.!]?\s*$",
               re.IGNORECASE),
    re.compile(rf"^\s*(?:was|has)\s+(?P<t>.+?\s+{_STORY_WORDS})\s+(?:been\s+)?"
               r"(?:corrected|updated|changed)\s*[?.!]?\s*$", re.IGNORECASE),
]
_EXPLICIT = re.compile(rf"\b{_STORY_WORDS}\b|\bcorrect|\bedits\b|\brevisions\b", re.IGNORECASE)


@dataclass(frozen=True)
class ChangesQuestion:
    """A question asking what changed in a story: the story's `topic`, and whether the
    question names a story or a correction outright (`explicit`: "What changed in the ferry
    strike story?") or might ask about the news itself ("What changed in the tax law?")."""

    topic: str
    explicit: bool = False


def changes_question(question: str) -> ChangesQuestion | None:
    """"What changed in the ferry strike story?" → topic "ferry strike" (explicit); "What
    changed in the budget?" → "budget" (not explicit); None for any other question."""
    for pattern in _ASKED:
        match = pattern.match(question)
        if match is None:
            continue
        topic = match.group("t").strip()
        topic = re.sub(rf"\s+{_STORY_WORDS}$", "", topic, flags=re.IGNORECASE)
        topic = re.sub(r"^(?:the|this|that)\s+", "", topic, flags=re.IGNORECASE).strip()
        if topic:
            return ChangesQuestion(topic, bool(_EXPLICIT.search(question)))
    return None


# "What happened?", "What's new?", "Any news?": once its time words are read ("What happened
# last week?"), a question that names no subject asks for the period's stories.
_WHAT_HAPPENED = re.compile(
    r"^\s*(?:so\s+|and\s+)?(?:what(?:'s|\s+is|\s+was|\s+has)?\s+(?:(?:been\s+)?happen(?:ed|ing)|"
    r"new|the\s+news|in\s+the\s+news|going\s+on|went\s+on)|(?:is\s+there\s+)?any(?:thing)?\s+"
    r"(?:news|new)|(?:the\s+)?(?:news|headlines|top\s+stories|main\s+stories))"
    r"(?:\s+(?:in\s+the\s+news|then|there))?\s*[?.!]*\s*$", re.IGNORECASE)


def asks_what_happened(question: str) -> bool:
    """Whether `question` (its time words taken out) asks what happened, naming no subject:
    "What happened?", "What's new?", "Any news?", "Top stories"."""
    return bool(_WHAT_HAPPENED.match(question))

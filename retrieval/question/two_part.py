"""Two-part questions: "The channel where a mother confronted Blair - how many complaints did
it get?" names its subject by a description that one article answers, and asks about it what
another article says (pure).

The question is split into the description, asked first as a question of its own ("Which is
the channel where ...?"), and the main question, asked second with the subject the first
answer names put in place of its pronoun.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.text.vocabulary import POSSESSIVE_PRONOUNS, THIRD_PERSON_PRONOUNS, alternation

_DASH = re.compile(r"\s+[-–—]\s+")
# Who a description names: people by their role, anything else by its name.
_PERSON_HEADS = re.compile(
    r"\b(man|woman|boy|girl|player|forward|striker|winger|keeper|goalkeeper|defender|"
    r"midfielder|captain|coach|manager|boss|singer|star|actor|actress|director|rapper|band "
    r"member|presenter|host|minister|secretary|chancellor|mp|politician|leader|chief|"
    r"executive|chairman|founder|author|writer|comedian|designer|judge|president|king|queen|"
    r"prince|princess|official|spokesman|spokeswoman|driver|rider|runner|athlete|champion|"
    r"who)\b", re.IGNORECASE)
_RELATIVE = re.compile(r"\b(the|a|an) ((?:[\w'’-]+ ){0,3}?[\w'’-]+) (who|whose|which|that|where)\b",
                       re.IGNORECASE)
_PRONOUNS = re.compile(rf"\b{alternation((*THIRD_PERSON_PRONOUNS, 'this', 'that'))}\b",
                       re.IGNORECASE)
_AUXILIARY = re.compile(r"\b(is|was|are|were|does|did|do|will|has|have|had)$", re.IGNORECASE)
# A sentence of context, then the question: "Kasabian are named after a killer's driver.
# Which producer ...?"
_CONTEXT_FIRST = re.compile(r"\w{4,}[.!]\s+[A-Z][^.!?]*\?\s*$|\s[-–—]\s+\w[^-–—]*\?\s*$")


@dataclass(frozen=True)
class TwoPart:
    description: str  # "the TV channel where a mother confronted Tony Blair ..."
    main: str  # "how many complaints did it get over its CSI:NY mailshot?"
    person: bool  # whether the description names a person

    @property
    def subject_question(self) -> str:
        """The description asked on its own."""
        description = self.description.rstrip(" ,;:?")
        description = description[0].lower() + description[1:]
        if not re.match(r"(the|a|an)\b", description, re.IGNORECASE):
            description = f"the {description}"
        return f"{'Who' if self.person else 'Which'} is {description}?"

    def main_about(self, subject: str) -> str:
        """The main question with its pronoun (or the description) replaced by `subject`."""
        def name(match: re.Match[str]) -> str:
            return f"{subject}'s" if match.group().lower() in POSSESSIVE_PRONOUNS else subject

        main, count = _PRONOUNS.subn(name, self.main, count=1)
        if not count:
            main = f"{self.main.rstrip('?')} ({subject})?"
        return main[0].upper() + main[1:]


# "the film named best film at...", "the novel the Bishop of Durham called lousy history".
_NAMED_BY = re.compile(r"\b(?:the|a|an) (?:[\w'’-]+ ){1,4}?(?:named|called|crowned|nominated|"
                       r"dubbed|voted)\b", re.IGNORECASE)


def describes_another(question: str) -> bool:
    """Whether the question singles out its subject by what another report says of it (a
    relative clause, "the X named/called ...", or a fact before a semicolon): "Who directed
    the film that won Paddy Considine best actor?". Broader than split_two_part, which only
    splits what it can ask in two."""
    return bool(_RELATIVE.search(question) or _NAMED_BY.search(question) or ";" in question)


def split_two_part(question: str) -> TwoPart | None:
    """The description and the main question of a two-part question, or None."""
    text = question.strip()
    parts = _DASH.split(text, maxsplit=1)
    if len(parts) == 2:
        description, main = parts
        if len(description.split()) >= 4 and len(main.split()) >= 3 and "?" not in description:
            return TwoPart(description, main, _names_person(description))
        return None
    match = _RELATIVE.search(text)
    if match is None or match.start() == 0 or not text.endswith("?"):
        return None
    before = text[: match.start()].strip()
    clause = text[match.start():].rstrip("?").split()
    # Only "Which night is the singer who directed last year's Meltdown playing?": the
    # subject of an auxiliary, described by a clause that the main verb closes. A clause
    # that describes an object ("Which band made the CD that got ... sued?") is one fact.
    if (len(before.split()) < 2 or len(clause) < 5 or not _AUXILIARY.search(before)
            or not re.search(r"\w(ing|ed)$", clause[-1])):
        return None
    tail = clause.pop()
    description = " ".join(clause)
    pronoun = "he" if _names_person(match.group(2) + " " + match.group(3)) else "it"
    main = f"{before} {pronoun} {tail}".strip() + "?"
    return TwoPart(description, main, pronoun == "he")


def _names_person(description: str) -> bool:
    head = re.split(r"\b(who|whose|which|that|where|with|from|in|at|on)\b", description,
                    maxsplit=1, flags=re.IGNORECASE)
    return bool(_PERSON_HEADS.search(head[0])) or bool(
        re.search(r"\b(who|whose)\b", description, re.IGNORECASE))


def describes_first(question: str, parts: TwoPart | None) -> bool:
    """Whether the question describes its subject before asking about it: a two-part
    question (`parts`, its split_two_part), or a sentence of context then the question."""
    return parts is not None or bool(_CONTEXT_FIRST.search(question))

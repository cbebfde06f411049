"""Wire copies: the same story republished, copied or rewritten in other words (pure).

Candidates come from the store (the nearest stored first chunks by embedding, with their
cosine, which ingest has computed anyway) and from the articles written in the same batch.
The decision reads named features of the two leads (first chunks): the embedding cosine,
the resemblance of their word shingles (Broder's measure), the names and numbers they share,
how alike the titles are, how much of each one's opening (headline and first paragraph) the
other tells, the names each headline gives that the other never mentions, and how many
calendar days apart they ran. Copies share their lead story: two pieces that share a
paragraph further down (two interviews with one paragraph of background, a boxed "what we
know") share shingles, names, numbers and much of their embedding, but not their openings,
and are never copies. Pieces whose lead is all shared background (two interviews with two
candidates of one election, opening on the same paragraphs) are told apart by their
headlines' subjects: a rewrite changes its headline's words, not whom it is about, so when
each headline names people or things the other article never mentions, they are two
stories. Two days of one story are kept apart (a timeline needs both); thresholds are chosen
on a labelled set of pairs (bench/near_duplicates.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from ingest.text.sentences import split_sentences
from ingest.text.vocabulary import NOT_STORY_NAMES

SHINGLE_WORDS = 4
_WORD = re.compile(r"\w+")
# Capitalised words and acronyms (names of people, places, bodies), and numbers as written
# ("1.2", "4,000", "31") — a rewrite keeps them, a follow-up brings new ones.
_NAME = re.compile(r"\b[A-Z][\w'’-]*[\w]|\b[A-Z]\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")
_TITLE_STOP = NOT_STORY_NAMES | frozenset({"s"})
_PARAGRAPH = re.compile(r"\s*\n\s*")
_POSSESSIVE = re.compile(r"['’]s$")
# A headline's name is mentioned by a word beginning with its first letters ("Belgium" by
# "Belgian", "Australia" by "Australian's").
STEM_LETTERS = 5
# An opening is the first paragraph, at most this many sentences of it (a paragraph break
# lost in extraction must not make the whole lead its opening).
OPENING_SENTENCES = 3


@dataclass(frozen=True)
class Lead:
    """The start of an article (its first chunk) as compared for copies; `group` is the id
    of the wire story it belongs to (its own id when it stands alone)."""

    article_id: str
    group: str
    text: str
    published: datetime | None = None
    title: str = ""


@dataclass(frozen=True)
class Features:
    """How alike two leads are. Every share is in [0, 1]; `names`/`numbers` are None when
    either lead has none to compare, `day_gap` (whole calendar days, each article's own
    day) when either is undated."""

    cosine: float
    shingles: float
    names: float | None
    numbers: float | None
    title: float
    day_gap: int | None
    # How much of each lead's opening (headline and first paragraph) the other's headline and
    # lead tell: the lesser of the two shares of content words. None when either has none.
    opening: float | None = None
    # How many names each headline gives that the other's headline and lead never mention
    # (the lesser count of the two); None when either headline gives no names to compare.
    headline_names: int | None = None


@dataclass(frozen=True)
class Thresholds:
    """Where the decision draws its lines (see `is_copy`). The defaults were chosen on the
    labelled pairs of bench/near_duplicates.py — BBC near-duplicates and their hard negatives
    (undated), and invented rewrites with their next-day follow-ups, same-day stories on
    the same event and pieces sharing only a paragraph of background, and two real
    Wikinews interviews whose leads are the same background — which reports precision and
    recall out of fold."""

    # Copies with small edits share most of their word shingles (same day or undated).
    resemblance: float = 0.55
    # A rewrite in other words, the same day: the leads embed close together AND share
    # their names and numbers (another story on the event has other names or numbers).
    # Title similarity is measured but decides nothing: rewritten headlines share few words
    # (0.12-0.57 on the labelled rewrites), two days of one story often keep the headline.
    rewrite_cosine: float = 0.8
    rewrite_names: float = 0.6
    rewrite_numbers: float = 0.8
    # Undated: a rewrite cannot be told from the next day's development by date, only by
    # embedding very close.
    undated_cosine: float = 0.95
    # The next calendar day: a near-verbatim copy, or a rewrite that embeds very close and
    # keeps every name and number (a follow-up brings new numbers).
    next_day_resemblance: float = 0.8
    next_day_cosine: float = 0.85
    next_day_numbers: float = 0.9
    # Whatever else they share, copies tell each other's opening: below this, never a copy
    # (two interviews sharing a paragraph of background tell 0.17-0.2 of each other's).
    opening: float = 0.4
    # Each headline names at least this many people or things the other article's headline
    # and lead never mention: two stories (two interviews with two candidates, their leads
    # all the same background; another paper's rewrite of one interview against the other
    # interview). Rewritten headlines name the same subject in other words: of the 68
    # labelled copies, one headline names one thing the other's lead does not ("CEO" for
    # "chief executive"), one way only. 0: not compared.
    headline_names: int = 1
    # More apart than this: never a copy (a story's developments, or next year's notice).
    max_day_gap: int = 1


THRESHOLDS = Thresholds()


@lru_cache(maxsize=2048)
def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[int]:
    """Hashes of every run of `size` words. Cached: ingest compares each new lead with several
    candidates, and a candidate with several new leads."""
    words = _WORD.findall(text.lower())
    if len(words) < size:
        return frozenset({hash(tuple(words))}) if words else frozenset()
    # The i-th run starts at word i; the shorter, later slices end the runs.
    return frozenset(map(hash, zip(*(words[i:] for i in range(size)), strict=False)))


def resemblance(a: frozenset[int], b: frozenset[int]) -> float:
    """Jaccard similarity of two shingle sets."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@lru_cache(maxsize=2048)
def names(text: str) -> frozenset[str]:
    """Capitalised words that may name someone or something, lower-cased ("US" and "IT"
    are names; "The" and "Us" are not)."""
    return frozenset(word.lower() for word in _NAME.findall(text)
                     if word.lower() not in NOT_STORY_NAMES or (len(word) > 1 and word.isupper()))


@lru_cache(maxsize=2048)
def numbers(text: str) -> frozenset[str]:
    """Numbers as digits, thousands separators dropped ("4,000" → "4000")."""
    return frozenset(number.replace(",", "") if _THOUSANDS.fullmatch(number) else number
                     for number in _NUMBER.findall(text))


def title_words(title: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(title.lower()) if w not in _TITLE_STOP)


def opening(text: str) -> str:
    """The first paragraph of a lead, at most its first OPENING_SENTENCES sentences."""
    first = next((p for p in _PARAGRAPH.split(text.strip()) if p), "")
    spans = split_sentences(first)[:OPENING_SENTENCES]
    return first[:spans[-1][1]] if spans else first


@lru_cache(maxsize=2048)
def content_words(text: str) -> frozenset[str]:
    """The words of `text` that carry its story (lower-cased; function words left out)."""
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _TITLE_STOP)


@lru_cache(maxsize=2048)
def headline_names(title: str) -> frozenset[str]:
    """The names a headline gives, lower-cased and without a possessive's "'s": its
    capitalised words but the first (capitalised by its place). Nothing from a headline in
    title case or capitals (no content word in lower case): its capitals name nothing."""
    if not any(w[0].islower() for w in _WORD.findall(title) if w.lower() not in _TITLE_STOP):
        return frozenset()
    first = _WORD.search(title)
    return frozenset(
        _POSSESSIVE.sub("", match.group().lower()) for match in _NAME.finditer(title)
        if first is None or match.start() != first.start()
        if match.group().lower() not in NOT_STORY_NAMES
        or (len(match.group()) > 1 and match.group().isupper()))


@lru_cache(maxsize=2048)
def words_of(text: str) -> frozenset[str]:
    """Every word of `text`, lower-cased, and the first STEM_LETTERS letters of each longer
    one."""
    words = _WORD.findall(text.lower())
    return frozenset(words) | {w[:STEM_LETTERS] for w in words if len(w) > STEM_LETTERS}


def untold_names(a: Lead, b: Lead) -> int | None:
    """How many of the names `a`'s headline gives `b`'s headline and lead never mention (in
    any case, or by a word of the same first STEM_LETTERS letters; a hyphenated name when
    each of its words is); None when `a`'s headline gives none."""
    given = headline_names(a.title)
    if not given:
        return None
    words = words_of(f"{b.title}\n{b.text}")
    return sum(not all(w in words or w[:STEM_LETTERS] in words for w in _WORD.findall(name))
               for name in given)


def headline_names_untold(a: Lead, b: Lead) -> int | None:
    """How many names each headline gives that the other's headline and lead never mention
    (the lesser count); None when either headline gives none."""
    ab, ba = untold_names(a, b), untold_names(b, a)
    return None if ab is None or ba is None else min(ab, ba)


def told(a: Lead, b: Lead) -> float | None:
    """The share of `a`'s opening (headline and first paragraph) whose content words `b`'s
    headline and lead hold; None when the opening has none."""
    words = content_words(f"{a.title}\n{opening(a.text)}")
    if not words:
        return None
    return len(words & content_words(f"{b.title}\n{b.text}")) / len(words)


def opening_told(a: Lead, b: Lead) -> float | None:
    """How much of each lead's opening the other tells (the lesser); None when either
    opening has no content words."""
    ab, ba = told(a, b), told(b, a)
    return None if ab is None or ba is None else min(ab, ba)


def dice(a: frozenset[str], b: frozenset[str]) -> float | None:
    """Shared share of two sets, 2|A∩B|/(|A|+|B|); None when either is empty."""
    if not a or not b:
        return None
    return 2 * len(a & b) / (len(a) + len(b))


def day_gap(a: datetime | None, b: datetime | None) -> int | None:
    """Calendar days between two publication dates, each on its own day (its own offset)."""
    if a is None or b is None:
        return None
    return abs((a.date() - b.date()).days)


def features(a: Lead, b: Lead, cosine: float) -> Features:
    """The features of one pair; `cosine` is that of the two leads' embeddings."""
    return Features(
        cosine=cosine,
        shingles=resemblance(shingles(a.text), shingles(b.text)),
        names=dice(names(a.text), names(b.text)),
        numbers=dice(numbers(a.text), numbers(b.text)),
        title=dice(title_words(a.title), title_words(b.title)) or 0.0,
        day_gap=day_gap(a.published, b.published),
        opening=opening_told(a, b),
        headline_names=headline_names_untold(a, b),
    )


def is_copy(f: Features, t: Thresholds = THRESHOLDS) -> bool:
    """Whether two leads with these features are one wire story."""
    if f.day_gap is not None and f.day_gap > t.max_day_gap:
        return False
    if f.opening is not None and f.opening < t.opening:
        return False  # they share something, not their lead story
    if (t.headline_names and f.headline_names is not None
            and f.headline_names >= t.headline_names):
        return False  # each is about someone the other never mentions: two stories
    names_kept = (f.names or 0.0) >= t.rewrite_names
    if f.day_gap is not None and f.day_gap > 0:
        return f.shingles >= t.next_day_resemblance or (
            f.cosine >= t.next_day_cosine and names_kept
            and f.numbers is not None and f.numbers >= t.next_day_numbers)
    if f.shingles >= t.resemblance:
        return True
    cosine = t.rewrite_cosine if f.day_gap == 0 else t.undated_cosine
    return (f.cosine >= cosine and names_kept
            and (f.numbers is None or f.numbers >= t.rewrite_numbers))


def copy_group(lead: Lead, candidates: Sequence[tuple[Lead, float]],
               thresholds: Thresholds = THRESHOLDS) -> str | None:
    """The group of the candidate `lead` is a copy of (the closest by embedding), or None.
    `candidates` pairs each candidate with its lead's embedding cosine to `lead`."""
    best: tuple[float, str] | None = None
    for other, cosine in candidates:
        if lead.article_id in (other.article_id, other.group):
            continue  # itself, or a copy of it
        if best is not None and cosine <= best[0]:
            continue
        if is_copy(features(lead, other, cosine), thresholds):
            best = (cosine, other.group)
    return best[1] if best else None

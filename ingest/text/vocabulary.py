"""Every word list the answerer reads questions and sentences by, in one place (pure).

The question-type detector (retrieval.question.answer_types), the span finder
(retrieval.answer.spans), the question reading (retrieval.question.reading), the time-word
rules (retrieval.question.time_window) and the extractive rules all take their lists from here,
so that a currency, a month or a role word
known to one is known to all (tests/unit/test_vocabulary.py checks that detector and span
finder agree on every list). Lists are tuples of lower-case words; `alternation` makes a
regular-expression group of one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
MONTH_ABBREVIATIONS = ("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
                       "nov", "dec")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Words that place a sentence's event relative to its article's date ("yesterday", "on
# Monday"): an answer that depends on them is shown with the article's date.
RELATIVE_DAYS = ("yesterday", "today", "tonight", "tomorrow", "last night", "this morning",
                 "last week", "this week", "next week", "last month", "next month",
                 "last year", "next year")

# Currencies written as words after a number ("5,000 francs"); symbols are in CURRENCY_SIGNS.
CURRENCY_WORDS = ("euro", "euros", "dollar", "dollars", "pound", "pounds", "pence", "cent",
                  "cents", "yen", "yuan", "rupee", "rupees", "franc", "francs", "mark", "marks",
                  "rouble", "roubles", "ruble", "rubles", "krona", "kronor", "krone", "kroner",
                  "won", "peso", "pesos", "rand", "lira", "lire", "shekel", "shekels", "real",
                  "reais", "zloty", "baht", "ringgit", "dinar", "dinars", "dirham", "dirhams",
                  "riyal", "riyals", "naira", "shilling", "shillings", "guilder", "guilders")
CURRENCY_SIGNS = "$£€¥₹₩"
SCALE_WORDS = ("million", "billion", "trillion")
SCALE_ABBREVIATIONS = ("bn", "m", "k")
NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
                "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty", "sixty",
                "seventy", "eighty", "ninety", "hundred", "thousand", "dozen", "half")
# Words before a number that keep it approximate: part of the answer ("about 300").
APPROXIMATORS = ("about", "around", "almost", "nearly", "more than", "over", "some",
                 "close to", "up to", "at least", "fewer than", "less than")

# Roles written before a name ("Striker Nadia Kowalski"): the name alone answers "who".
ROLE_WORDS = ("striker", "goalkeeper", "defender", "midfielder", "captain", "coach", "manager",
              "boss", "mayor", "president", "minister", "chancellor", "chairman",
              "chairwoman", "chief", "executive", "director", "singer", "actor", "actress",
              "secretary", "senator", "judge", "spokesman", "spokeswoman", "officer",
              "inspector", "detective", "analyst", "economist", "professor", "dr", "mr", "mrs",
              "ms", "sir", "lord", "lady", "prime", "home", "foreign", "shadow", "deputy",
              "former", "veteran", "star", "rapper", "guitarist", "drummer", "producer",
              "author", "writer", "presenter", "host", "head", "librarian", "engineer",
              "governor", "general", "tory", "labour", "conservative", "democrat",
              "republican", "liberal", "backbencher", "mp", "new", "acting", "interim",
              "outgoing", "chef", "winger", "forward", "flanker", "fly-half", "scrum-half",
              "full-back")
# Words that make a role a past one: "the ex-minister" is not "the current minister".
FORMER_WORDS = ("former", "ex", "outgoing", "previous", "predecessor", "late", "sacked",
                "ousted", "departed", "resigned")
CURRENT_WORDS = ("current", "currently", "new", "now", "present", "incoming", "successor",
                 "replacement", "took over", "takes over", "replaced", "replaces")

# Questions: words that frame a question rather than name what it is about ("What happened
# with the strike?", "the latest on the budget"). In a small store they are rare, so their
# IDF would otherwise outweigh the words that matter.
FRAMING_WORDS = ("happen", "happened", "happening", "latest", "news", "update", "now",
                 "currently", "current", "still",
                 # The question words themselves: in a small store "what" and "how" are as
                 # rare as the words that matter.
                 "what", "how", "much", "many", "who", "whom", "whose", "when", "where",
                 "which", "why", "did", "does", "do")
# Words that place a question in time ("last week", "in October", "since Monday"): not what
# a story question is about.
WINDOW_WORDS = ("last", "this", "past", "next", "week", "weeks", "weekend", "month", "months",
                "year", "years", "day", "days", "ago", "since", "until", "today", "yesterday",
                "tonight", "morning", "evening", "night", *MONTHS, *WEEKDAYS)
# Asking for the newest state of a story.
LATEST_WORDS = ("latest", "newest", "most recent", "now", "current", "currently", "still",
                "so far", "to date", "as of today", "at the moment", "these days")
# Asking how a value changed: the change is asked about, not a topic word.
CHANGE_WORDS = ("change", "changed", "changes", "revise", "revised", "revision")
# Verbs and nouns of a rise or fall in an amount ("how much did their pay rise?").
RISE_FALL_WORDS = ("rise", "rises", "risen", "rose", "increase", "increased", "go up",
                   "went up", "fall", "fell", "drop", "dropped", "cut", "grow", "grew",
                   "pay rise")
# Cue words of a reason or a purpose, for "why" questions.
REASON_CUES = ("because", "due to", "owing to", "as a result", "result of", "caused by",
               "blamed", "blames", "blaming", "to pay for", "pay for", "pays for", "to fund",
               "in order to", "so that", "reason", "reasons", "led to", "leads to", "to give",
               "to allow", "to ensure", "to avoid", "to cover", "to meet", "to help", "amid",
               "citing", "cited")

# Dimensions a "how ..." question measures, and the units that measure each.
LENGTH_UNITS = ("cm", "mm", "m", "km", "metre", "metres", "meter", "meters", "centimetre",
                "centimetres", "kilometre", "kilometres", "mile", "miles", "feet", "foot",
                "ft", "inches", "inch", "yard", "yards", "storey", "storeys", "floor", "floors")
DURATION_UNITS = ("year", "years", "month", "months", "week", "weeks", "day", "days", "hour",
                  "hours", "minute", "minutes", "second", "seconds", "decade", "decades",
                  "match", "matches", "game", "games", "season", "seasons", "lap", "laps")
AREA_UNITS = ("sq", "square", "acre", "acres", "hectare", "hectares")
AGE_UNITS = ("year", "years", "year-old", "years-old")
WEIGHT_UNITS = ("kg", "g", "kilo", "kilos", "kilogram", "kilograms", "gram", "grams", "tonne",
                "tonnes", "ton", "tons", "pound", "pounds", "lb", "lbs", "stone", "st")
SPEED_UNITS = ("kph", "mph", "km/h", "km/hr", "knots")
DIMENSION_UNITS: dict[str, tuple[str, ...]] = {
    "tall": LENGTH_UNITS, "high": LENGTH_UNITS, "far": LENGTH_UNITS, "deep": LENGTH_UNITS,
    "wide": LENGTH_UNITS, "big": LENGTH_UNITS + AREA_UNITS,
    "large": LENGTH_UNITS + AREA_UNITS, "long": LENGTH_UNITS + DURATION_UNITS,
    "old": AGE_UNITS, "age": AGE_UNITS, "heavy": WEIGHT_UNITS, "weight": WEIGHT_UNITS,
    "fast": SPEED_UNITS,
}

SYNONYMS: dict[str, tuple[str, ...]] = {
    # Stated once, both ways: a question's word and the article's word for the same thing.
    "tory": ("conservative", "conservatives", "tories"),
    "tories": ("conservative", "conservatives", "tory"),
    "conservative": ("tory", "tories"),
    "conservatives": ("tory", "tories"),
    "firm": ("company", "group", "business"),
    "company": ("firm", "group", "business"),
    "us": ("america", "american", "united states"),
    "uk": ("britain", "british", "united kingdom"),
    "britain": ("uk", "british"),
    "america": ("us", "american"),
    "american": ("us", "america", "united states"),
    "british": ("uk", "britain"),
    "film": ("movie",),
    "movie": ("film",),
    "mobile": ("cellphone", "phone"),
    "pc": ("computer",),
    "labour": ("labour party",),
    "boss": ("chief executive", "head", "chairman", "director"),
    "theft": ("stolen", "stole", "steal", "thief", "thieves", "robbery", "burglary"),
    "stolen": ("theft", "stole", "steal", "thief", "thieves"),
    "robbery": ("robbed", "robbers", "stolen", "theft"),
    # who a price or a service is for: "for home users" of a report on "home customers"
    "users": ("customers", "subscribers"),
    "customers": ("users", "subscribers", "clients"),
    "subscribers": ("customers", "users"),
}


def alternation(words: Iterable[str], *, plural_s: bool = False) -> str:
    """A non-capturing regex group matching any of `words` (longest first; spaces match any
    whitespace). `plural_s` adds an optional trailing "s"."""
    ordered = sorted(set(words), key=lambda w: (-len(w), w))
    body = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in ordered)
    return f"(?:{body}){'s?' if plural_s else ''}"


def month_names() -> tuple[str, ...]:
    """Full month names, then their abbreviations."""
    return MONTHS + MONTH_ABBREVIATIONS

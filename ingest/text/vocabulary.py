"""Every word list Newsdesk reads text by, in one place (pure): a currency, a month or a
pronoun known to one reader is known to all (tests/unit/test_vocabulary.py checks that the
question-type detector and the span finder agree). Lists are tuples or frozensets of
lower-case words; `alternation` makes a regular-expression group of one.
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
# The words of a date a user types ("yesterday", "3 weeks ago"): days back from now.
DAYS_BACK = {"today": 0, "yesterday": 1}
DAYS_PER_UNIT = {"day": 1, "week": 7}
# Words that date a sentence by its article ("yesterday", "this week"): such a sentence is
# shown with its article's date. Not RELATIVE_DAYS: merged, answers would be dated differently.
DATED_BY_ARTICLE_WORDS = ("yesterday", "today", "tonight", "tomorrow", "last night",
                          "this morning", "this afternoon", "this evening", "this week",
                          "last week")

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

# The dimension a question measures: "how tall", "what age", "how much weight" (each a key of
# DIMENSION_UNITS).
HOW_DIMENSIONS = ("tall", "high", "long", "far", "big", "heavy", "old", "fast", "large", "deep",
                  "wide")
WHAT_DIMENSIONS = ("age", "weight")

# Number words and their values ("twelve" → 12; "dozen" is 12 too), and the scales after a
# number ("4.5 million").
NUMBER_VALUES: dict[str, int] = {word: n for n, word in enumerate(NUMBER_WORDS[:20], start=1)} | {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "dozen": 12}
SCALE_VALUES: dict[str, float] = {"hundred": 1e2, "thousand": 1e3, "k": 1e3, "million": 1e6,
                                  "m": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12}

# Pronouns that point back to someone or something named before ("he", "its").
THIRD_PERSON_PRONOUNS = ("he", "she", "it", "they", "him", "her", "them", "his", "its", "their")
POSSESSIVE_PRONOUNS = ("his", "its", "their", "her")
# Every pronoun that can stand where a noun would ("the toll for them"): not a thing itself.
PRONOUNS = frozenset("me you him her it us them this that these those his its their one "
                     "ones".split())
DETERMINERS = frozenset("the a an this that its their his her our".split())
# Small words that a title's capitalisation leaves lower-case ("Bank of England").
SMALL_WORDS = frozenset("a an the of in on at to for and or but with by from is".split())

# Capitalised words that are not names. Two lists, on purpose: the span finder's (sentence
# starts, and words never an answer) and the near-duplicate finder's (any capitalised word that
# names nothing); merging them would change answers and which copies count as one story.
NOT_ANSWER_NAMES = frozenset(
    ("the a an in on at for but and or as after before when while if its it this that these "
     "those there he she they we his her their our i mr mrs ms dr meanwhile however also "
     "earlier later last next").split()) | frozenset(WEEKDAYS) | frozenset(MONTHS)
NOT_STORY_NAMES = frozenset("""
a about after again against all also although an and another any are as at be because been
before being both but by can could did do does during each either even every few for from
had has have he her here hers him his how however i if in into is it its just last later
let many may me meanwhile more most mr mrs ms much must my new no nor not now of on once one
only or other our out over own said says she should since so some such than that the their
them then there these they this those though through to too two under until up upon us very
was we were what when where whether which while who whom whose why will with within without
would yet you your
""".split())

# Lucene's English stop-words (the list bm25s and Elasticsearch use): short on purpose, so
# that words such as "not", "no" and numbers stay searchable.
STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
    "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there",
    "these", "they", "this", "to", "was", "will", "with",
))
# Abbreviations whose dot does not end a sentence (English, then German, French, Spanish,
# Italian, Dutch, Portuguese).
ABBREVIATIONS = frozenset(
    (
        "mr mrs ms dr prof sr jr st mt ft gen col lt sgt capt cmdr adm gov sen rep rev hon pres "
        "no nos vs etc inc ltd co corp plc dept univ est approx fig vol jan feb mar apr jun jul "
        "aug sep sept oct nov dec mon tue wed thu fri sat sun e.g i.e u.s u.k u.n a.m p.m "
        "nr bzw ca vgl z.b inkl evtl hr fr mme mlle sra sres sig dott ing dhr mevr sr.a"
    ).split()
)
# Month names of the languages above: "am 19. November", "le 1. mars" — a day's ordinal dot
# before a month never ends a sentence.
MONTHS_IN_LANGUAGES = frozenset((
    "january february march april may june july august september october november december "
    "januar februar märz maerz april mai juni juli august oktober dezember jänner "
    "janvier février fevrier mars avril juin juillet août aout septembre octobre novembre "
    "décembre decembre enero febrero marzo abril mayo junio julio agosto septiembre octubre "
    "noviembre diciembre gennaio febbraio aprile maggio giugno luglio settembre ottobre "
    "dicembre januari februari maart mei augustus janeiro fevereiro março marco maio junho "
    "julho setembro outubro novembro dezembro"
).split())

# Bylines: "By" in English, German, French, Spanish and Portuguese, Italian, Dutch; the
# lower-case words between names ("Ana de la Cruz", "our special correspondent"); the words of
# a byline without names ("By our staff reporter", "By Reuters staff").
BYLINE_BY_WORDS = ("by", "written by", "von", "par", "por", "di", "door")
NAME_PARTICLES = frozenset({
    "de", "da", "di", "du", "del", "della", "der", "den", "van", "von", "le", "la", "bin",
    "bint", "al", "el", "y", "e", "ter", "the", "of", "dos", "das", "our", "a", "special",
    "political", "chief", "senior", "foreign"})
BYLINE_ROLE_WORDS = frozenset({
    "staff", "reporter", "reporters", "correspondent", "correspondents", "writer", "writers",
    "editor", "editors", "desk", "team"})

# Words that end the subject before a value ("the death toll | rose to 5").
VALUE_LINK_WORDS = frozenset((
    "rose rise rises risen climbed climbs fell falls fallen dropped drops jumped jumps grew "
    "grows increased increases decreased decreases reached reaches hit hits stood stands "
    "remains remained totalled totaled totals is was were are has have had now at to from by "
    "in on for will would could may might be been said says put puts after before since as "
    "with about around nearly almost over up down than more less").split())
# Words after a number that are not what it counts ("5 on Saturday", "3 in all").
NOT_COUNTED_WORDS = VALUE_LINK_WORDS | frozenset((
    "and", "or", "of", "per", "percent", "but", "so", "its", "the", "a", "an", "this", "that",
    *MONTHS, *WEEKDAYS, *RELATIVE_DAYS))
# A body's decision, or what someone announced ("what did the council vote on?").
DECISION_VERBS = ("decide", "agree", "vote", "rule", "approve", "announce", "unveil",
                  "propose", "launch")
# Words of a "what about X" / "tell me about X" question: framing, not its topic.
ABOUT_WORDS = ("about", "tell", "anything", "new", "more")
# "close for good", "for now": no thing a price or a count is for; nor is a duration ("What
# injury kept him out for six weeks?" is not refused for an article lacking "weeks").
FOR_IDIOMS = frozenset("good now sure ever once example instance real certain".split()) \
    | frozenset(DURATION_UNITS)

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


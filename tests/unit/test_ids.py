from hypothesis import given
from hypothesis import strategies as st

from ingest.text.ids import canonical_url, chunk_id, normalise_text, text_hash


def test_canonical_url_drops_tracking_fragment_and_default_port() -> None:
    url = "HTTPS://News.Example.org:443/a/b?utm_source=rss&id=7&fbclid=x&b=2#comments"
    assert canonical_url(url) == "https://news.example.org/a/b?b=2&id=7"


def test_canonical_url_keeps_meaningful_query_and_port() -> None:
    assert canonical_url("http://h:8080/p?q=1") == "http://h:8080/p?q=1"
    assert canonical_url("http://h") == "http://h/"


def test_normalise_text_unifies_whitespace_and_paragraphs() -> None:
    raw = "  One\u00a0 two\r\nthree.\r\n\r\n\r\n Four\u200b.  \n\n"
    assert normalise_text(raw) == "One two three.\n\nFour."


def test_text_hash_ignores_case_and_whitespace_but_not_words() -> None:
    assert text_hash("The  cat\nsat.") == text_hash("the cat sat.")
    assert text_hash("The cat sat.") != text_hash("The dog sat.")


def test_chunk_id_is_article_id_plus_index() -> None:
    assert chunk_id("business/001.txt", 3) == "business/001.txt#3"


def test_only_known_tracking_parameters_are_dropped() -> None:
    tracked = ("https://h.example/p?fbclid=a&gclid=b&mc_eid=c&utm_medium=d&_ga=e&msclkid=f"
               "&story=9")
    assert canonical_url(tracked) == "https://h.example/p?story=9"
    # Names that CMSs use for content: two stories must keep two ids.
    for name in ("cid", "ref", "id", "source", "ito", "ocid", "cmpid", "smid", "p"):
        first = canonical_url(f"https://h.example/story.php?{name}=4411")
        second = canonical_url(f"https://h.example/story.php?{name}=4412")
        assert first != second, name


# The straightforward formulations, kept as the specification of the faster ones: stored
# articles are hashed from this text, so any difference would re-embed every article of every
# store at its next ingest.
def _normalise_per_line(text: str) -> str:
    import re
    import unicodedata

    from ingest.text.ids import _continues
    spaces = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[\u200b-\u200d\u2060\ufeff]", "", text)
    text = re.sub(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]", "", text)  # controls are never text
    paragraphs: list[str] = []
    for block in re.split(r"\n\s*\n+", text):
        para = " ".join(spaces.sub(" ", line).strip() for line in block.split("\n"))
        para = spaces.sub(" ", para).strip()
        if not para:
            continue
        if paragraphs and _continues(paragraphs[-1], para):
            paragraphs[-1] = f"{paragraphs[-1]} {para}"
        else:
            paragraphs.append(para)
    return "\n\n".join(paragraphs)


def _strip_markdown_always(text: str) -> str:
    from ingest.sources.parse import _MD_EMPHASIS, _MD_HEADING, _MD_IMAGE, _MD_LINK
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(lambda m: m.group("label"), text)
    text = _MD_HEADING.sub("", text)
    return _MD_EMPHASIS.sub("", text)


_TEXTY = st.lists(st.sampled_from(
    [*"ab .,!?#*_[]()\n\r\t\f\v", "\u00a0", "\u2003", "\u200b", "\u2028", "\x85", "\x1c",
     "\u3000", "](", "![", "**", "# ", "\n\n"]),
    max_size=60).map("".join)


@given(_TEXTY)
def test_normalising_in_one_pass_gives_exactly_the_per_line_text(text: str) -> None:
    assert normalise_text(text) == _normalise_per_line(text)


@given(_TEXTY)
def test_markdown_is_stripped_exactly_as_by_every_pattern_in_turn(text: str) -> None:
    from ingest.sources.parse import strip_markdown
    assert strip_markdown(text) == _strip_markdown_always(text)

from ingest.ids import canonical_url, chunk_id, normalise_text, text_hash


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

"""What a hostile article, feed, file or folder can do, and what it no longer can (issue 30):
each rule on its own, then through the ingest pipeline on fakes."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest

from bot.app.watches import WatchStore
from bot.cli.terminal import PrintableStream, ingest_text, one_line, printable
from config.errors import ConfigError, StoreError
from config.secrets import redact
from config.settings import ChunkingSettings, IngestSettings, load_settings
from ingest.model.records import IngestSummary
from ingest.run.pipeline import Ingestor
from ingest.run.refresh import RefreshHealth, run_schedule
from ingest.run.schedule import ScheduledSource
from ingest.sources.decode import decode_bytes
from ingest.sources.discover import discover
from ingest.sources.fetch import is_internal, refusal
from ingest.sources.parse import parse_text_article
from ingest.store.change_journal import ChangeJournal
from ingest.text.ids import normalise_text
from ingest.text.sentences import split_sentences
from tests.fakes import HashingEmbedder, Killed, MemoryStore
from tests.helpers import NoNetwork, write_article
from tests.unit.test_pipeline import ingestor, story

OSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"
CLEAR = "\x1b[2J\x1b[H"
HIDDEN_LINK = "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\"

# -- terminal escapes ----------------------------------------------------------------------


def test_article_text_loses_its_control_characters_at_ingest() -> None:
    text = f"The mayor{OSC52} resigned.{CLEAR}\tShe said\x00 so.\n\nNext\x9b paragraph."
    assert normalise_text(text) == "The mayor resigned. She said so.\n\nNext paragraph."


def test_nothing_printed_can_write_the_clipboard_clear_the_screen_or_hide_a_link() -> None:
    shown = printable(f"a{OSC52}b{CLEAR}c{HIDDEN_LINK}d\re\x07\x1b[1mbold\x1b[0m\tx\ny")
    assert "\x1b]" not in shown and "\x1b[2J" not in shown and "\x07" not in shown
    assert "\r" not in shown and "\x1b\\" not in shown
    assert "\x1b[1mbold\x1b[0m\tx\ny" in shown  # colours, tabs and newlines stay


def test_the_cli_stream_filters_every_write() -> None:
    out = io.StringIO()
    stream = PrintableStream(out)
    stream.write(f"answer{OSC52}\n")
    assert out.getvalue() == "answer52;c;cm0gLXJmIH4=\n"
    assert stream.getvalue() == out.getvalue()  # the rest is the wrapped stream's


def test_a_file_named_with_a_newline_cannot_forge_a_summary_line() -> None:
    summary = IngestSummary()
    summary.failed.append(_failure("news/a\nadded 99, failed 0\x1b[2J.txt", "empty file"))
    lines = ingest_text(summary.as_dict()).splitlines()
    assert len(lines) == 2
    assert lines[1] == "  failed: news/a\\nadded 99, failed 0\\x1b[2J.txt: empty file"
    assert one_line("café ok") == "café ok"


def _failure(source: str, reason: str) -> object:
    from ingest.model.records import Failure
    return Failure(source, reason)


# -- credentials and secrets ---------------------------------------------------------------


@pytest.mark.parametrize(("said", "shown"), [
    ("https://bob:hunter2@feeds.example/rss", "https://[redacted]@feeds.example/rss"),
    ("http://token@feeds.example/x", "http://[redacted]@feeds.example/x"),
    ("https://f.example/rss?api_key=abc123&page=2", "https://f.example/rss?api_key=[redacted]&page=2"),
    ("https://f.example/rss?page=2&token=zz#top", "https://f.example/rss?page=2&token=[redacted]#top"),
    ("https://f.example/rss?id=5&section=world", "https://f.example/rss?id=5&section=world"),
])
def test_credentials_in_source_urls_are_redacted(said: str, shown: str) -> None:
    assert redact(f"cannot ingest {said}: HTTP 500", ()) == f"cannot ingest {shown}: HTTP 500"


def test_a_blank_api_token_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = load_settings(data_dir=str(tmp_path))
    monkeypatch.setenv("NEWSDESK_API_TOKEN", "   ")
    with pytest.raises(ConfigError, match="NEWSDESK_API_TOKEN is set but blank"):
        settings.secret("NEWSDESK_API_TOKEN")
    monkeypatch.setenv("NEWSDESK_API_TOKEN", " s3cret-token-value\n")
    token = settings.secret("NEWSDESK_API_TOKEN")
    assert token is not None and token.get_secret_value() == "s3cret-token-value"


# -- feeds' links to internal addresses (SSRF) -----------------------------------------------


@pytest.mark.parametrize(("address", "internal"), [
    ("127.0.0.1", True), ("10.1.2.3", True), ("172.16.0.9", True), ("192.168.1.1", True),
    ("169.254.169.254", True), ("100.64.0.1", True), ("0.0.0.0", True), ("::1", True),
    ("fd00:ec2::254", True), ("fe80::1%eth0", True), ("::ffff:127.0.0.1", True),
    ("93.184.216.34", False), ("2606:2800:220:1::1", False), ("not-an-address", True),
])
def test_internal_addresses(address: str, internal: bool) -> None:
    assert is_internal(address) is internal


def resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    return lambda host: table.get(host, [])


def test_a_feeds_link_to_an_internal_address_is_refused_unless_allowed() -> None:
    dns = resolver({"news.example": ["93.184.216.34"], "intranet": ["10.0.0.5"],
                    "metadata.internal": ["169.254.169.254"], "localhost": ["127.0.0.1"]})
    feed = "https://news.example/rss"
    assert refusal("https://news.example/story", feed, (), dns) is None
    assert "internal address (intranet is 10.0.0.5)" in str(
        refusal("http://intranet/secret", feed, (), dns))
    assert refusal("http://metadata.internal/latest/meta-data", feed, (), dns) is not None
    assert refusal("http://127.0.0.1:9000/admin", feed, (), dns) is not None
    assert refusal("http://[::1]:9000/admin", feed, (), dns) is not None
    assert refusal("file:///etc/passwd", feed, (), dns) is not None
    assert refusal("http://intranet/secret", feed, ("intranet",), dns) is None  # allowed
    # The feed's own host may link to itself; the operator's own sources are never judged.
    assert refusal("http://localhost/a", "http://localhost/feed.xml", (), dns) is None
    assert refusal("http://intranet/secret", None, (), dns) is None


# -- one bad item never stops the run -------------------------------------------------------


def deep_json(depth: int) -> str:
    return '{"title": "Deep", "body": ' + "[" * depth + "1" + "]" * depth + "}"


def test_a_deeply_nested_or_badly_addressed_article_is_one_failure_and_the_rest_is_stored(
        tmp_path: Path) -> None:
    root = tmp_path / "news"
    write_article(root, "good.txt", "Ferry strike called off", story("ferry", 3))
    (root / "deep.json").write_text(deep_json(100_000))
    lines = [deep_json(50_000),
             json.dumps({"title": "Bad host", "url": "https://[::1", "body": story("tram", 3)}),
             json.dumps({"title": "Bad port", "url": "https://n.example:99999/a",
                         "body": story("budget", 3)}),
             json.dumps({"title": "Fine", "url": "https://n.example/fine",
                         "body": story("harbour", 3)})]
    (root / "export.jsonl").write_text("\n".join(lines))
    store = MemoryStore()
    summary = ingestor(store).ingest([str(root)])
    assert summary.added == 2
    reasons = {f.source.removeprefix(str(root) + "/"): f.reason for f in summary.failed}
    assert reasons == {
        "deep.json": "invalid JSON: nested too deeply",
        "export.jsonl:1": "invalid JSON line: nested too deeply",
        "export.jsonl:2": "invalid URL (Invalid IPv6 URL)",
        "export.jsonl:3": "invalid URL (Port out of range 0-65535)",
    }


def test_an_article_over_the_chunk_limit_is_refused_with_how_to_raise_it(
        tmp_path: Path) -> None:
    root = tmp_path / "news"
    write_article(root, "huge.txt", "Everything", story("stadium", 60))
    write_article(root, "small.txt", "Ferry", story("ferry", 2))
    store = MemoryStore()
    summary = ingestor(store, max_chunks_per_article=5).ingest([str(root)])
    assert summary.added == 1
    [failure] = summary.failed
    assert failure.source.endswith("huge.txt")
    assert "too long to store as one article" in failure.reason
    assert "the limit is 5: raise [ingest] max_chunks_per_article" in failure.reason


def test_links_out_of_the_folder_are_not_followed_and_said(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("Root password\n\nThe password is hunter2.")
    root = tmp_path / "news"
    write_article(root, "a.txt", "Ferry", story("ferry", 2))
    (root / "passwd.txt").symlink_to(outside)
    (root / "same.txt").symlink_to(root / "a.txt")  # inside the folder: read as usual
    items, failures, _ = discover([str(root)])
    assert [Path(i.location).name for i in items] == ["a.txt", "same.txt"]
    assert [(Path(f.source).name, f.reason) for f in failures] == [
        ("passwd.txt", "not followed: a symbolic link to outside the folder ingested")]
    summary = ingestor(MemoryStore()).ingest([str(root)])
    assert any("symbolic link" in f.reason for f in summary.failed)


def test_one_utf8_word_and_two_windows_1252_quotes_keep_the_word() -> None:
    data = "Le café".encode() + b" \x93ouvert\x94 ce matin"
    assert decode_bytes(data, "x.txt") == "Le café “ouvert” ce matin"
    latin = b"Caf\xe9 na\xefve \x93q\x94"  # no UTF-8 at all: read whole as Windows-1252
    assert decode_bytes(latin, "y.txt") == "Café naïve “q”"


# -- text that would take the parsers square time ---------------------------------------------

# Each took 5 to 30 s at these sizes (a 1 MB file: hours), holding an ingest or a refresh.
SLOW_ARTICLES = {
    "unclosed comments": "Headline\n\n" + "<!--" * 20_000,
    "unclosed scripts": "Headline\n\n" + "<script>" * 12_000,
    "unopened links": "Headline\n\n" + "[" * 40_000 + "](",
    "link targets never closed": "Headline\n\n" + "[a](" * 40_000,
    "spaces inside a byline": "Headline\nBy Anna" + " " * 20_000 + "Lee and Reuters\n\nText.",
    "spaces inside a date line": "Headline\nUpdated: 3" + " " * 80_000 + "May 2025\n\nText.",
}


@pytest.mark.parametrize("article", SLOW_ARTICLES.values(), ids=SLOW_ARTICLES.keys())
def test_an_article_of_unclosed_markup_or_long_runs_is_read(article: str) -> None:
    # Their speed (linear: twice the text, about twice the time) is measured by
    # bench/hostile_parsing.py; here, what is read from them.
    parsed = parse_text_article(article)
    assert parsed.title == "Headline"
    assert parsed.author is None or parsed.author == "Anna Lee and Reuters"


def test_a_long_run_of_punctuation_is_split_as_one_end() -> None:
    for run in ("." * 40_000, "?!" * 20_000):
        assert split_sentences(f"It began{run}and went on. Then it ended.") == [
            (0, 40_008 + len("and went on.")), (40_008 + len("and went on. "), 40_035)]


# -- feed entries without guid or link --------------------------------------------------------


def feed(items: list[tuple[str, str]]) -> str:
    entries = "".join(f"<item><title>{t}</title><description>{b}</description></item>"
                      for t, b in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Radio</title>'
            f"{entries}</channel></rss>")


def test_entries_without_guid_or_link_keep_their_ids_when_a_new_one_comes_first(
        tmp_path: Path) -> None:
    root = tmp_path / "feeds"
    root.mkdir()
    old = [("Ferry strike", story("ferry", 3)), ("Tram fares", story("tram", 3))]
    (root / "radio.xml").write_text(feed(old))
    # Another feed of the same folder, its items at the same positions: no collision.
    (root / "other.xml").write_text(feed([("Library", story("library", 3)),
                                          ("Museum", story("museum", 3))]))
    store = MemoryStore()
    first = ingestor(store, min_entry_chars=0).ingest([str(root)])
    ids = set(store.articles())
    assert first.added == 4 and len(ids) == 4  # scoped by feed: no collision
    (root / "radio.xml").write_text(feed([("Budget vote", story("budget", 3)), *old]))
    second = ingestor(store, min_entry_chars=0).ingest([str(root)])
    assert (second.added, second.updated, second.unchanged) == (1, 0, 4)
    assert ids < set(store.articles())
    # A corrected text under the same title is the same item, updated (not a new copy).
    corrected = [("Budget vote", story("budget", 3)), ("Ferry strike", story("ferry", 4)),
                 old[1]]
    (root / "radio.xml").write_text(feed(corrected))
    third = ingestor(store, min_entry_chars=0).ingest([str(root)])
    assert (third.added, third.updated, third.wire_copies) == (0, 1, [])


# -- the refresh loop survives anything -----------------------------------------------------


def test_a_refresh_loop_survives_any_error_and_readiness_says_when_it_keeps_failing() -> None:
    stop = threading.Event()
    runs: list[int] = []
    clock = [0.0]

    def ingest(due: list[str]) -> IngestSummary:
        runs.append(len(runs))
        if len(runs) >= 5:
            stop.set()
        if len(runs) <= 3:
            raise RecursionError("maximum recursion depth exceeded")
        return IngestSummary(added=1)

    health = RefreshHealth()
    seen: list[str | None] = []

    def wait(seconds: float) -> None:
        clock[0] += seconds
        seen.append(health.problem())

    run_schedule([ScheduledSource("feed", 60.0)], ingest, stop, clock=lambda: clock[0],
                 wait=wait, health=health)
    assert len(runs) == 5
    assert seen[:4] == [None, None,
                        "scheduled ingest failed 3 times in a row: RecursionError: maximum "
                        "recursion depth exceeded", None]


# -- damaged SQLite files ---------------------------------------------------------------------


def test_a_damaged_saved_questions_file_is_named_and_stops_only_alerts(tmp_path: Path) -> None:
    path = tmp_path / "watches.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    watches = WatchStore(path)  # opening does not raise: ingest and answering go on
    with pytest.raises(StoreError, match=r"watches\.sqlite3: saved questions cannot be read "
                                         r"\(file is not a database\)"):
        watches.list()
    root = tmp_path / "news"
    write_article(root, "a.txt", "Ferry", story("ferry", 2))

    def check(summary: IngestSummary) -> None:
        watches.list()

    store = MemoryStore()
    run = Ingestor(store, HashingEmbedder(), NoNetwork(),
                   chunking=ChunkingSettings(max_tokens=40, overlap_tokens=8),
                   settings=IngestSettings(), after=[check])
    assert run.ingest([str(root)]).added == 1


# -- alerts of an interrupted ingest ----------------------------------------------------------


class DiesOnce:
    """A derived index whose first catch-up is the process being killed: the batch is
    written, the after-ingest steps never run."""

    def __init__(self) -> None:
        self.dead = False

    def catch_up(self, compact: bool = True) -> object:
        if not self.dead:
            self.dead = True
            raise Killed
        return None


def test_changes_of_an_interrupted_run_are_checked_by_the_next(tmp_path: Path) -> None:
    root = tmp_path / "news"
    write_article(root, "a.txt", "Ferry", story("ferry", 2))
    store, dies = MemoryStore(), DiesOnce()
    checked: list[dict[str, str]] = []
    journal = ChangeJournal(tmp_path / "data" / "unchecked-changes.json")

    def run() -> Ingestor:
        return Ingestor(store, HashingEmbedder(), NoNetwork(),
                        chunking=ChunkingSettings(max_tokens=40, overlap_tokens=8),
                        settings=IngestSettings(), derived=[dies], journal=journal,
                        after=[lambda s: checked.append({**s.unchecked, **s.changed})])

    with pytest.raises(Killed):
        run().ingest([str(root)])
    assert store.articles() and not checked  # stored, never checked
    again = run().ingest([str(root)])
    assert again.unchanged == 1 and again.changed == {}
    assert checked == [{"a.txt": "added"}]
    assert journal.pending() == {}
    run().ingest([str(root)])
    assert checked[-1] == {}  # checked once, not again



def test_a_saved_question_number_past_sqlites_integers_is_simply_not_there(
        tmp_path: Path) -> None:
    from bot.app.watching import WatchService

    room = WatchService(WatchStore(tmp_path / "watches.sqlite3"), MemoryStore)
    assert room.remove("99999999999999999999999") is False
    assert room.remove("-5") is False

"""Content extraction keeps what readers read, and only that (issue 29 §5), each kind of
failure on a page written for it: tables and lists."""

from __future__ import annotations

from pathlib import Path

from config.settings import IngestSettings
from ingest.loaders import SourceItem, load
from ingest.records import Article
from tests.helpers import NoNetwork

STORY = ("<p>The harbour board agreed on Tuesday to raise berth fees by a fifth from April, "
         "the first rise in six years, after a vote of seven to two.</p>"
         "<p>Fishers said the rise would cost a small boat about 900 euros a year, and the "
         "co-operative said it would appeal to the minister.</p>"
         "<p>The board said the money would pay for dredging the inner harbour, which has "
         "not been done since 2009.</p>")
FIRST = "The harbour board agreed on Tuesday to raise berth fees by a fifth from April"


def page(head: str, body: str) -> str:
    return (f"<html><head><meta charset='utf-8'>{head}</head><body>"
            "<header><a href='/'>Quay Herald</a><nav><a href='/news'>News</a></nav></header>"
            f"{body}<footer><p>© Quay Herald</p></footer></body></html>")


def loaded(tmp_path: Path, name: str, html: str) -> Article:
    path = tmp_path / name
    path.write_text(html)
    [result] = list(load(SourceItem(location=str(path), origin=str(tmp_path), root=tmp_path),
                         NoNetwork(), IngestSettings()))
    assert isinstance(result, Article), result
    return result


def test_table_rows_and_list_items_are_stored_as_text(tmp_path: Path) -> None:
    intro = ("<p>Mary Byrne topped the poll in the Alder Vale ward on Friday, the returning "
             "officer said, ahead of two other candidates for the one seat.</p>")
    outro = ("<p>The new council will choose its leader in December. Its priorities, Ms Byrne "
             "said, are:</p><ul><li>a bus route to the hospital</li><li>repairs to the Kell "
             "bridge</li></ul><p>Turnout was 41 per cent, up from 35 per cent four years ago."
             "</p>")
    # No heading row: every row is a result (the first one too).
    plain = loaded(tmp_path, "plain.html", page(
        "<title>Byrne tops the poll</title>",
        f"<main><article><h1>Byrne tops the poll</h1>{intro}<table>"
        "<tr><td>Mary Byrne (Green)</td><td>4,512</td></tr>"
        "<tr><td>Tom Hale (Labour)</td><td>3,980</td></tr>"
        "<tr><td>Ann Lee (Independent)</td><td>1,204</td></tr></table>"
        f"{outro}</article></main>"))
    lines = plain.text.split("\n\n")
    assert lines[1:4] == ["Mary Byrne (Green) — 4,512.", "Tom Hale (Labour) — 3,980.",
                          "Ann Lee (Independent) — 1,204."]
    assert "- a bus route to the hospital" in lines and "- repairs to the Kell bridge" in lines
    # A heading row names each cell.
    headed = loaded(tmp_path, "headed.html", page(
        "<title>Byrne tops the poll</title>",
        f"<main><article><h1>Byrne tops the poll</h1>{intro}<table><thead><tr><th>Candidate"
        "</th><th>Party</th><th>Votes</th></tr></thead><tbody>"
        "<tr><td>Mary Byrne</td><td>Green</td><td>4,512</td></tr>"
        "<tr><td>Tom Hale</td><td>Labour</td><td>3,980</td></tr></tbody></table>"
        f"{outro}</article></main>"))
    assert headed.text.split("\n\n")[1:3] == ["Mary Byrne — Party: Green; Votes: 4,512.",
                                              "Tom Hale — Party: Labour; Votes: 3,980."]

"""Block Kit for answers (pure): an answer section, a sources list, a context line, feedback
buttons, and a plain-text fallback, always within Slack's limits."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from retrieval.records import ABSTENTION, Answer, Passage, closest_articles

SECTION_LIMIT = 3000  # characters of text in one section block
MAX_BLOCKS = 50
TEXT_LIMIT = 3000  # we keep the notification/fallback text short
FEEDBACK_UP = "newsdesk_feedback_up"
FEEDBACK_DOWN = "newsdesk_feedback_down"
MAX_SOURCES = 10

Block = dict[str, Any]


def escape(text: str) -> str:
    """Slack mrkdwn control characters; everything else (including `[n]`) is kept. Every
    text Slack renders or notifies with goes through this, once (link targets too, see
    `link`), so that article text can never mention a user or channel (`<!channel>`,
    `<@U…>`) or forge a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _unsafe_in_link(char: str) -> bool:
    """What would end or split a link target in `<url|label>`, or hide in it: `< > |`,
    whitespace, control and format characters."""
    return char in "<>|" or char.isspace() or unicodedata.category(char) in ("Cc", "Cf")


def _link_target(url: str) -> str | None:
    """An http(s) URL with a host as a link target (its unsafe characters percent-encoded,
    then escaped); None for any other URL (javascript:, relative, malformed)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed IPv6 bracket, say
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    encoded = "".join("".join(f"%{b:02X}" for b in c.encode()) if _unsafe_in_link(c) else c
                      for c in url)
    return escape(encoded)


def link(url: str | None, label: str) -> str:
    """`label` (bold) linked to `url` in mrkdwn: `<https://…|label>`. Only an http(s) URL
    becomes a link; any other is shown after the label as escaped text."""
    text = escape(label).replace("|", "∣")
    target = _link_target(url) if url else None
    if target is not None:
        return f"<{target}|{text}>"
    return f"*{text}*" + (f" ({escape(url)})" if url and url.strip() else "")


def cut(text: str, limit: int) -> str:
    """Escaped text within `limit` characters, cut (with "…") at a character, never inside
    an escape (`&amp;`)."""
    if len(text) <= limit:
        return text
    end = limit - 1
    entity = text.rfind("&", max(0, end - 4), end)
    if entity >= 0 and ";" not in text[entity:end]:
        end = entity  # not inside "&amp;"
    return text[:end] + "…"


# Slack's markup in message text: <@U…|name>, <#C…|name>, <!here>, <!subteam^S…|@team>,
# <!date^…|fallback>, <https://…|label>, <mailto:…|label>.
_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def _markup_text(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith("@"):  # a user: their name when Slack gave it, else nothing
        return f"@{label.lstrip('@')}" if label else ""
    if target.startswith("#"):  # a channel
        return f"#{label.lstrip('#')}" if label else ""
    if target.startswith("!"):  # a broadcast (<!channel>) is no part of a question
        return label or ""
    return label or target.removeprefix("mailto:")  # a link: what the user saw


def plain_text(text: str) -> str:
    """The text a person typed, from message text as Slack delivers it: markup replaced by
    what it showed (a link by its label, a user or channel by its name, mentions of no
    name and broadcasts removed), then `&lt; &gt; &amp;` unescaped. The inverse of `escape`
    for text without markup."""
    text = _MARKUP.sub(_markup_text, text or "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _split(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters, cut at paragraph, line or word breaks."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n\n", 0, limit), text.rfind("\n", 0, limit),
                  text.rfind(" ", 0, limit))
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text, SECTION_LIMIT)}]}


def describe(passage: Passage) -> str:
    name = link(passage.url, passage.title or passage.article_id)
    details = [escape(x) for x in passage.details]
    also = f"; _{escape(passage.also_ran)}_" if passage.reprints else ""
    return name + (f" — {', '.join(details)}" if details else "") + also


def answer_mrkdwn(answer: Answer) -> str:
    """The answer text for Slack, its lead value in bold: `*84 million euros* — The ...`."""
    text = escape(answer.answer)
    if answer.lead is not None:
        lead = escape(answer.lead)
        if text.startswith(lead):
            return f"*{lead}*{text[len(lead):]}"
    return text


def answer_blocks(answer: Answer, *, feedback: bool = True) -> tuple[list[Block], str]:
    """Blocks and fallback text for an answer; within 50 blocks and 3,000 chars a section."""
    blocks: list[Block] = [_context(f"_{escape(answer.window.label)}_")] if answer.window else []
    tail: list[Block] = []
    if answer.abstained and not answer.citations:
        closest = closest_articles(answer.passages)
        outside = answer.window is not None and any(p.published for p in closest) and not any(
            answer.window.contains(p.published) for p in closest)
        body = "No articles from that window answer this." if outside else ABSTENTION
        if closest:
            heading = "Closest articles outside it" if outside else "Closest articles"
            body += f"\n*{heading}:*\n" + "\n".join(f"• {describe(p)}" for p in closest)
        blocks.extend(_section(piece) for piece in _split(body))
    else:
        # An answer, or what the articles say instead of one (then cited like an answer).
        blocks.extend(_section(piece) for piece in _split(answer_mrkdwn(answer)))
        sources = [f"[{c.n}] {describe(c.passage)}" for c in answer.citations[:MAX_SOURCES]]
        if len(answer.citations) > MAX_SOURCES:
            sources.append(f"…and {len(answer.citations) - MAX_SOURCES} more")
        if sources:
            tail.extend(_section(piece) for piece in _split("*Sources*\n" + "\n".join(sources)))
    notes = [f"{len(answer.passages)} passages searched"]
    if "total" in answer.timings:
        notes.append(f"{answer.timings['total'] * 1000:.0f} ms")
    if answer.note:
        notes.append(escape(answer.note))
    tail.append(_context(" · ".join(notes)))
    if feedback:
        tail.append(feedback_actions())
    room = MAX_BLOCKS - len(tail)
    if len(blocks) > room:
        blocks = [*blocks[: room - 1], _section("_(answer shortened to fit in Slack)_")]
    return blocks + tail, fallback_text(answer)


def fallback_text(answer: Answer) -> str:
    """The message's top-level `text` (notifications, and clients without blocks): Slack
    parses it as mrkdwn too, so it is escaped like the blocks. Cut at a character, never
    inside an escape (`&amp;`)."""
    lines = [answer.answer]
    lines += [f"[{c.n}] {c.passage.title} {c.passage.url or ''}".rstrip()
              for c in answer.citations[:MAX_SOURCES]]
    return cut(escape("\n".join(lines)), TEXT_LIMIT)


def feedback_actions() -> Block:
    return {
        "type": "actions",
        "block_id": "newsdesk_feedback",
        "elements": [
            {"type": "button", "action_id": FEEDBACK_UP, "value": "up",
             "text": {"type": "plain_text", "text": "👍", "emoji": True}},
            {"type": "button", "action_id": FEEDBACK_DOWN, "value": "down",
             "text": {"type": "plain_text", "text": "👎", "emoji": True}},
        ],
    }


# A Slack user id as Slack sends it (U…, or W… in Enterprise Grid): safe to mention.
_USER_ID = re.compile(r"[UW][A-Z0-9]{1,30}")


def with_feedback_recorded(blocks: Sequence[Block], vote: str, user: str) -> list[Block]:
    """The same message with its buttons replaced by a note that the vote was recorded
    (thanking the voter by mention when `user` is a Slack user id, and only then)."""
    symbol = "👍" if vote == "up" else "👎"
    kept = [b for b in blocks if b.get("block_id") != "newsdesk_feedback"]
    thanks = f"Thanks <@{user}>" if _USER_ID.fullmatch(user or "") else "Thanks"
    return [*kept, _context(f"{symbol} {thanks}, your feedback was recorded.")]


def working_blocks(question: str) -> tuple[list[Block], str]:
    text = "Looking through the articles…"
    return [_context(f":mag: {text} _{escape(question[:200])}_")], text


def looking_text(question: str) -> str:
    """The slash command's ack while its answer is found."""
    return f":mag: Looking through the articles for: _{escape(question[:300])}_"


def refusal_text(reason: str, example: str = "") -> str:
    """A question that cannot be asked, and why (`example`: how to ask one, as mrkdwn)."""
    return f"Sorry, I can't ask that: {escape(reason)}{example}"


def apology_blocks(reason: str | None = None) -> tuple[list[Block], str]:
    """The reply when answering failed: `reason` when it is ours to show (a NewsdeskError's
    message), else a generic apology (the details stay in the log)."""
    if reason is not None:
        text = f"Sorry, I couldn't answer that: {escape(reason)}"
    else:
        text = ("Sorry, something went wrong while answering that. It has been logged; "
                "please try again in a moment.")
    return [_section(text)], text

"""Block Kit for answers (pure): an answer section, a sources list, a context line, feedback
buttons, and a plain-text fallback, always within Slack's limits."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

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
    text Slack renders or notifies with goes through this, so that article text can never
    mention a user or channel (`<!channel>`, `<@U…>`) or forge a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:SECTION_LIMIT]}]}


def describe(passage: Passage, link: bool = True) -> str:
    title = escape(passage.title or passage.article_id).replace("|", "∣")
    name = f"<{passage.url}|{title}>" if link and passage.url else f"*{title}*"
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
    text = escape("\n".join(lines))
    if len(text) <= TEXT_LIMIT:
        return text
    cut = TEXT_LIMIT - 1
    entity = text.rfind("&", max(0, cut - 4), cut)
    if entity >= 0 and ";" not in text[entity:cut]:
        cut = entity  # not inside "&amp;"
    return text[:cut] + "…"


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


def with_feedback_recorded(blocks: Sequence[Block], vote: str, user: str) -> list[Block]:
    """The same message with its buttons replaced by a note that the vote was recorded."""
    symbol = "👍" if vote == "up" else "👎"
    kept = [b for b in blocks if b.get("block_id") != "newsdesk_feedback"]
    return [*kept, _context(f"{symbol} Thanks <@{user}>, your feedback was recorded.")]


def working_blocks(question: str) -> tuple[list[Block], str]:
    text = "Looking through the articles…"
    return [_context(f":mag: {text} _{escape(question[:200])}_")], text


def apology_blocks() -> tuple[list[Block], str]:
    text = ("Sorry, something went wrong while answering that. It has been logged; "
            "please try again in a moment.")
    return [_section(text)], text

"""Block Kit for saved questions and the daily brief (pure), in the style and within the
limits of bot/slack/blocks.py: at most 50 blocks, 3,000 characters a section, article text escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.slack.blocks import (
    MAX_BLOCKS,
    TEXT_LIMIT,
    Block,
    _context,
    _section,
    _split,
    answer_blocks,
    cut,
    describe,
    escape,
)
from retrieval.news.alerts import Alert, Watch
from retrieval.news.brief import Brief, Story
from retrieval.question.time_window import day_label

# Stories shown in Slack (the rest are counted); each is one section.
MAX_STORIES = 10


def alert_blocks(alert: Alert) -> tuple[list[Block], str]:
    """An alert: what fired (new or updated, the saved question), then the cited answer."""
    what = "New" if alert.kind == "new" else "Updated"
    header = (f"*{what}* for saved question {alert.watch.id}: "
              f"_{escape(alert.watch.question)}_")
    blocks, fallback = answer_blocks(alert.answer, feedback=False)  # fallback: escaped
    text = f"{what} for “{escape(alert.watch.question)}”: {fallback}"
    changed = ([_context(escape("What changed: " + "; ".join(alert.changes)))]
               if alert.changes else [])
    return [_section(header), *changed, *blocks][:MAX_BLOCKS], cut(text, TEXT_LIMIT)


def watches_blocks(watches: Sequence[Watch], command: str) -> tuple[list[Block], str]:
    """A channel's saved questions, with how to remove one."""
    if not watches:
        text = f"No saved questions here. Save one with `{command} watch <question>`."
        return [_section(escape(text))], escape(text)
    lines = [f"`{w.id}` {escape(w.question)}" for w in watches]
    body = "*Saved questions*\n" + "\n".join(lines)
    blocks = [_section(piece) for piece in _split(body)][:MAX_BLOCKS - 1]
    blocks.append(_context(escape(f"Remove one with `{command} unwatch ID`.")))
    return blocks, escape(f"{len(watches)} saved questions")


def _story(number: int, story: Story) -> str:
    head = f"*{number}. {escape(story.title)}*"
    if story.coverage:
        head += f" — {escape(story.coverage)}"
    when = day_label(story.passage.published) if story.passage.published else "undated"
    lines = [head, f"{escape(story.lead)} [{story.n}] ({when})"]
    if story.timeline:
        if story.earlier:
            lines.append(f"_{story.earlier} earlier developments_")
        lines += [f"• {day_label(s.passage.published)} — {escape(s.sentence)} [{s.n}]"
                  for s in story.timeline if s.passage.published]
    return "\n".join(lines)


def brief_blocks(brief: Brief, max_stories: int = MAX_STORIES) -> tuple[list[Block], str]:
    """The brief: a heading, one section per story (most covered first), its sources; stories
    past `max_stories` or past the block limit are counted ("and N more stories")."""
    count = len(brief.stories) + brief.more
    heading = (f"*{escape(brief.window.label)}*: {count} "
               f"{'story' if count == 1 else 'stories'} from {brief.articles} articles")
    if not brief.stories:
        text = f"{brief.window.label}: no articles."
        return [_section(escape(text))], escape(text)
    blocks: list[Block] = [_section(heading)]
    shown = brief.stories[:max_stories]
    # Leave room for the sources (a few sections) and the "more" line.
    room = MAX_BLOCKS - 1 - 4 - 1
    stories = [piece for n, story in enumerate(shown, start=1)
               for piece in _split(_story(n, story))]
    blocks.extend(_section(piece) for piece in stories[:room])
    listed = len(shown) if len(stories) <= room else room
    more = count - listed
    cited = {n for story in shown[:listed] for n in (story.n, *(s.n for s in story.timeline))}
    sources = [f"[{c.n}] {describe(c.passage)}" for c in brief.citations if c.n in cited]
    blocks.extend(_section(piece) for piece in _split("*Sources*\n" + "\n".join(sources))[:4])
    if more > 0:
        blocks.append(_context(f"and {more} more {'story' if more == 1 else 'stories'}"))
    fallback = f"{brief.window.label}: " + "; ".join(s.title for s in shown[:5])
    return blocks[:MAX_BLOCKS], cut(escape(fallback), TEXT_LIMIT)


# The slash command's sub-command replies (bot/slack/watches.py).


def saved_text(watch: Watch, command: str) -> str:
    return (f"Saved question {watch.id}: _{escape(watch.question)}_. I'll post here when a "
            f"new or updated article answers it (`{escape(command)} unwatch {watch.id}` to "
            "stop).")


def removed_text(watch_id: str, removed: bool) -> str:
    return (f"Removed saved question {escape(watch_id)}." if removed
            else f"No saved question {escape(watch_id)} in this channel.")


def refused_text(reason: str) -> str:
    return f"Sorry, I can't do that: {escape(reason)}"

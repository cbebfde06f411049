"""The Slack app (slack-bolt): @mentions, DMs, thread follow-ups and a slash command, answered
in the question's thread with Block Kit, with 👍/👎 feedback.

Listeners stay short: they ack, then hand the question to a bounded pool of answer workers, so
acks never wait for an answer.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from pydantic import SecretStr
from slack_bolt import App, BoltResponse
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier

from bot.app.asking import Desk, Request, read_request
from bot.app.feedback import FeedbackStore
from bot.app.logs import safe
from bot.app.user_values import MAX_HISTORY_TURNS, MAX_TURN_CHARS
from bot.slack.blocks import (
    FEEDBACK_DOWN,
    FEEDBACK_UP,
    answer_blocks,
    apology_blocks,
    looking_text,
    plain_text,
    refusal_text,
    with_feedback_recorded,
    working_blocks,
)
from bot.slack.watches import SlackWatchCommands
from config.errors import ConfigError, NewsdeskError, RequestError
from config.settings import SlackChannel, SlackSettings
from ingest.model.records import SearchFilter
from ingest.text.ids import source_names
from retrieval.question.history import Turn

log = logging.getLogger(__name__)

_MENTION = re.compile(r"<@[A-Z0-9]+>")  # a mention without a name (the bot's, in practice)
_WORKING_REACTION = "eyes"
ROUTE = "slack"  # the metrics label
# Message subtypes that are a person speaking (a file attached, a thread reply sent to the
# channel too, a /me); None is a plain message. Every other subtype is not a question.
PEOPLE_SPEAKING = (None, "", "file_share", "thread_broadcast", "me_message")
NOT_HERE = ("I don't answer questions in this channel. Ask me in a channel I'm set up for, "
            "or in a direct message.")


@dataclass(frozen=True)
class SlackTokens:
    bot: SecretStr
    app: SecretStr | None
    signing_secret: SecretStr | None
    api_url: str | None


def slack_tokens(environ: dict[str, str], socket: bool | None) -> SlackTokens:
    """Read and check tokens from the environment; errors never echo a token."""
    bot = environ.get("SLACK_BOT_TOKEN", "").strip()
    app = environ.get("SLACK_APP_TOKEN", "").strip()
    secret = environ.get("SLACK_SIGNING_SECRET", "").strip()
    if not bot:
        raise ConfigError("SLACK_BOT_TOKEN is not set (the bot token, xoxb-...)")
    if not bot.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN does not look like a bot token (expected xoxb-...)")
    use_socket = bool(app) if socket is None else socket
    if use_socket:
        if not app:
            raise ConfigError("Socket Mode needs SLACK_APP_TOKEN (an app-level token, xapp-...)")
        if not app.startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN does not look like an app-level token "
                              "(expected xapp-...)")
    elif not secret:
        raise ConfigError("HTTP mode needs SLACK_SIGNING_SECRET to verify Slack's requests")
    return SlackTokens(
        bot=SecretStr(bot),
        app=SecretStr(app) if use_socket else None,
        signing_secret=SecretStr(secret) if secret else None,
        api_url=environ.get("SLACK_API_URL") or None,
    )


class _ClientWinsNotice(logging.Filter):
    """Bolt also reads SLACK_BOT_TOKEN itself and warns that the client we pass wins over it;
    it does, by design, so that warning is dropped (and only that one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_BOLT_LOG = logging.getLogger("newsdesk.slack.bolt")
_BOLT_LOG.addFilter(_ClientWinsNotice())


class _SeenEvents:
    """Keys (event ids, slash commands' trigger ids) seen in the last `ttl` seconds: Slack
    retries deliveries it thinks failed, and a signed request can be replayed. At most
    `size` are kept (the oldest forgotten first)."""

    def __init__(self, ttl: float, size: int = 10_000) -> None:
        self._ttl = ttl
        self._size = size
        self._expiry: OrderedDict[str, float] = OrderedDict()  # oldest (first to expire) first
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._expiry and (len(self._expiry) >= self._size
                                    or next(iter(self._expiry.values())) <= now):
                self._expiry.popitem(last=False)
            if key in self._expiry:
                return False
            self._expiry[key] = now + self._ttl
            return True


def _text_at(data: Any, *keys: str) -> str:
    """`data[key][key]…` when that is a string, else "": Slack bodies are read defensively
    (a signed body can still be malformed)."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, str) else ""


def _repeat_key(body: dict[str, Any]) -> str | None:
    """What identifies a delivery, so that it is handled once: an event's id; a slash
    command's or a button click's trigger id (unique to each invocation, as are its response
    URL and action time; a replay of the signed request repeats them)."""
    if _text_at(body, "event_id"):
        return f"event {body['event_id']}"
    if _text_at(body, "command") and _text_at(body, "trigger_id"):
        return f"command {body['trigger_id']} {_text_at(body, 'response_url')}"
    if _text_at(body, "type") == "block_actions" and _text_at(body, "trigger_id"):
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions else {}
        return f"action {body['trigger_id']} {_text_at(first, 'action_ts')}"
    return None


class _RateLimiter:
    def __init__(self, per_minute: int) -> None:
        self._limit = per_minute
        self._recent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, user: str) -> bool:
        if self._limit <= 0:
            return True
        now = time.monotonic()
        with self._lock:
            recent = self._recent.setdefault(user, deque())
            while recent and recent[0] < now - 60:
                recent.popleft()
            if len(recent) >= self._limit:
                return False
            recent.append(now)
            return True


def question_text(text: str, bot_user_id: str | None = None) -> str:
    """The question in a message as Slack delivers it (escaped, with markup): the bot's
    mention and mentions without a name dropped, other users, channels and links as they
    showed, `&amp; &lt; &gt;` unescaped, whitespace collapsed. What is answered, echoed in
    the placeholder and stored (feedback, thread history)."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^<>]*)?>", " ", text or "")
    return " ".join(plain_text(_MENTION.sub(" ", text or "")).split())


def slack_client(tokens: SlackTokens) -> WebClient:
    """The Slack Web API client of the bot token (at `tokens.api_url` when set), retrying
    politely: Slack answers 429 with Retry-After when we post too fast."""
    kwargs: dict[str, Any] = {"base_url": tokens.api_url} if tokens.api_url else {}
    client = WebClient(token=tokens.bot.get_secret_value(), **kwargs)
    client.retry_handlers.extend([
        RateLimitErrorRetryHandler(max_retry_count=3),
        ConnectionErrorRetryHandler(max_retry_count=2),
    ])
    return client


class NewsdeskSlackBot:
    """The Slack front end over `desk`. `client`: the Web API client (default: one made from
    `tokens`); `watch_commands`: the saved-question sub-commands of the slash command (None:
    every slash command is a question)."""

    def __init__(self, desk: Desk, feedback: FeedbackStore, tokens: SlackTokens,
                 options: SlackSettings, *, client: WebClient | None = None,
                 watch_commands: SlackWatchCommands | None = None) -> None:
        self._desk = desk
        self._feedback = feedback
        self._options = options
        # The channels set up in [[slack.desks]], by id.
        self._set_up: dict[str, SlackChannel] = {c.channel: c for c in options.desks}
        # A set-up channel's sources as filters name them (folders as absolute paths), once.
        self._filters = {c.channel: SearchFilter(sources=source_names(c.sources))
                         for c in options.desks if c.sources}
        self._seen = _SeenEvents(options.dedupe_seconds)
        self._limiter = _RateLimiter(options.user_rate_limit)
        self._verifier = (SignatureVerifier(tokens.signing_secret.get_secret_value())
                          if tokens.signing_secret else None)
        self.client = client if client is not None else slack_client(tokens)
        # Two pools: Bolt's runs the (short) listeners, which ack at once; answering, the slow
        # part, goes to a bounded pool of its own so a queue of questions never delays an ack.
        self._listeners = ThreadPoolExecutor(max_workers=16, thread_name_prefix="slack-listen")
        self._answers = ThreadPoolExecutor(max_workers=options.workers,
                                           thread_name_prefix="slack-answer")
        self.app = App(
            client=self.client,
            signing_secret=(tokens.signing_secret.get_secret_value()
                            if tokens.signing_secret else None),
            request_verification_enabled=tokens.signing_secret is not None,
            # checked below, where an unreachable Slack is told apart from a wrong token
            token_verification_enabled=False,
            listener_executor=self._listeners,
            logger=_BOLT_LOG,
        )
        self.watch_commands = watch_commands
        self._identity: dict[str, Any] | None = None
        try:
            self._identify()
        except (OSError, TimeoutError) as exc:
            # A wrong token stops the start (SlackApiError); Slack being out of reach must not
            # stop the API and the page served beside it: asked again at the first event.
            log.error("Slack is unreachable (%s); its events are answered once it is reachable",
                      safe(str(exc)))
        self._register()

    def _identify(self) -> dict[str, Any]:
        if self._identity is None:
            answer = self.client.auth_test()
            self._identity = {"user_id": answer["user_id"], "bot_id": answer.get("bot_id")}
        return self._identity

    def unreachable(self) -> str | None:
        """None once Slack has answered auth.test, else why it has not (for readiness)."""
        try:
            self._identify()
        except (OSError, TimeoutError) as exc:
            return f"Slack's Web API is unreachable: {safe(str(exc))}"
        return None

    @property
    def bot_user_id(self) -> str:
        """The bot's own user id (auth.test), asked once Slack answers."""
        return str(self._identify()["user_id"])

    @property
    def bot_id(self) -> str | None:
        found = self._identify().get("bot_id")
        return str(found) if found else None

    # -- wiring ---------------------------------------------------------------------------------

    def _register(self) -> None:
        self.app.middleware(self._drop_repeats)
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        self.app.command(self._options.command)(self._on_command)
        self.app.action(FEEDBACK_UP)(self._on_feedback)
        self.app.action(FEEDBACK_DOWN)(self._on_feedback)
        self.app.error(self._on_listener_error)

    def _on_listener_error(self, error: Exception, body: dict[str, Any]) -> None:
        """Bolt's listener error handler: a listener that raised (before it handed off to the
        answer pool) is logged here, once, without secrets; Bolt answers Slack 500."""
        kind = (_text_at(body, "command") or _text_at(body, "event", "type")
                or _text_at(body, "type"))
        log.error("a Slack listener failed on %s: %s", kind, safe(str(error)),
                  exc_info=error)

    def _drop_repeats(self, req: BoltRequest, body: dict[str, Any],
                      next: Callable[[], BoltResponse]) -> BoltResponse | None:
        """Exactly one answer per question, one save per `watch`: a redelivered event (Slack's
        retries, X-Slack-Retry-Num) or a replayed slash command is acked and dropped."""
        key = _repeat_key(body)
        if key is not None and not self._seen.first_time(key):
            retry = req.headers.get("x-slack-retry-num")
            log.info("dropping repeated delivery of %s%s", safe(key),
                     f" (Slack's retry {safe(retry[0])})" if retry else "")
            return BoltResponse(status=200, body="")
        return next()

    def _from_a_bot(self, event: dict[str, Any]) -> bool:
        """Events from bots (another app, or this one): never answered, so two bots cannot
        answer each other in a loop. Bolt drops this app's own events too; this is the
        belt to its braces."""
        return bool(event.get("bot_id") or event.get("bot_profile")
                    or event.get("subtype") == "bot_message"
                    or event.get("user") == self.bot_user_id)

    def _question(self, text: str) -> str:
        return question_text(text, self.bot_user_id)

    def _allowed_channel(self, channel: str) -> bool:
        return (not self._options.channels or channel in self._options.channels
                or channel in self._set_up)

    def _where(self, channel: str) -> SearchFilter | None:
        """The channel's sources (None: every article)."""
        return self._filters.get(channel)

    def _answers_questions(self, channel: str) -> bool:
        set_up = self._set_up.get(channel)
        return set_up is not None and set_up.reply == "questions"

    # -- listeners ------------------------------------------------------------------------------

    def _on_mention(self, event: dict[str, Any]) -> None:
        channel, ts, text = (_text_at(event, k) for k in ("channel", "ts", "text"))
        if self._from_a_bot(event) or not (channel and ts):
            return  # a bot's (or a malformed) event
        if not self._allowed_channel(channel):
            # A person asked: say why there is no answer here, never stay silent.
            self.client.chat_postMessage(channel=channel, thread_ts=_text_at(event, "thread_ts")
                                         or ts, text=NOT_HERE)
            return
        thread_ts = _text_at(event, "thread_ts")
        history = self._history(channel, thread_ts, ts) if thread_ts else []
        self._answers.submit(self._answer_in_thread, channel, thread_ts or ts, ts,
                             self._question(text), history, _text_at(event, "user"))

    def _on_message(self, event: dict[str, Any]) -> None:
        channel, ts, text = (_text_at(event, k) for k in ("channel", "ts", "text"))
        if event.get("subtype") not in PEOPLE_SPEAKING or self._from_a_bot(event) \
                or not (channel and ts):
            # Edits, deletions, joins, bots' posts (ours included) and malformed events are no
            # questions; a message with a file, a reply also sent to the channel and a /me are.
            return
        is_dm = event.get("channel_type") == "im"
        if not is_dm and f"<@{self.bot_user_id}>" in text:
            return  # the app_mention listener answers this one
        if not self._allowed_channel(channel) and not is_dm:
            return
        thread_ts = _text_at(event, "thread_ts")
        if thread_ts:
            replies = self._replies(channel, thread_ts)
            if not is_dm and not any(self._is_ours(m) for m in replies):
                return  # a thread the bot has not answered in
            history = self._pairs(replies, exclude_ts=ts)
        elif is_dm:
            history = []
        elif self._answers_questions(channel) and self._question(text).endswith("?"):
            history = []  # a channel set up to answer every question asked in it
        else:
            return
        self._answers.submit(self._answer_in_thread, channel, thread_ts or ts, ts,
                             self._question(text), history, _text_at(event, "user"))

    def _on_command(self, ack: Callable[..., None], command: dict[str, Any],
                    respond: Callable[..., Any]) -> None:
        question = question_text(_text_at(command, "text"))
        channel = _text_at(command, "channel_id")
        if not channel:  # Slack always sends one; a malformed request may not
            ack(text="Sorry, that command came without its channel; please try again.")
            return
        if not self._allowed_channel(channel):
            ack(text="Newsdesk is not enabled in this channel.")
            return
        if self.watch_commands is not None and self.watch_commands.handle(command, ack, respond):
            return
        try:
            asked = self._request(question, [], channel)
        except RequestError as exc:
            self._desk.rejected(ROUTE, "ask")
            example = (f", e.g. `{self._options.command} what did the council decide about "
                       "the bridge?`" if not question else "")
            ack(text=refusal_text(str(exc), example))
            return
        ack(text=looking_text(question))
        if not self._limiter.allow(_text_at(command, "user_id")):
            respond(text=self._rate_limited_text(), response_type="ephemeral")
            return
        self._answers.submit(self._answer_command, asked, respond)

    def _request(self, question: str, history: list[Turn], channel: str) -> Request:
        """The one request model's checks (bot.app.asking), with the channel's sources as filter."""
        turns = [(q[:MAX_TURN_CHARS], a[:MAX_TURN_CHARS])
                 for q, a in history[-MAX_HISTORY_TURNS:]]
        asked = read_request({"question": question, "history": turns})
        where = self._where(channel)
        return replace(asked, where=where) if where is not None else asked

    def _answer_command(self, asked: Request, respond: Callable[..., Any]) -> None:
        try:
            answer = self._desk.ask(asked, ROUTE)
            blocks, text = answer_blocks(answer)
        except Exception as exc:  # never leave the user without a reply
            log.exception("answering a slash command failed")
            blocks, text = self._apology(exc)
        try:
            respond(blocks=blocks, text=text, response_type=self._options.slash_response,
                    replace_original=False)
        except Exception:  # runs in the answer pool: nobody else would see this
            log.exception("could not deliver the slash command answer")

    def _on_feedback(self, ack: Callable[..., None], body: dict[str, Any],
                     respond: Callable[..., Any]) -> None:
        ack()
        actions = body.get("actions")
        action = actions[0] if isinstance(actions, list) and actions else {}
        vote = "up" if _text_at(action, "action_id") == FEEDBACK_UP else "down"
        user = _text_at(body, "user", "id")
        message: dict[str, Any] = body["message"] if isinstance(body.get("message"), dict) else {}
        channel = _text_at(body, "channel", "id") or _text_at(body, "container", "channel_id")
        message_ts = _text_at(message, "ts") or _text_at(body, "container", "message_ts")
        if not (user and channel and message_ts):
            log.info("ignoring a feedback click without its user, channel or message")
            return
        text = _text_at(message, "text")
        self._feedback.record_vote(channel, message_ts, user, vote, plain_text(text))
        shown = message.get("blocks")
        blocks = with_feedback_recorded(
            [b for b in shown if isinstance(b, dict)] if isinstance(shown, list) else [],
            vote, user)
        try:
            self.client.chat_update(channel=channel, ts=message_ts, blocks=blocks, text=text)
        except SlackApiError:  # ephemeral messages can only be replaced via response_url
            respond(blocks=blocks, text=text, replace_original=True)

    # -- answering ------------------------------------------------------------------------------

    def _answer_in_thread(self, channel: str, thread_ts: str, question_ts: str, question: str,
                          history: list[Turn], user: str) -> None:
        if not question:
            self.client.chat_postMessage(channel=channel, thread_ts=thread_ts,
                                         text="Ask me a question about the articles.")
            return
        if not self._limiter.allow(user):
            self.client.chat_postMessage(channel=channel, thread_ts=thread_ts,
                                         text=self._rate_limited_text())
            return
        try:
            asked = self._request(question, history, channel)
        except RequestError as exc:
            self._desk.rejected(ROUTE, "ask")
            self.client.chat_postMessage(channel=channel, thread_ts=thread_ts,
                                         text=refusal_text(str(exc)))
            return
        placeholder_ts: str | None = None
        self._react("reactions_add", channel, question_ts)
        try:
            blocks, text = working_blocks(asked.question)
            placeholder = self.client.chat_postMessage(channel=channel, thread_ts=thread_ts,
                                                       blocks=blocks, text=text)
            placeholder_ts = placeholder["ts"]
            answer = self._desk.ask(asked, ROUTE)
            blocks, text = answer_blocks(answer)
            self.client.chat_update(channel=channel, ts=placeholder_ts, blocks=blocks, text=text)
            self._feedback.record_answer(channel, placeholder_ts, answer)
        except Exception as exc:  # an apology in the thread, never silence
            log.exception("answering in %s/%s failed", channel, thread_ts)
            self._apologise(channel, thread_ts, placeholder_ts, exc)
        finally:
            self._react("reactions_remove", channel, question_ts)

    def _apology(self, exc: Exception) -> tuple[list[dict[str, Any]], str]:
        # Our own messages are safe to show, secrets redacted (a store's error may repeat its
        # token or URL credentials); anything else stays in the log.
        return apology_blocks(safe(str(exc)) if isinstance(exc, NewsdeskError) else None)

    def _apologise(self, channel: str, thread_ts: str, placeholder_ts: str | None,
                   exc: Exception) -> None:
        blocks, text = self._apology(exc)
        try:
            if placeholder_ts:
                self.client.chat_update(channel=channel, ts=placeholder_ts, blocks=blocks,
                                        text=text)
            else:
                self.client.chat_postMessage(channel=channel, thread_ts=thread_ts,
                                             blocks=blocks, text=text)
        except Exception:
            log.exception("could not post the apology either")

    def _rate_limited_text(self) -> str:
        return (f"You've asked {self._options.user_rate_limit} questions in the last minute; "
                "please give me a moment before the next one.")

    def _react(self, method: str, channel: str, ts: str) -> None:
        try:
            getattr(self.client, method)(channel=channel, timestamp=ts, name=_WORKING_REACTION)
        except SlackApiError as exc:  # already reacted, missing scope: progress is optional
            log.debug("%s failed: %s", method, exc.response.get("error"))

    # -- threads --------------------------------------------------------------------------------

    def _replies(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        response = self.client.conversations_replies(channel=channel, ts=thread_ts, limit=200)
        return list(response.get("messages") or [])

    def _is_ours(self, message: dict[str, Any]) -> bool:
        return message.get("user") == self.bot_user_id or (
            self.bot_id is not None and message.get("bot_id") == self.bot_id)

    def _history(self, channel: str, thread_ts: str, exclude_ts: str) -> list[Turn]:
        return self._pairs(self._replies(channel, thread_ts), exclude_ts)

    def _pairs(self, messages: list[dict[str, Any]], exclude_ts: str) -> list[Turn]:
        """(question, answer) turns from a thread: a person's message, then our reply."""
        turns: list[Turn] = []
        pending: str | None = None
        for message in sorted(messages, key=lambda m: float(m.get("ts", 0))):
            if message.get("ts") == exclude_ts:
                continue
            if self._is_ours(message):
                if pending:
                    # Our own answer, as Slack stores the (escaped) text we sent.
                    said = plain_text(message.get("text") or "")
                    turns.append((pending, said.split("\n")[0]))
                    pending = None
            elif not message.get("bot_id"):
                pending = self._question(message.get("text", "")) or pending
        return turns[-self._options.history_turns:]

    # -- HTTP mode (bot.http.app serves /slack/events) -------------------------------------------

    def verify(self, body: bytes, headers: dict[str, str]) -> bool:
        """Whether Slack signed these raw bytes (and recently): checked before any parsing."""
        if self._verifier is None:
            return False
        return self._verifier.is_valid_request(body, headers)

    def dispatch(self, body: bytes, query: str, headers: dict[str, str]
                 ) -> tuple[int, dict[str, str], str]:
        """Hand a verified request to Bolt; returns status, headers and body of its reply."""
        bolt_headers: dict[str, str | Sequence[str]] = dict(headers)
        try:
            request = BoltRequest(body=body.decode("utf-8"), query=query, headers=bolt_headers)
        except (AttributeError, TypeError, KeyError, IndexError) as exc:
            # Bolt reads the body's fields as it builds the request: not a JSON object, or a
            # field of the wrong type. The caller answers 400 (ValueError, as for bad JSON).
            raise ValueError(f"malformed Slack request: {type(exc).__name__}") from None
        if request.body.get("type") == "event_callback" and not _text_at(request.body, "event",
                                                                        "type"):
            raise ValueError("malformed Slack request: an event callback without an event")
        response = self.app.dispatch(request)
        return response.status, response.first_headers_without_set_cookie(), response.body

    def close(self) -> None:
        self._listeners.shutdown(wait=True)
        self._answers.shutdown(wait=True)

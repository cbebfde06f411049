"""Logging for every command: one line per failure at the default level (tracebacks with -v),
library chatter only with -vv, and no secret value from the environment in any record."""

from __future__ import annotations

import logging
import os
import sys

from config.secrets import redact, secret_values

_OURS = ("bot", "ingest", "retrieval", "config", "bench", "__main__")
# Libraries that log, as warnings or errors, what Newsdesk reports itself as a failed source
# ("discarding data: None" is trafilatura finding no article text).
_REPORTED_BY_US = ("trafilatura", "htmldate", "courlan", "justext")
_MAX_LINE = 600


class SafeFormatter(logging.Formatter):
    """Redacts secrets from the whole formatted record; without `tracebacks`, an exception is
    folded into the message line as `(Type: first line)`."""

    def __init__(self, secrets: tuple[str, ...], tracebacks: bool) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")
        self._secrets = secrets
        self._tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if not self._tracebacks:
            record = _one_line(record)
        return redact(super().format(record), self._secrets)


def _one_line(record: logging.LogRecord) -> logging.LogRecord:
    """A copy of `record` that formats as a single line (other handlers keep the original)."""
    message = record.getMessage()
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        detail = str(exc).strip().splitlines()
        message += f" ({type(exc).__name__}{': ' + detail[0] if detail else ''})"
    message = " ".join(message.split())
    if len(message) > _MAX_LINE:
        message = message[:_MAX_LINE] + "…"
    copy = logging.makeLogRecord(record.__dict__)
    copy.msg, copy.args, copy.exc_info, copy.exc_text, copy.stack_info = (
        message, None, None, None, None)
    return copy


class LibraryFilter(logging.Filter):
    """Library records below WARNING only with -vv, and none of the failures we report
    ourselves. A filter on our handler rather than levels set on the libraries' loggers:
    some libraries set their own logger's level when imported, after us."""

    def __init__(self, verbosity: int) -> None:
        super().__init__()
        self._verbosity = verbosity

    def filter(self, record: logging.LogRecord) -> bool:
        package = record.name.split(".", 1)[0]
        if package in _OURS or self._verbosity >= 2:
            return record.levelno >= logging.getLogger().getEffectiveLevel()
        if package in _REPORTED_BY_US:
            return record.levelno >= logging.CRITICAL
        return record.levelno >= logging.WARNING


def configure_logging(verbosity: int) -> None:
    """Send log records to stderr, formatted safely; replaces an earlier call's handler."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "newsdesk", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.newsdesk = True  # type: ignore[attr-defined]
    handler.setFormatter(SafeFormatter(secret_values(os.environ), tracebacks=verbosity >= 1))
    handler.addFilter(LibraryFilter(verbosity))
    root.addHandler(handler)
    root.setLevel([logging.WARNING, logging.INFO, logging.DEBUG][min(verbosity, 2)])


def safe(text: str) -> str:
    """`text` with the environment's secret values redacted, for output written directly."""
    return redact(text, secret_values(os.environ))

"""Newsdesk's one exception hierarchy. The CLI maps these to a one-line message and an exit code."""


class NewsdeskError(Exception):
    """Base class for every error Newsdesk reports to a user."""

    exit_code = 1


class ConfigError(NewsdeskError):
    """Settings, flags or credentials are missing or invalid."""

    exit_code = 2


class SourceError(NewsdeskError):
    """One source (file, URL, feed, JSON line) could not be turned into an article."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class StoreError(NewsdeskError):
    """The vector store could not be read or written."""


class StoreBusyError(StoreError):
    """Another process holds the embedded store's write lock."""

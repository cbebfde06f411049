"""Newsdesk's one exception hierarchy (pure: no imports from the rest of Newsdesk).

Each front end maps it once: the CLI to one line on stderr and `exit_code`
(bot/cli/commands.py), HTTP to a status and a JSON body (bot/http/app.py), MCP to a tool error
(bot/mcp/tools.py), Slack to a polite reply (bot/slack/app.py).
"""

import errno

# How a full disk reads when a library has turned the OSError into its own error: SQLite
# ("database or disk is full"), Chroma's Rust side, the C library's own wording.
_FULL_DISK_WORDS = ("no space left on device", "database or disk is full", "disk full",
                    "errno 28", "os error 28", "disk quota exceeded")


class NewsdeskError(Exception):
    """Base class for every error Newsdesk reports to a user."""

    exit_code = 1


class ConfigError(NewsdeskError):
    """Settings, flags or credentials are missing or invalid."""

    exit_code = 2


class RequestError(NewsdeskError):
    """A question or search request is not acceptable as given (empty, too long, a bad date,
    k out of range); `field` names the part at fault. Nothing was asked of the store."""

    exit_code = 2

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


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


class DiskFullError(StoreError):
    """A write failed because the disk (or quota) is full."""


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc`, or an exception it was raised from, is a full disk (ENOSPC, EDQUOT or a
    library's wording of it)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(word in str(current).lower() for word in _FULL_DISK_WORDS):
            return True
        current = current.__cause__ or current.__context__
    return False

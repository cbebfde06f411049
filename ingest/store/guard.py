"""Chroma and its HTTP client raise many exception types; the store's callers get one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from config.errors import DiskFullError, NewsdeskError, StoreError, is_disk_full


@contextmanager
def guarded(location: str, action: str) -> Iterator[None]:
    """Run a Chroma call: a failure becomes StoreError (DiskFullError for a full disk) naming
    `action` ("read chunks") and the store's `location`; Newsdesk's own errors pass through."""
    try:
        yield
    except NewsdeskError:
        raise
    except Exception as exc:
        if is_disk_full(exc):
            raise DiskFullError(f"disk full: cannot {action} in the store at "
                                f"{location} ({type(exc).__name__}: {exc})") from exc
        raise StoreError(f"cannot {action}: the store at {location} failed "
                         f"({type(exc).__name__}: {exc})") from exc

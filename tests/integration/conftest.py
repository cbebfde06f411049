"""Fixtures of the integration tests that several files share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingest.embed.embedder import Embedder
from tests.integration.serving import Served, serving


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Served]:
    """The sample articles behind a running `newsdesk serve` (one per test file)."""
    with serving(tmp_path_factory.mktemp("serve-data"),
                 tmp_path_factory.mktemp("serve-news") / "news", embedder) as running:
        yield running

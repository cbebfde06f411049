"""Query embedding with the ONNX export of the model: same vectors as torch, no torch in a
command that answers, torch again when the export cannot be made."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.factory import Components
from config import load_settings
from config.settings import EmbeddingSettings
from ingest.embedding import Embedder, SentenceTransformerEmbedder
from ingest.onnx_embedding import OnnxEmbedder, onnx_query_embedder
from tests.helpers import SAMPLES

pytestmark = pytest.mark.slow

TEXTS = [
    "How much did the bridge repair cost?",
    "Short.",
    "The harbour council met on Tuesday and agreed the ferry budget for next year.",
    " ".join(f"word{i} of a very long article" for i in range(300)),  # past 256 tokens
]


def test_the_export_gives_the_torch_vectors(tmp_path: Path, embedder: Embedder) -> None:
    onnx = onnx_query_embedder(EmbeddingSettings(), tmp_path / "onnx")
    assert isinstance(onnx, OnnxEmbedder)
    cosine = np.sum(onnx.embed(TEXTS) * embedder.embed(TEXTS), axis=1)
    assert cosine.min() >= 0.9999, cosine
    assert onnx.count_tokens(TEXTS) == embedder.count_tokens(TEXTS)
    assert (onnx.max_tokens, onnx.dimension) == (256, 384)
    assert onnx.embed([]).shape == (0, 384)
    # Made once: a second use finds it and does not export again.
    stamp = (tmp_path / "onnx" / "all-MiniLM-L6-v2" / "model.onnx").stat().st_mtime_ns
    assert onnx_query_embedder(EmbeddingSettings(), tmp_path / "onnx") is not None
    assert (tmp_path / "onnx" / "all-MiniLM-L6-v2" / "model.onnx").stat().st_mtime_ns == stamp


def test_ingest_prepares_it_and_ask_never_imports_torch(data_dir: Path) -> None:
    ingest = subprocess.run([sys.executable, "-m", "bot.cli", "ingest", str(SAMPLES)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert ingest.returncode == 0, ingest.stderr
    assert (data_dir / "onnx" / "all-MiniLM-L6-v2" / "model.onnx").is_file()
    script = (
        "import sys\n"
        "from bot.cli import main\n"
        "sys.argv = ['newsdesk', 'ask', 'How much did the bridge repair cost?']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('torch imported' if 'torch' in sys.modules else 'no torch', file=sys.stderr)\n"
    )
    asked = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           timeout=120, check=False)
    assert "84 million euros" in asked.stdout, asked.stderr
    assert asked.stderr.strip().endswith("no torch")
    assert "sentence_transformers" not in asked.stderr


def test_a_model_that_cannot_be_exported_falls_back_to_torch(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def failing_export(cache_dir: Path, settings: EmbeddingSettings) -> list[str]:
        # A child that fails as an export of an unsupported model does.
        return [sys.executable, "-c", "import sys; sys.exit('RuntimeError: unsupported operator')"]

    monkeypatch.setattr("ingest.onnx_embedding.export_command", failing_export)
    with caplog.at_level(logging.WARNING):
        chosen = Components(load_settings()).query_embedder
    assert isinstance(chosen, SentenceTransformerEmbedder)
    [note] = [r for r in caplog.records if r.name == "ingest.onnx_embedding"]
    assert "cannot export all-MiniLM-L6-v2 to ONNX (RuntimeError: unsupported operator)" \
           in note.getMessage()
    monkeypatch.setenv("NEWSDESK_EMBEDDING__ONNX_QUERIES", "false")
    assert isinstance(Components(load_settings()).query_embedder, SentenceTransformerEmbedder)

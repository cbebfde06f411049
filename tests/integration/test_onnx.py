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
from config.errors import ConfigError
from config.settings import EmbeddingSettings
from ingest.embed.embedder import Embedder, SentenceTransformerEmbedder
from ingest.embed.onnx_embedder import (
    OnnxEmbedder,
    export_dir,
    int8_embedder,
    onnx_query_embedder,
)
from tests.helpers import SAMPLES

pytestmark = pytest.mark.slow

TEXTS = [
    "How much did the bridge repair cost?",
    "Short.",
    "The harbour council met on Tuesday and agreed the ferry budget for next year.",
    " ".join(f"word{i} of a very long article" for i in range(300)),  # past 256 tokens
]


def ask_in_a_new_process() -> subprocess.CompletedProcess[str]:
    """`newsdesk ask` about the samples; its stderr ends with whether torch was imported."""
    script = (
        "import sys\n"
        "from bot.cli.commands import main\n"
        "sys.argv = ['newsdesk', 'ask', 'How much did the bridge repair cost?']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('torch imported' if 'torch' in sys.modules else 'no torch', file=sys.stderr)\n"
    )
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=False)


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


def test_ingest_prepares_it_and_ask_never_imports_torch(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDESK_EMBEDDING__EXPORT_DIR", str(data_dir / "onnx"))  # made here
    ingest = subprocess.run([sys.executable, "-m", "bot.cli", "ingest", str(SAMPLES)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert ingest.returncode == 0, ingest.stderr
    assert (data_dir / "onnx" / "all-MiniLM-L6-v2" / "model.onnx").is_file()
    asked = ask_in_a_new_process()
    assert "84 million euros" in asked.stdout, asked.stderr
    assert asked.stderr.strip().endswith("no torch")
    assert "sentence_transformers" not in asked.stderr


def test_a_model_that_cannot_be_exported_falls_back_to_torch(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def failing_export(cache_dir: Path, settings: EmbeddingSettings) -> list[str]:
        # A child that fails as an export of an unsupported model does.
        return [sys.executable, "-c", "import sys; sys.exit('RuntimeError: unsupported operator')"]

    monkeypatch.setattr("ingest.embed.onnx_embedder.export_command", failing_export)
    monkeypatch.setenv("NEWSDESK_EMBEDDING__EXPORT_DIR", str(data_dir / "onnx"))  # none yet
    with caplog.at_level(logging.WARNING):
        chosen = Components(load_settings()).query_embedder
    assert isinstance(chosen, SentenceTransformerEmbedder)
    [note] = [r for r in caplog.records if r.name == "ingest.embed.onnx_embedder"]
    assert "cannot export all-MiniLM-L6-v2 to ONNX (RuntimeError: unsupported operator)" \
           in note.getMessage()
    monkeypatch.setenv("NEWSDESK_EMBEDDING__ONNX_QUERIES", "false")
    assert isinstance(Components(load_settings()).query_embedder, SentenceTransformerEmbedder)


def test_int8_precision_ingests_and_answers_without_torch_and_never_mixes(
        data_dir: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDESK_EMBEDDING__PRECISION", "int8")
    monkeypatch.setenv("NEWSDESK_EMBEDDING__EXPORT_DIR", str(data_dir / "onnx"))  # made here
    ingest = subprocess.run([sys.executable, "-m", "bot.cli", "ingest", str(SAMPLES)],
                            capture_output=True, text=True, timeout=600, check=False)
    assert ingest.returncode == 0, ingest.stderr
    assert (data_dir / "onnx" / "all-MiniLM-L6-v2-int8" / "model.onnx").is_file()
    assert not (data_dir / "onnx" / "all-MiniLM-L6-v2").exists()  # no float32 export needed
    asked = ask_in_a_new_process()
    assert "84 million euros" in asked.stdout, asked.stderr
    assert asked.stderr.strip().endswith("no torch")

    components = Components(load_settings())
    int8 = components.embedder
    assert isinstance(int8, OnnxEmbedder) and components.query_embedder is int8
    cosine = np.sum(int8.embed(TEXTS) * embedder.embed(TEXTS), axis=1)
    assert cosine.min() >= 0.97, cosine  # close to float32 ...
    assert cosine.max() < 0.99999, cosine  # ... but quantised: other vectors
    assert components.store.stats()["model"] == "all-MiniLM-L6-v2 (int8)"
    # Vectors of the other precision never join the collection: float32 settings are refused.
    monkeypatch.setenv("NEWSDESK_EMBEDDING__PRECISION", "float32")
    refused = subprocess.run([sys.executable, "-m", "bot.cli", "ingest", str(SAMPLES)],
                             capture_output=True, text=True, timeout=300, check=False)
    assert refused.returncode == 2, refused.stderr
    assert ("was built with embedding model 'all-MiniLM-L6-v2 (int8)', "
            "not 'all-MiniLM-L6-v2'; its vectors are int8: set [embedding] precision = "
            "\"int8\"") in refused.stderr


def test_int8_without_an_export_is_refused_not_mixed_with_torch(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def failing_export(cache_dir: Path, settings: EmbeddingSettings) -> list[str]:
        return [sys.executable, "-c", "import sys; sys.exit('RuntimeError: unsupported operator')"]

    monkeypatch.setattr("ingest.embed.onnx_embedder.export_command", failing_export)
    monkeypatch.setenv("NEWSDESK_EMBEDDING__PRECISION", "int8")
    monkeypatch.setenv("NEWSDESK_EMBEDDING__EXPORT_DIR", str(data_dir / "onnx"))  # none yet
    with caplog.at_level(logging.WARNING), pytest.raises(
            ConfigError, match=r"precision int8 needs an ONNX export .*"
                               r"\(RuntimeError: unsupported operator\)"):
        _ = Components(load_settings()).embedder
    # Said once, by the error: no warning before it with the same reason.
    assert [r for r in caplog.records if r.name == "ingest.embed.onnx_embedder"] == []


def test_the_export_is_made_once_per_machine_in_the_users_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    shared = tmp_path / "cache" / "newsdesk" / "onnx"
    # every data directory shares the user's cache
    assert export_dir(EmbeddingSettings(), tmp_path / "one") == shared
    assert export_dir(EmbeddingSettings(), tmp_path / "two") == shared
    # a setting moves it; a cache that cannot be made leaves each data directory its own
    assert export_dir(EmbeddingSettings(export_dir="~/x"), tmp_path / "one") == \
        Path("~/x").expanduser()
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    assert export_dir(EmbeddingSettings(), tmp_path / "one") == tmp_path / "one" / "onnx"


def test_a_damaged_export_is_made_again_and_an_unwritable_one_is_reported(
        tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    cache = tmp_path / "onnx"
    assert onnx_query_embedder(EmbeddingSettings(), cache) is not None
    model = cache / "all-MiniLM-L6-v2" / "model.onnx"
    model.write_bytes(model.read_bytes()[:4096])  # a copy cut short
    with caplog.at_level(logging.WARNING):
        again = onnx_query_embedder(EmbeddingSettings(), cache)
    assert again is not None
    assert np.sum(again.embed(TEXTS) * embedder.embed(TEXTS), axis=1).min() >= 0.9999
    assert any("cannot be read" in r.getMessage() and "making it again" in r.getMessage()
               for r in caplog.records)
    # A folder where its lock cannot be made (read-only, immutable): torch for float32
    # questions, a clear refusal for int8, never a traceback.
    other = tmp_path / "locked"
    (other / "all-MiniLM-L6-v2.lock").mkdir(parents=True)
    (other / "all-MiniLM-L6-v2-int8.lock").mkdir()
    assert onnx_query_embedder(EmbeddingSettings(), other) is None
    with pytest.raises(ConfigError, match="precision int8 needs an ONNX export"):
        int8_embedder(EmbeddingSettings(precision="int8"), other)

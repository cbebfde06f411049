"""Going on training from the shipped reader: its int8 ONNX, dequantised into the torch net
(bench/reader_weights.py), computes what the shipped model computes."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench.reader_weights import load_into, state_from_onnx
from bench.train_reader import BASE, build_model
from ingest.embed.embedder import resolve_model_path
from retrieval.answer.reader import Budgets, PairEncoder, Reader, ReaderInput, model_directory

pytestmark = pytest.mark.slow

PAIRS = [
    ("How old is the driver?",
     ReaderInput("Volodymyr Zhukovskyy, 23, pleaded not guilty on Tuesday.", "",
                 "He was charged after the crash.", headline="Driver charged over crash")),
    ("Where did the helicopter crash?",
     ReaderInput("The helicopter crashed in Calabasas on Sunday.",
                 "Nine people died in the accident.", "Fans gathered outside the arena.",
                 headline="Basketball star killed in helicopter crash")),
    ("Where did the helicopter crash?",
     ReaderInput("Shares in the carmaker rose 4% after it reported record sales.", "", "",
                 headline="Carmaker's sales")),
]


def test_the_dequantised_weights_read_as_the_shipped_model_does() -> None:
    import torch
    from tokenizers import Tokenizer

    from retrieval.answer.reader import pad_batch, readings_from_outputs

    base = resolve_model_path(BASE)
    net = build_model(base)
    untouched = load_into(net, model_directory() / "model.onnx")
    assert all(name.startswith("encoder.pooler.") for name in untouched)  # unused by the reader
    net.eval()
    encoder = PairEncoder(Tokenizer.from_file(str(Path(base) / "tokenizer.json")), Budgets())
    shipped = Reader(threads=2)
    probabilities: list[tuple[float, float]] = []
    for question, candidate in PAIRS:
        (encoded,) = encoder.encode(question, [candidate])
        feed = {k: torch.from_numpy(v) for k, v in pad_batch([encoded]).items()}
        with torch.no_grad():
            answer, start, end = net(**feed)
        (ours,) = readings_from_outputs([encoded], [candidate], answer.numpy(), start.numpy(),
                                        end.numpy())
        (theirs,) = shipped.read(question, [candidate])
        # the shipped model quantises activations too: close, not equal (max |ΔP| 0.39 over
        # 340 training pairs, mean 0.016; same span on 0.93)
        assert abs(logit(ours.p_answer) - logit(theirs.p_answer)) < 1.0, question
        assert ours.span == theirs.span, question
        probabilities.append((ours.p_answer, theirs.p_answer))
    # both read the crash sentence as the answer and the sales sentence as none
    assert probabilities[1][0] > 0.5 > probabilities[2][0]
    assert probabilities[1][1] > 0.5 > probabilities[2][1]


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def test_a_file_without_reader_weights_is_refused(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "empty",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    path = tmp_path / "model.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(ValueError, match="no reader weights"):
        state_from_onnx(path)


def test_weights_for_another_net_are_refused_not_half_loaded() -> None:
    import torch

    other = torch.nn.Linear(2, 2)
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(ValueError, match="unknown"):
        load_into(other, model_directory() / "model.onnx")
    assert all(torch.equal(before[k], v) for k, v in other.state_dict().items())

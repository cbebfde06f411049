"""Float weights of a shipped int8 reader, to go on training from (`train_reader.py
--init-from model.onnx`).

The export keeps only the int8 ONNX model; a run's float state dict (`--save-torch`) lives
outside the repository and can be lost. Dequantising the ONNX initialisers gives the weights
the shipped model computes with: each int8 matrix × its scale (per output channel for the
layers, per tensor for the embeddings), transposed back to torch's Linear layout; LayerNorm
and bias vectors are stored in float already. Which torch parameter a matrix is comes from
the name torch.onnx.export gave its MatMul ("/encoder/encoder/layer.0/attention/self/query/
MatMul") or the initialiser's own name ("answer.1.weight_Transposed").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

# "/encoder/encoder/layer.3/attention/self/query/MatMul_output_0_output_quantized"
_MATMUL = re.compile(r"^/(.+)/MatMul_output_0_output_quantized$")
_SUFFIX = "_quantized"


def _dequantised(tensors: dict[str, np.ndarray], name: str) -> np.ndarray:
    """`name`_quantized × scale, zero point removed (scale per tensor or per last axis)."""
    base = name[: -len(_SUFFIX)]
    values = tensors[name].astype(np.float32)
    zero = tensors[f"{base}_zero_point"].astype(np.float32)
    scale = tensors[f"{base}_scale"].astype(np.float32)
    return (values - zero) * scale


def state_from_onnx(path: Path) -> dict[str, Any]:
    """The reader's torch state dict (bench/train_reader.py build_model's names) from an
    int8 ONNX export. Raises ValueError when a parameter cannot be placed."""
    import onnx
    import torch
    from onnx import numpy_helper

    model = onnx.load(str(path))
    tensors = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    state: dict[str, Any] = {}
    for name, value in tensors.items():
        if name.endswith(_SUFFIX):
            base = name[: -len(_SUFFIX)]
            if base.startswith("encoder.embeddings."):  # Gather tables: [rows, hidden]
                state[base] = _dequantised(tensors, name)
            elif base.endswith(".weight_Transposed"):  # a Gemm's weight, stored [in, out]
                state[base[: -len("_Transposed")]] = _dequantised(tensors, name).T
        elif re.match(r"^(encoder|answer|span)(\..+)?\.(weight|bias)$", name) \
                and value.dtype == np.float32:
            state[name] = value
    for node in model.graph.node:
        if node.op_type != "MatMulInteger":
            continue
        found = _MATMUL.match(node.output[0])
        if found is None:
            continue
        module = found.group(1).strip("/").replace("/", ".")
        state[f"{module}.weight"] = _dequantised(tensors, node.input[1]).T  # [out, in]
    if not state:
        raise ValueError(f"no reader weights found in {path}")
    return {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in state.items()}


def load_into(model: Any, path: Path) -> list[str]:
    """Load `path`'s weights into a build_model() net; returns the parameters it did not
    hold (buffers such as position ids are fine). ValueError when a weight has another
    shape or the file holds a name the net lacks."""
    state = state_from_onnx(path)
    own = model.state_dict()
    strangers = [k for k in state if k not in own]
    shapes = [k for k in state if k in own and tuple(own[k].shape) != tuple(state[k].shape)]
    if strangers or shapes:
        raise ValueError(f"{path}: unknown {strangers[:5]}, other shapes {shapes[:5]}")
    model.load_state_dict(state, strict=False)
    # the pooler is never used by the reader; it keeps the base model's weights
    return [k for k in own if k not in state]

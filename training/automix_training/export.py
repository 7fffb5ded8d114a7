"""ONNX export: one self-contained file per model (opset 17, dynamic batch, weights inside)."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import torch

from .model import AutomixCnn

OPSET = 17
INPUT_NAME = "features"
OUTPUT_NAME = "outputs"


def export(net: AutomixCnn, path: Path) -> AutomixCnn:
    """Writes `path` and returns the exported module (eval mode). Outputs stay normalised to
    [0, 1]; models.json gives each one's range."""
    module = net.eval()
    example = torch.zeros(2, 2, 128, 64)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of torch.export, which needs
        # onnxscript; this small static graph exports identically with either.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            module,
            (example,),
            str(path),
            opset_version=OPSET,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            dynamo=False,
        )
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer):
        raise RuntimeError(f"{path}: weights were written to an external file")
    return module


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def max_difference(module: AutomixCnn, path: Path, x: np.ndarray) -> float:
    """Largest |ONNX Runtime − PyTorch| on `x`."""
    with torch.no_grad():
        want = module(torch.from_numpy(np.array(x, dtype=np.float32))).numpy()
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = onnxruntime.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    got = sess.run([OUTPUT_NAME], {INPUT_NAME: x})[0]
    return float(np.abs(got - want).max())

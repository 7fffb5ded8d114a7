"""ONNX export of the separator and the VAD (opset 17, weights inside, dynamic batch; the VAD's
time axis is dynamic too), checked against PyTorch with ONNX Runtime."""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import torch

from . import spectral

OPSET = 17
SEPARATOR_IO = ("input", "mask")
VAD_IO = ("power", "probability")


def _export(module, example, path: Path, io, dynamic) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            module.eval(),
            (example,),
            str(path),
            opset_version=OPSET,
            input_names=[io[0]],
            output_names=[io[1]],
            dynamic_axes=dynamic,
            dynamo=False,
        )
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer):
        raise RuntimeError(f"{path}: weights were written to an external file")


def export_separator(net, path: Path) -> None:
    example = torch.rand(2, 2, spectral.BINS, spectral.PATCH)
    _export(net, example, path, SEPARATOR_IO, {SEPARATOR_IO[0]: {0: "batch"}, SEPARATOR_IO[1]: {0: "batch"}})


def export_vad(net, path: Path) -> None:
    example = torch.rand(1, 1, spectral.VAD_BINS, 200) * 1e-3
    _export(net, example, path, VAD_IO, {VAD_IO[0]: {0: "batch", 3: "frames"}, VAD_IO[1]: {0: "batch", 1: "frames"}})


def max_difference(net, path: Path, x: np.ndarray, io) -> float:
    with torch.no_grad():
        want = net.eval()(torch.from_numpy(x)).numpy()
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = onnxruntime.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    got = sess.run([io[1]], {io[0]: x})[0]
    return float(np.abs(got - want).max())


def ship_one(net, which: str, out: Path, base: Path):
    """`net` exported as `out/<which>.onnx` (which: "separator" or "vad") beside a copy of the
    other shipped model from `base`, checked against ONNX Runtime. Returns the manifest of `base`
    with the exported model's entry (its sha256 set; the caller fills in the rest) and the
    largest difference from PyTorch."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{which}.onnx"
    if which == "separator":
        export_separator(net.eval(), path)
        x = (torch.rand(2, 2, spectral.BINS, spectral.PATCH) * 0.1).numpy()
        diff = max_difference(net, path, x, SEPARATOR_IO)
    else:
        export_vad(net.eval(), path)
        x = (torch.rand(1, 1, spectral.VAD_BINS, 300) * 1e-3).numpy()
        diff = max_difference(net, path, x, VAD_IO)
    print(f"ONNX Runtime against PyTorch: {diff:.2e}", flush=True)
    other = "vad" if which == "separator" else "separator"
    shutil.copy(base / f"{other}.onnx", out / f"{other}.onnx")
    manifest = json.loads((base / "models.json").read_text())
    manifest["separation"][which]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return manifest, diff

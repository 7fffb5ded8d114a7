"""`python -m automix_training --datasets DIR --out models/`: trains the four models on what
`automix dataset` wrote under DIR/<task>/, exports them and writes models/models.json.
`scripts/train-models.sh` makes the datasets and calls this."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

import numpy as np
import torch

from . import data, export, train

TASKS = ("eq", "compression", "reverb", "level")  # chain order
STAGE = {"eq": "eq", "compression": "compressor", "reverb": "reverb", "level": "level"}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m automix_training", description=__doc__)
    p.add_argument("--datasets", type=Path, required=True, help="folder holding <task>/ from `automix dataset`")
    p.add_argument("--out", type=Path, required=True, help="where the .onnx files and models.json go")
    p.add_argument("--tasks", default=",".join(TASKS), help="comma-separated subset of eq,compression,reverb,level")
    p.add_argument("--max-epochs", type=int, default=None, help="default 40")
    p.add_argument("--patience", type=int, default=None)
    p.add_argument("--steps-per-epoch", type=int, default=None, help="cap optimiser steps per epoch (tests)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    tasks = [t for t in a.tasks.split(",") if t]
    for t in tasks:
        if t not in TASKS:
            print(f"unknown task `{t}`: choose from {', '.join(TASKS)}", file=sys.stderr)
            return 2
    a.out.mkdir(parents=True, exist_ok=True)
    manifest_path = a.out / "models.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    manifest.update(
        {
            "format": "vocal-automix/models",
            "version": 1,
            "input": {
                "name": export.INPUT_NAME,
                "shape": ["batch", 2, 128, 64],
                "dtype": "float32",
                "description": "engine::analysis::cnn_features: mel power (44.1 kHz, FFT 2048, hop 1024, 128 Slaney bands) of the vocal (channel 0) and the backing (1), 64 frames a block, each channel divided by its maximum, frames under the vocal-activity gate left out",
            },
            "output_name": export.OUTPUT_NAME,
            "outputs_are": "normalised: each output y maps to min + (max - min) * y of its entry in `outputs`",
            "opset": export.OPSET,
        }
    )
    models = manifest.setdefault("models", {})
    for task in tasks:
        try:
            ds = data.load(a.datasets / task)
        except data.DatasetError as e:
            print(f"{task}: {e}", file=sys.stderr)
            return 1
        counts = {s: int(len(ds.indices(s))) for s in data.SPLITS}
        print(f"{task}: {counts['train']} train, {counts['validation']} validation, {counts['test']} test examples")
        if counts["train"] < 2:
            print(f"{task}: fewer than 2 training examples; skipped (the assistant keeps its rules)", file=sys.stderr)
            models.pop(task, None)
            continue
        settings = train.Settings.paper(
            task, max_epochs=a.max_epochs, patience=a.patience, steps_per_epoch=a.steps_per_epoch, seed=a.seed
        )
        result = train.train(ds, settings)
        figures = train.held_out(result.model, ds)
        path = a.out / f"{task}.onnx"
        module = export.export(result.model, path)
        probe = np.ascontiguousarray(ds.features[: min(8, len(ds.targets))], dtype=np.float32)
        diff = export.max_difference(module, path, probe)
        if diff >= 1e-4:
            print(f"{task}: ONNX Runtime differs from PyTorch by {diff:g}", file=sys.stderr)
            return 1
        models[task] = {
            "stage": STAGE[task],
            "file": path.name,
            "sha256": export.sha256(path),
            "outputs": ds.meta["outputs"],
            "training": {
                "dataset": {
                    "generation": ds.meta["generation"],
                    "examples": counts,
                    "sources": ds.meta["sources"],
                    "split_by": ds.meta["split_by"],
                    "licences": ds.meta["licences"],
                    "seed": ds.meta["seed"],
                },
                "settings": train.settings_json(settings),
                "epochs_run": result.epochs_run,
                "best_epoch": result.best_epoch,
                "stopped_on": result.validation_used,
                "seconds": round(result.seconds, 1),
                "torch": torch.__version__,
                "date": datetime.date.today().isoformat(),
            },
            "held_out": figures,
            "onnx_vs_torch_max_abs_difference": diff,
        }
        print(f"{task}: held out: {json.dumps(figures)}")
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Reads what `automix dataset` wrote: OUT/<task>/{features.f32, targets.f32, blocks.tsv, meta.json}."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

INPUT_SHAPE = (2, 128, 64)
SPLITS = ("train", "validation", "test")


class DatasetError(Exception):
    """A dataset folder that cannot be used, with what to do about it."""


@dataclass
class Dataset:
    task: str
    meta: dict
    features: np.ndarray  # (examples, 2, 128, 64) float32, memory-mapped
    targets: np.ndarray  # (examples, outputs) float32, in the outputs' own units
    split: np.ndarray  # (examples,) str
    source: np.ndarray  # (examples,) str
    changed: np.ndarray | None  # EQ: which bands the random EQ changed

    @property
    def names(self) -> list[str]:
        return [o["name"] for o in self.meta["outputs"]]

    @property
    def low(self) -> np.ndarray:
        return np.array([o["min"] for o in self.meta["outputs"]], dtype=np.float32)

    @property
    def high(self) -> np.ndarray:
        return np.array([o["max"] for o in self.meta["outputs"]], dtype=np.float32)

    def normalise(self, y: np.ndarray) -> np.ndarray:
        return (y - self.low) / (self.high - self.low)

    def indices(self, split: str) -> np.ndarray:
        return np.flatnonzero(self.split == split)


def load(folder: Path) -> Dataset:
    folder = Path(folder)
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise DatasetError(f"{folder}: no meta.json; make the data with `automix dataset DIR --out OUT --task TASK`")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as e:
        raise DatasetError(f"{meta_path}: not JSON ({e}); make the data again") from e
    if meta.get("format") != "automix-dataset" or meta.get("version") != 1:
        raise DatasetError(f"{meta_path}: not an automix dataset of version 1")
    if tuple(meta["input_shape"]) != INPUT_SHAPE:
        raise DatasetError(f"{meta_path}: input shape {meta['input_shape']}, this trainer takes {list(INPUT_SHAPE)}")
    outputs = len(meta["outputs"])
    block = int(np.prod(INPUT_SHAPE))
    feat_path, targ_path = folder / "features.f32", folder / "targets.f32"
    for p in (feat_path, targ_path, folder / "blocks.tsv"):
        if not p.is_file():
            raise DatasetError(f"{p}: missing; make the data again")
    n_feat = feat_path.stat().st_size // 4
    n_targ = targ_path.stat().st_size // 4
    if n_feat % block or n_targ % outputs or n_feat // block != n_targ // outputs:
        raise DatasetError(
            f"{folder}: features ({n_feat} values) and targets ({n_targ}) do not hold the same number of "
            f"examples (truncated?); make the data again"
        )
    n = n_feat // block
    features = (
        np.memmap(feat_path, dtype="<f4", mode="r", shape=(n,) + INPUT_SHAPE)
        if n
        else np.zeros((0,) + INPUT_SHAPE, np.float32)
    )
    targets = np.fromfile(targ_path, dtype="<f4").reshape(n, outputs)
    with open(folder / "blocks.tsv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if len(rows) != n:
        raise DatasetError(f"{folder}: blocks.tsv lists {len(rows)} examples, the features hold {n}")
    if not np.isfinite(targets).all():
        raise DatasetError(f"{folder}: targets hold NaN or infinity")
    split = np.array([r["split"] for r in rows])
    source = np.array([r["source"] for r in rows])
    changed = None
    if meta["task"] == "eq":
        changed = targets != 0.0
    return Dataset(meta["task"], meta, features, targets, split, source, changed)

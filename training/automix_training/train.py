"""Training one stage's model: Adam, the paper's learning rates and batch sizes, early stopping on
the validation split, then held-out figures on the test split beside the dataset-mean predictor."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from . import losses
from .data import Dataset
from .model import AutomixCnn

# Li & Lerch, §IV-A. The reverb's rate is the paper's too (1e-5, weight decay 1e-5).
PAPER = {
    "level": {"lr": 1e-3, "batch": 25, "weight_decay": 0.0},
    "compression": {"lr": 1e-4, "batch": 25, "weight_decay": 0.0},
    "eq": {"lr": 1e-3, "batch": 30, "weight_decay": 0.0},
    "reverb": {"lr": 1e-5, "batch": 25, "weight_decay": 1e-5},
}


@dataclass
class Settings:
    lr: float
    batch: int
    weight_decay: float
    max_epochs: int = 40
    patience: int = 5
    seed: int = 1
    # A cap on optimiser steps per epoch (None: the whole training split every epoch).
    steps_per_epoch: int | None = None

    @staticmethod
    def paper(task: str, **overrides) -> "Settings":
        s = Settings(**PAPER[task])
        for k, v in overrides.items():
            if v is not None:
                setattr(s, k, v)
        return s


@dataclass
class Result:
    model: AutomixCnn
    settings: Settings
    epochs_run: int
    best_epoch: int
    best_validation_loss: float | None
    history: list[dict]
    seconds: float
    validation_used: str


def _batches(idx: np.ndarray, batch: int, rng: np.random.Generator | None):
    order = rng.permutation(idx) if rng is not None else idx
    for i in range(0, len(order), batch):
        yield np.sort(order[i : i + batch])  # sorted reads from the memory map


def _tensors(ds: Dataset, idx: np.ndarray):
    x = torch.from_numpy(np.ascontiguousarray(ds.features[idx], dtype=np.float32))
    y = torch.from_numpy(ds.normalise(ds.targets[idx]).astype(np.float32))
    c = torch.from_numpy(ds.changed[idx]) if ds.changed is not None else None
    return x, y, c


def evaluate_loss(model, ds: Dataset, idx: np.ndarray, weights, batch: int = 256) -> float:
    model.eval()
    total, n = 0.0, 0
    with torch.no_grad():
        for b in _batches(idx, batch, None):
            x, y, c = _tensors(ds, b)
            total += float(losses.loss(ds.task, model(x), y, c, weights)) * len(b)
            n += len(b)
    return total / max(n, 1)


def predict(model, ds: Dataset, idx: np.ndarray, batch: int = 256) -> np.ndarray:
    """Predictions in the outputs' units."""
    model.eval()
    out = []
    with torch.no_grad():
        for b in _batches(idx, batch, None):
            x, _, _ = _tensors(ds, b)
            out.append(model(x).numpy())
    y = np.concatenate(out) if out else np.zeros((0, len(ds.names)), np.float32)
    return ds.low + (ds.high - ds.low) * y


def train(ds: Dataset, settings: Settings, say=print) -> Result:
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    train_idx = ds.indices("train")
    if len(train_idx) == 0:
        raise ValueError(f"{ds.task}: no training examples")
    val_idx = ds.indices("validation")
    validation_used = "validation"
    if len(val_idx) == 0:
        # No validation songs (a tiny dataset): stop on the training loss, and say so.
        val_idx, validation_used = train_idx, "train (no validation split)"
    model = AutomixCnn(len(ds.names))
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    weights = losses.weights_for(ds.task, ds.names)
    best = (math.inf, 0, {k: v.clone() for k, v in model.state_dict().items()})
    history = []
    start = time.time()
    epoch = 0
    for epoch in range(1, settings.max_epochs + 1):
        model.train()
        running, seen = 0.0, 0
        for step, b in enumerate(_batches(train_idx, settings.batch, rng)):
            if settings.steps_per_epoch is not None and step >= settings.steps_per_epoch:
                break
            if len(b) < 2:
                continue  # BatchNorm needs two examples to train on
            x, y, c = _tensors(ds, b)
            opt.zero_grad()
            loss = losses.loss(ds.task, model(x), y, c, weights)
            loss.backward()
            opt.step()
            running += loss.item() * len(b)
            seen += len(b)
        val = evaluate_loss(model, ds, val_idx, weights)
        history.append({"epoch": epoch, "train_loss": running / max(seen, 1), "validation_loss": val})
        say(f"{ds.task}: epoch {epoch}: train loss {running / max(seen, 1):.5f}, {validation_used} loss {val:.5f}")
        if val < best[0]:
            best = (val, epoch, {k: v.clone() for k, v in model.state_dict().items()})
        elif epoch - best[1] >= settings.patience:
            say(f"{ds.task}: no better {validation_used} loss for {settings.patience} epochs; best epoch {best[1]}")
            break
    model.load_state_dict(best[2])
    model.eval()
    return Result(
        model=model,
        settings=settings,
        epochs_run=epoch,
        best_epoch=best[1],
        best_validation_loss=None if math.isinf(best[0]) else best[0],
        history=history,
        seconds=time.time() - start,
        validation_used=validation_used,
    )


def _round(x: float) -> float:
    return float(f"{x:.4g}")


def held_out(model, ds: Dataset) -> dict:
    """MAE per output on the test split, the model's beside the predictor that always answers the
    training split's mean (the research's baseline, and what the rules use for every stage but the
    EQ and the reverb time). Per block, as the research's table, and per source with the model's
    predictions averaged over the source's blocks, as the assistant uses them."""
    test_idx = ds.indices("test")
    if len(test_idx) == 0:
        return {"split": "test", "examples": 0, "note": "no held-out songs: too few singers or songs for a test split"}
    train_idx = ds.indices("train")
    pred = predict(model, ds, test_idx)
    truth = ds.targets[test_idx]
    mean = ds.targets[train_idx].mean(axis=0)
    err = np.abs(pred - truth)
    err_mean = np.abs(mean - truth)
    out = {
        "split": "test",
        "examples": int(len(test_idx)),
        "sources": int(len(set(ds.source[test_idx]))),
        "mae": {n: _round(v) for n, v in zip(ds.names, err.mean(axis=0))},
        "mean_predictor_mae": {n: _round(v) for n, v in zip(ds.names, err_mean.mean(axis=0))},
        "mae_all": _round(err.mean()),
        "mean_predictor_mae_all": _round(err_mean.mean()),
        # each output's error as a share of its range, so outputs in hertz and in dB weigh alike
        "mae_normalised": _round((err / (ds.high - ds.low)).mean()),
        "mean_predictor_mae_normalised": _round((err_mean / (ds.high - ds.low)).mean()),
    }
    # per source: the assistant averages its predictions over a song's blocks
    sources = ds.source[test_idx]
    per_src, per_src_mean = [], []
    for s in sorted(set(sources)):
        m = sources == s
        per_src.append(np.abs(pred[m].mean(axis=0) - truth[m].mean(axis=0)))
        per_src_mean.append(np.abs(mean - truth[m].mean(axis=0)))
    if ds.task != "eq" and ds.task != "reverb":
        out["mae_per_source_all"] = _round(np.mean(per_src))
        out["mean_predictor_mae_per_source_all"] = _round(np.mean(per_src_mean))
    if ds.changed is not None:
        ch = ds.changed[test_idx]
        out["eq"] = {
            "changed_bands": {
                "mae": _round(err[ch].mean()),
                "mean_predictor_mae": _round(err_mean[ch].mean()),
                "zeros_mae": _round(np.abs(truth[ch]).mean()),
            },
            "unchanged_bands": {
                "mae": _round(err[~ch].mean()),
                "mean_predictor_mae": _round(err_mean[~ch].mean()),
                "zeros_mae": 0.0,
            },
            "all_bands": {"zeros_mae": _round(np.abs(truth).mean())},
            # The assistant applies the four largest predicted gains: how often those are the
            # four bands the random EQ changed.
            "top4_bands_hit_rate": _round(_top4_hits(pred, ch)),
        }
    out["beats_mean_predictor"] = bool(out["mae_normalised"] < out["mean_predictor_mae_normalised"])
    return out


def _top4_hits(pred: np.ndarray, changed: np.ndarray) -> float:
    top = np.argsort(-np.abs(pred), axis=1)[:, :4]
    hits = np.take_along_axis(changed, top, axis=1)
    return float(hits.mean()) if hits.size else 0.0


def settings_json(s: Settings) -> dict:
    return asdict(s)

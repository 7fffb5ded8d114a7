"""Separation and VAD on whole clips, as the engine runs them (patches of 128 frames overlapping
by 16, cross-faded; the mask above 8 kHz is the mean of the 4–8 kHz mask), and BSS Eval
(mir_eval's bss_eval_sources) with seed 004's length-weighted global figures."""

from __future__ import annotations

import multiprocessing
import warnings

import numpy as np
import torch

from . import models, spectral, train

STEP = 112  # patch hop in frames: 16 frames of overlap
RAMP = 16


def patch_weights() -> np.ndarray:
    t = np.arange(spectral.PATCH)
    return np.minimum(1.0, np.minimum(t + 1, spectral.PATCH - t) / (RAMP + 1)).astype(np.float32)


def patch_starts(frames: int) -> list[int]:
    starts = list(range(0, max(1, frames - spectral.PATCH + STEP), STEP))
    return starts or [0]


def unet_mask(net: models.UNet, mag: np.ndarray, act: np.ndarray, batch: int = 16) -> np.ndarray:
    """mag (512, T), act (T) → mask (512, T)."""
    frames = mag.shape[1]
    starts = patch_starts(frames)
    padded = frames if not starts else max(frames, starts[-1] + spectral.PATCH)
    m = np.zeros((spectral.BINS, padded), np.float32)
    m[:, :frames] = mag
    a = np.zeros(padded, np.float32)
    a[:frames] = act
    x = np.stack([np.stack([m[:, s : s + spectral.PATCH], np.broadcast_to(a[s : s + spectral.PATCH], (spectral.BINS, spectral.PATCH))]) for s in starts])
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(net(torch.from_numpy(x[i : i + batch])).numpy()[:, 0])
    out = np.concatenate(out)
    w = patch_weights()
    acc = np.zeros((spectral.BINS, padded), np.float32)
    norm = np.zeros(padded, np.float32)
    for s, p in zip(starts, out):
        acc[:, s : s + spectral.PATCH] += p * w
        norm[s : s + spectral.PATCH] += w
    return acc[:, :frames] / norm[:frames]


def full_mask(mask: np.ndarray, bins: int) -> np.ndarray:
    """The 512-bin mask carried to `bins` bins: above 8 kHz, each frame's mean 4–8 kHz mask."""
    high = mask[spectral.BINS // 2 :].mean(axis=0, keepdims=True)
    return np.concatenate([mask, np.repeat(high, bins - spectral.BINS, axis=0)])


def separate_unet(net, mix: np.ndarray, act_fn) -> np.ndarray:
    """The vocal estimate; `act_fn(frames)` gives the activity at the separator's frames."""
    s = spectral.stft(torch.from_numpy(mix))
    frames = s.shape[1]
    mask = unet_mask(net, s[: spectral.BINS].abs().numpy(), act_fn(frames))
    v = spectral.istft(s * torch.from_numpy(full_mask(mask, s.shape[0])), len(mix))
    return v.numpy()


def separate_ff(net: models.FeedForward, mix: np.ndarray) -> np.ndarray:
    s = train.ff_stft(torch.from_numpy(mix))
    inp, _ = train.ff_inputs(s[: spectral.BINS].abs())
    with torch.no_grad():
        mask = net(inp).T.numpy()
    mask = np.concatenate([mask, mask[-1:]])
    return train.ff_istft(s * torch.from_numpy(mask), len(mix)).numpy()


def vad_probabilities(net: models.VadCnn, mix: np.ndarray) -> np.ndarray:
    power = spectral.vad_power(torch.from_numpy(mix))
    if power.shape[-1] == 0:
        return np.zeros(0, np.float32)
    with torch.no_grad():
        return net(power[None, None])[0].numpy()


def bss(reference_vocal, reference_backing, estimate, mix):
    """(SDR, SIR, SAR) of the vocal estimate, and the mixture's SDR (for NSDR)."""
    import mir_eval

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        refs = np.stack([reference_vocal, reference_backing]).astype(np.float64)
        sdr, sir, sar, _ = mir_eval.separation.bss_eval_sources(refs, np.stack([estimate, mix - estimate]), compute_permutation=False)
    return float(sdr[0]), float(sir[0]), float(sar[0])


def _bss_job(args):
    v, b, est, mix = args
    if est is None:  # the mixture itself, for NSDR
        import mir_eval

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sdr = mir_eval.separation.bss_eval_sources(np.stack([v, b]).astype(np.float64), np.stack([mix, mix]), compute_permutation=False)[0]
        return float(sdr[0]), 0.0, 0.0
    return bss(v, b, est, mix)


def global_scores(clips, estimates: dict[str, list[np.ndarray]], workers: int = 2) -> dict:
    if not estimates:
        return {}
    """GNSDR, GSIR, GSAR per method (seed 004: weighted by clip length) on the 0 dB mixtures."""
    jobs = []
    for i, c in enumerate(clips):
        mix = c.vocal + c.backing
        jobs.append((c.vocal, c.backing, None, mix))
        for name in estimates:
            jobs.append((c.vocal, c.backing, estimates[name][i], mix))
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        results = pool.map(_bss_job, jobs, chunksize=4)
    per = len(estimates) + 1
    out = {}
    lengths = np.array([len(c.vocal) for c in clips], np.float64)
    for k, name in enumerate(estimates):
        rows = np.array([results[i * per + 1 + k] for i in range(len(clips))])
        mix_sdr = np.array([results[i * per][0] for i in range(len(clips))])
        nsdr = rows[:, 0] - mix_sdr
        ok = np.isfinite(nsdr) & np.isfinite(rows).all(axis=1)
        w = lengths[ok] / lengths[ok].sum()
        out[name] = {
            "gnsdr_db": round(float((nsdr[ok] * w).sum()), 2),
            "gsir_db": round(float((rows[ok, 1] * w).sum()), 2),
            "gsar_db": round(float((rows[ok, 2] * w).sum()), 2),
            "gsdr_db": round(float((rows[ok, 0] * w).sum()), 2),
            "clips": int(ok.sum()),
        }
    return out


def calibrate_threshold(net, clips) -> float:
    """The probability threshold with the best frame accuracy on `clips` (the validation songs
    of the training singers; never the test set)."""
    probs = [vad_probabilities(net, c.vocal + c.backing) for c in clips]
    grid = np.round(np.arange(0.05, 0.96, 0.05), 2)
    acc = [vad_confusion(clips, probs, float(t))["accuracy"] for t in grid]
    return float(grid[int(np.argmax(acc))])


GATE_BLEED_DB = (None, -20.0, -10.0)


def calibrate_gate_threshold(probability, clips) -> float:
    """The threshold for a vocal track rather than a mixture (the analysis's VAD gate): the best
    mean F1 on the validation `clips`' vocals alone and with their backing bleeding in at −20 and
    −10 dB, the conditions `automix vad --compare-gates` judges. `probability(mono)` runs the VAD."""
    probs = [[probability(c.vocal + (0.0 if db is None else 10 ** (db / 20)) * c.backing) for c in clips] for db in GATE_BLEED_DB]
    grid = np.round(np.arange(0.05, 0.96, 0.05), 2)
    f1 = [np.mean([vad_confusion(clips, p, float(t))["f1"] for p in probs]) for t in grid]
    return float(grid[int(np.argmax(f1))])


def vad_confusion(clips, probs: list[np.ndarray], threshold: float = 0.5) -> dict:
    tn = fp = fn = tp = 0
    for c, p in zip(clips, probs):
        n = min(len(p), len(c.labels))
        y, yhat = c.labels[:n] > 0.5, p[:n] >= threshold
        tp += int((y & yhat).sum())
        tn += int((~y & ~yhat).sum())
        fp += int((~y & yhat).sum())
        fn += int((y & ~yhat).sum())
    total = tp + tn + fp + fn
    return {
        "true_nonvocal_predicted_nonvocal": tn,
        "true_nonvocal_predicted_vocal": fp,
        "true_vocal_predicted_nonvocal": fn,
        "true_vocal_predicted_vocal": tp,
        "vocal_recall": round(tp / max(1, tp + fn), 4),
        "nonvocal_recall": round(tn / max(1, tn + fp), 4),
        "accuracy": round((tp + tn) / max(1, total), 4),
        "f1": round(2 * tp / max(1, 2 * tp + fp + fn), 4),
        "frames": total,
    }

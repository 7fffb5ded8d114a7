"""The VAD CNN trained on its own, resumably: wider and with more context than the first one,
on MIR-1K's training singers and (optionally) professional wet vocals.

    python -m automix_training.separation.vad_train --mir1k DIR [--stems DIR] --work DIR --out DIR \
        [--width 16] [--context wide] [--minutes 60] [--pro 0.25] [--threads 1]
    python -m automix_training.separation.vad_train --evaluate models/vad.onnx --mir1k DIR

Data: MIR-1K `abjones`/`amy` (their held-out songs pick the epoch and the threshold; the 825
test clips are never read until the end), any vocal over any backing (seed 004's shuffling),
±6 dB remix, a second backing layered under the first a third of the time, gain −20…+10 dB,
Schlüter & Grill's ±30 % frequency scaling and random bell filter. With `--stems`, a share
`--pro` of the examples is a professional wet vocal (musdb-stems, all but the validation song)
over a professional or karaoke accompaniment at −12…+6 dB, labelled by energy with
`vad_pro`'s rule (within 30 dB of the stem's loud frames, above −60 dBFS).

Checkpoints every epoch in --work (`vad.pt`); a second run resumes. Writes `vad.onnx` and a
`models.json` whose `separation.vad` entry holds the threshold for mixtures (best accuracy on the
validation songs' mixtures), the threshold for a vocal track (`gate_threshold`: best mean F1 on
the validation vocals alone and with bleed, as the analysis gate hears them), the context and the
held-out confusion on MIR-1K's test clips."""

from __future__ import annotations

import argparse
import copy
import json
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import data, evaluate, export, models, pro, spectral, train, vad_pro

# receptive fields: seed 004's ±20 frames (0.4 s), or ±40 (0.8 s, Schlüter & Grill's 1.6 s window)
CONTEXTS = {"seed": ((1, 2, 4, 8), 5), "wide": ((1, 2, 4, 8), 25)}
SECONDS = 4.0


def pro_labels(vocal: np.ndarray) -> np.ndarray:
    """Energy labels of a 16 kHz vocal stem at the VAD's frames (vad_pro's rule)."""
    return vad_pro.labels(vocal[:, None], spectral.RATE, spectral.vad_frames(len(vocal))).astype(np.float32)


class Examples:
    def __init__(self, clips, stems: dict, share: float, rng: random.Random):
        self.clips, self.rng, self.share = clips, rng, share
        self.pro = [(v, a, pro_labels(v)) for v, a in stems.values()]
        self.aug = data.Augment(shuffle=True, remix_db=6.0, wet_share=0.0, layers=1 / 3)

    def __call__(self, length: int):
        rng = self.rng
        if self.pro and rng.random() < self.share:
            v, _, labels = rng.choice(self.pro)
            start = rng.randrange(max(1, len(v) - length + 1)) // spectral.VAD_HOP * spectral.VAD_HOP
            vocal = data.crop(v, start, length)
            lab = data.crop(labels, start // spectral.VAD_HOP, spectral.vad_frames(length))
            if rng.random() < 0.5:
                acc = data.crop(rng.choice(self.pro)[1], rng.randrange(max(1, len(v) - length + 1)), length)
            else:
                c = rng.choice(self.clips)
                acc = data.crop(c.backing, rng.randrange(max(1, len(c.backing) - length + 1)), length)
            ratio = 10 ** (rng.uniform(-12, 6) / 20) * pro.sung_rms(acc) / pro.sung_rms(vocal)
            return (vocal * ratio).astype(np.float32), acc.astype(np.float32), lab
        return data.example(self.clips, rng, length, self.aug)


def batch(examples: Examples, n: int, rng: random.Random):
    xs, ys = [], []
    for _ in range(n):
        v, b, labels = examples(int(SECONDS * spectral.RATE))
        mix = (v + b) * np.float32(10 ** (rng.uniform(-20, 10) / 20))
        power = train.vad_pitch_and_filter(spectral.vad_power(torch.from_numpy(mix)), rng)
        xs.append(power[None])
        ys.append(torch.from_numpy(labels))
    return torch.stack(xs), torch.stack(ys)


def whole_clips(net, clips):
    """Validation loss over whole clips (fixed, so epochs compare)."""
    losses = []
    for c in clips:
        p = spectral.vad_power(torch.from_numpy(c.vocal + c.backing))[None, None]
        y = torch.from_numpy(c.labels[: p.shape[-1]])[None]
        losses.append(F.binary_cross_entropy_with_logits(net.logits(p)[:, : y.shape[1]], y).item())
    return float(np.mean(losses))


def build(a) -> models.VadCnn:
    dil, dense = CONTEXTS[a.context]
    return models.VadCnn(a.width, dil, dense)


def run(a, fit, val, stems) -> tuple[models.VadCnn, dict]:
    torch.set_num_threads(a.threads)
    torch.manual_seed(11)
    rng = random.Random(11)
    net = build(a)
    with torch.no_grad():  # the log-mel standardisation, from training mixtures
        x, _ = train.vad_batch(fit, random.Random(5), None, 32)
        lm = torch.log10(torch.einsum("mk,bckt->bcmt", net.mel, x) + 1e-8)
        net.mean.fill_(lm.mean().item())
        net.std.fill_(lm.std().item())
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    state = {"epoch": 0, "best": float("inf"), "minutes": 0.0, "history": []}
    best = copy.deepcopy(net.state_dict())
    checkpoint = a.work / "vad.pt"
    best, state = train.resume_checkpoint(checkpoint, net, opt, best, state)
    examples = Examples(fit, stems, a.pro, rng)
    t0 = time.time() - 60 * state["minutes"]
    since = 0
    while (time.time() - t0) / 60 < a.minutes and since < a.patience:
        net.train()
        total = 0.0
        for _ in range(a.steps):
            x, y = batch(examples, a.batch, rng)
            opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(net.logits(x), y)
            loss.backward()
            opt.step()
            total += loss.item()
        net.eval()
        with torch.no_grad():
            v = whole_clips(net, val)
        state["epoch"] += 1
        state["minutes"] = (time.time() - t0) / 60
        state["history"].append((state["epoch"], total / a.steps, v))
        mark = ""
        if v < state["best"]:
            state["best"], best, mark, since = v, copy.deepcopy(net.state_dict()), " *", 0
        else:
            since += 1
            if since % 6 == 0:  # plateau: a smaller step
                for g in opt.param_groups:
                    g["lr"] *= 0.5
        print(f"vad epoch {state['epoch']}: train {total / a.steps:.4f} validation {v:.4f}{mark} ({state['minutes']:.1f} min)", flush=True)
        train.save_checkpoint(checkpoint, net, opt, best, state)
    net.load_state_dict(best)
    net.eval()
    return net, state


def mir1k_test(probability, mir1k: Path, threshold: float) -> dict:
    test = data.load_mir1k(mir1k, "test")
    return evaluate.vad_confusion(test, [probability(c.vocal + c.backing) for c in test], threshold)


def onnx_probability(path: Path):
    import onnxruntime

    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = onnxruntime.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def probability(mix: np.ndarray) -> np.ndarray:
        power = spectral.vad_power(torch.from_numpy(mix)).numpy()[None, None]
        return sess.run(["probability"], {"power": power})[0][0]

    return probability


def write_models(net, state: dict, threshold: float, val, a) -> dict:
    manifest, diff = export.ship_one(net, "vad", a.out, a.base)
    vad = manifest["separation"]["vad"]
    vad["threshold"] = threshold
    probability = onnx_probability(a.out / "vad.onnx")
    vad["gate_threshold"] = evaluate.calibrate_gate_threshold(probability, val)
    vad["context_frames"] = net.context
    vad["architecture"] = f"seed 004's VAD CNN (80 log-mel bands), width {a.width}, ±{net.context} frames of context"
    vad["training"] = {
        "data": "MIR-1K abjones/amy (research use)" + (f"; musdb-stems but {a.validation!r} ({a.pro:.0%} of examples, energy labels)" if a.stems else ""),
        "held_out": "the training singers' held-out songs pick the epoch and the threshold; MIR-1K's 825 test clips are the evaluation",
        "epochs": state["epoch"],
        "minutes": round(state["minutes"], 1),
        "best_validation_loss": round(state["best"], 5),
        "onnx_max_difference": diff,
    }
    confusion = mir1k_test(probability, a.mir1k, threshold)
    print(f"MIR-1K test clips: {confusion}", flush=True)
    vad["held_out"] = {"set": "MIR-1K test split (825 clips)", **confusion}
    (a.out / "models.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return confusion


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--evaluate", type=Path, help="only score this exported VAD on MIR-1K's test clips, then stop")
    p.add_argument("--gate-threshold-of", type=Path, help="only print this exported VAD's vocal-track threshold (chosen on the validation songs), then stop")
    p.add_argument("--threshold", type=float, default=None, help="with --evaluate: the threshold (default: models.json beside it)")
    p.add_argument("--mir1k", type=Path, required=True)
    p.add_argument("--stems", type=Path)
    p.add_argument("--validation", default=pro.VALIDATION, help="the stems song never trained on")
    p.add_argument("--work", type=Path, default=Path("../target/vad-train"))
    p.add_argument("--out", type=Path, default=Path("../target/vad-train/models"))
    p.add_argument("--base", type=Path, default=Path("../models"), help="the shipped models folder")
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--context", choices=sorted(CONTEXTS), default="wide")
    p.add_argument("--pro", type=float, default=0.25, help="share of examples with a professional vocal (with --stems)")
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--patience", type=int, default=24, help="epochs without a better validation loss before stopping")
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    if a.gate_threshold_of:
        _, val = data.split_validation(data.load_mir1k(a.mir1k, "train"))
        print(evaluate.calibrate_gate_threshold(onnx_probability(a.gate_threshold_of), val), flush=True)
        return 0
    if a.evaluate:
        threshold = a.threshold
        if threshold is None:
            threshold = json.loads((a.evaluate.parent / "models.json").read_text())["separation"]["vad"]["threshold"]
        print(json.dumps(mir1k_test(onnx_probability(a.evaluate), a.mir1k, threshold)), flush=True)
        return 0
    a.work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    fit, val = data.split_validation(data.load_mir1k(a.mir1k, "train"))
    stems = {}
    if a.stems:
        stems = pro.load_stems(a.stems)
        stems.pop(a.validation, None)
    print(f"{len(fit)} karaoke clips to fit, {len(val)} to validate; {len(stems)} professional songs", flush=True)
    net, state = run(a, fit, val, stems)
    threshold = evaluate.calibrate_threshold(net, val)
    print(f"threshold {threshold} (best accuracy on the validation songs)", flush=True)
    write_models(net, state, threshold, val, a)
    print(f"wrote {a.out} in {(time.time() - t0) / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

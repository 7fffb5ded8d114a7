"""`python -m automix_training.separation --mir1k DIR --out models/`: renders wet training
vocals through our chain, trains seed 004's VAD CNN and feed-forward separator (without and with
accompaniment shuffling) and seed 003's U-Net (uninformed, and informed of vocal activity),
evaluates all of them on MIR-1K's 825 test clips with BSS Eval, exports the VAD and the better
U-Net to ONNX and writes their entry (`separation`) in models/models.json.
`scripts/train-separation.sh` calls this."""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch

from . import chain_augment, data, evaluate, export, models, spectral, train


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m automix_training.separation", description=__doc__)
    p.add_argument("--mir1k", type=Path, required=True, help="MIR-1K: flac/ and labels/")
    p.add_argument("--out", type=Path, required=True, help="where separator.onnx, vad.onnx and models.json go")
    p.add_argument("--work", type=Path, required=True, help="checkpoints, wet vocals, results.json")
    p.add_argument("--automix", type=Path, help="the automix binary, to render wet vocals (none: no chain augmentation)")
    p.add_argument("--minutes", type=json.loads, default={"vad": 6, "ff": 3, "unet": 16}, help='time budgets, JSON: {"vad":6,"ff":3,"unet":16}')
    p.add_argument("--steps-per-epoch", type=int, default=50)
    p.add_argument("--patience", type=int, default=8)
    p.add_argument("--width", type=int, default=12, help="U-Net base width (seed 003: 16)")
    p.add_argument("--test-limit", type=int, default=None, help="evaluate on the first N test clips only (tests)")
    p.add_argument("--train-limit", type=int, default=None, help="train on the first N training clips only (tests)")
    p.add_argument("--reuse", action="store_true", help="load checkpoints (and cached scores) from --work; train and score only what is missing")
    p.add_argument("--continue", dest="resume", default="", help="comma-separated models to train further from their checkpoints in --work (with --reuse)")
    p.add_argument("--vad-width", type=int, default=8, help="VAD CNN base width")
    p.add_argument("--vad-patience", type=int, default=20)
    p.add_argument("--threads", type=int, default=None)
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    a.work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()

    clips = data.load_mir1k(a.mir1k, "train", a.train_limit)
    fit, val = data.split_validation(clips)
    print(f"MIR-1K training singers: {len(fit)} clips to fit, {len(val)} to validate (whole songs held out)", flush=True)
    wet_dir = a.work / "wet"
    if a.automix and not a.reuse:
        n = chain_augment.render_wet(a.automix, fit, wet_dir)
        print(f"{n} wet vocals rendered through the chain", flush=True)
    print(f"{data.load_wet(fit, wet_dir)} wet vocals loaded", flush=True)

    budgets = {k: train.Budget(minutes=v, steps_per_epoch=a.steps_per_epoch, patience=a.patience) for k, v in a.minutes.items()}
    budgets["vad"].patience = a.vad_patience
    trained, info = {}, {}
    builders = {
        "vad": lambda: train.train_vad(fit, val, budgets["vad"], width=a.vad_width),
        "ff": lambda: train.train_ff(fit, val, False, budgets["ff"]),
        "ff-da": lambda: train.train_ff(fit, val, True, budgets["ff"]),
        "unet": lambda: train.train_unet(fit, val, data.Augment(pitch=0.2), budgets["unet"], informed=False, width=a.width),
        "unet-informed": lambda: train.train_unet(fit, val, data.Augment(pitch=0.2), budgets["unet"], informed=True, width=a.width),
    }
    fresh = {
        "vad": lambda: models.VadCnn(a.vad_width),
        "ff": lambda: models.FeedForward(),
        "ff-da": lambda: models.FeedForward(),
        "unet": lambda: models.UNet(a.width, False),
        "unet-informed": lambda: models.UNet(a.width, True),
    }
    resume = [r for r in a.resume.split(",") if r]
    for name, build in builders.items():
        ckpt = a.work / f"{name}.pt"
        if name in resume:
            net = fresh[name]()
            net.load_state_dict(torch.load(ckpt))
            before = json.loads((a.work / f"{name}.json").read_text())
            info[name] = train.resume(name, net, fit, val, budgets, a)
            info[name]["earlier"] = before
            torch.save(net.state_dict(), ckpt)
            (a.work / f"{name}.json").write_text(json.dumps(info[name]))
        elif a.reuse and ckpt.is_file():
            net = fresh[name]()
            net.load_state_dict(torch.load(ckpt))
            net.eval()
            info[name] = json.loads((a.work / f"{name}.json").read_text())
        else:
            net, info[name] = build()
            torch.save(net.state_dict(), ckpt)
            (a.work / f"{name}.json").write_text(json.dumps(info[name]))
        trained[name] = net

    test = data.load_mir1k(a.mir1k, "test", a.test_limit)
    print(f"evaluating on {len(test)} test clips", flush=True)
    mixes = [c.vocal + c.backing for c in test]
    probs = [evaluate.vad_probabilities(trained["vad"], m) for m in mixes]
    threshold = evaluate.calibrate_threshold(trained["vad"], val)
    print(f"VAD threshold {threshold} (best accuracy on the validation songs)", flush=True)
    confusion = evaluate.vad_confusion(test, probs, threshold)
    # the informed separator learnt from 0/1 labels: it gets the VAD's decisions at its frames
    # (the probability interpolated to the frame, then the threshold), as the engine does
    print(f"VAD: {confusion}", flush=True)
    methods = {
        "ff": (["ff"], lambda: [evaluate.separate_ff(trained["ff"], m) for m in mixes]),
        "ff-da": (["ff-da"], lambda: [evaluate.separate_ff(trained["ff-da"], m) for m in mixes]),
        "unet": (["unet"], lambda: [evaluate.separate_unet(trained["unet"], m, lambda f: np.zeros(f, np.float32)) for m in mixes]),
        "unet-informed-oracle": (
            ["unet-informed"],
            lambda: [evaluate.separate_unet(trained["unet-informed"], m, lambda f, c=c: spectral.labels_to_frames(c.labels, f)) for c, m in zip(test, mixes)],
        ),
        "unet-informed-vad": (
            ["unet-informed", "vad"],
            lambda: [
                evaluate.separate_unet(trained["unet-informed"], m, lambda f, p=pr: (spectral.vad_to_frames(p, f) >= threshold).astype(np.float32))
                for m, pr in zip(mixes, probs)
            ],
        ),
    }
    # a method's BSS Eval (minutes each) is kept with the checkpoints it came from, and done again
    # only when one of them changed
    cache_path = a.work / "scores.json"
    cache = json.loads(cache_path.read_text()) if a.reuse and cache_path.is_file() else {}
    stamp = lambda names: [(a.work / f"{n}.pt").stat().st_mtime for n in names] + [len(test)]  # noqa: E731
    todo = {k: v for k, v in methods.items() if cache.get(k, {}).get("stamp") != stamp(v[0])}
    fresh_scores = evaluate.global_scores(test, {k: build() for k, (_, build) in todo.items()}) if todo else {}
    for k, v in fresh_scores.items():
        cache[k] = {"stamp": stamp(methods[k][0]), "scores": v}
    cache_path.write_text(json.dumps(cache, indent=1))
    scores = {k: cache[k]["scores"] for k in methods}
    for k, v in scores.items():
        print(f"{k}: {v}", flush=True)

    # ship the informed U-Net (run with the VAD's activity) when it beats the uninformed one
    informed = scores["unet-informed-vad"]["gnsdr_db"] > scores["unet"]["gnsdr_db"]
    separator = trained["unet-informed" if informed else "unet"]
    a.out.mkdir(parents=True, exist_ok=True)
    export.export_separator(separator, a.out / "separator.onnx")
    export.export_vad(trained["vad"], a.out / "vad.onnx")
    rng = np.random.default_rng(0)
    x = (rng.random((2, 2, spectral.BINS, spectral.PATCH)) * 0.1).astype(np.float32)
    x[:, 1] = (rng.random((2, 1, spectral.PATCH)) > 0.5).astype(np.float32)
    diff_sep = export.max_difference(separator, a.out / "separator.onnx", x, export.SEPARATOR_IO)
    diff_vad = export.max_difference(trained["vad"], a.out / "vad.onnx", (rng.random((1, 1, 513, 300)) * 1e-3).astype(np.float32), export.VAD_IO)
    print(f"ONNX Runtime against PyTorch: separator {diff_sep:.2e}, VAD {diff_vad:.2e}", flush=True)

    results = {"vad": confusion, "separation": scores, "training": info, "shipped_separator": "unet-informed" if informed else "unet"}
    (a.work / "results.json").write_text(json.dumps(results, indent=1))

    manifest_path = a.out / "models.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {"format": "vocal-automix/models", "version": 1, "models": {}}
    shipped = scores["unet-informed-vad" if informed else "unet"]
    manifest["separation"] = {
        "trained": datetime.date.today().isoformat(),
        "frames": {
            "rate_hz": spectral.RATE,
            "fft": spectral.FFT,
            "hop": spectral.HOP,
            "bins": spectral.BINS,
            "patch_frames": spectral.PATCH,
            "vad_window": spectral.VAD_WINDOW,
            "vad_hop": spectral.VAD_HOP,
            "note": "lengths at 16 kHz; the engine scales them by rate / 16000 so bin k is k × 15.625 Hz at any rate",
        },
        "separator": {
            "file": "separator.onnx",
            "sha256": sha256(a.out / "separator.onnx"),
            "input": {"name": export.SEPARATOR_IO[0], "shape": ["batch", 2, spectral.BINS, spectral.PATCH], "description": "channel 0: the mixture's magnitude (mono, Hann 1024 at 16 kHz, hop 256, first 512 bins, divided by the window's sum); channel 1: vocal activity (0..1) of each frame, repeated over the bins"},
            "output": {"name": export.SEPARATOR_IO[1], "shape": ["batch", 1, spectral.BINS, spectral.PATCH], "description": "the vocal's soft mask"},
            "informed": informed,
            "architecture": f"U-Net (seed 003), width {a.width}",
            "held_out": {"set": f"MIR-1K test split ({scores['unet']['clips']} clips, 17 singers)", **{k: v for k, v in shipped.items()}},
        },
        "vad": {
            "file": "vad.onnx",
            "sha256": sha256(a.out / "vad.onnx"),
            "input": {"name": export.VAD_IO[0], "shape": ["batch", 1, spectral.VAD_BINS, "frames"], "description": "power of 640-sample Hann windows in a 1024-point FFT at 16 kHz, every 320 samples, divided by the window's sum squared"},
            "output": {"name": export.VAD_IO[1], "shape": ["batch", "frames"], "description": "vocal probability per frame"},
            "threshold": threshold,
            "held_out": {"set": f"MIR-1K test split ({len(test)} clips)", **confusion},
        },
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {a.out}/separator.onnx, vad.onnx and models.json in {(time.time() - t0) / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

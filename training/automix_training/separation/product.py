"""The product's separator: seed 003's U-Net trained on every MIR-1K singer (133 minutes instead
of the research split's 20), with the research model's augmentations plus layered accompaniments
(a produced song is denser than a karaoke backing). It has heard the research split's test
singers, so its figures are on held-out songs (15 % of each singer's, never trained on) and on
professional songs; the research model and its MIR-1K test figures stay as `__main__` makes them.

    python -m automix_training.separation.product --mir1k DIR --work DIR --out DIR \
        [--automix BIN] [--minutes 25] [--more 30]

Writes separator.onnx into --out with a `separation` entry in its models.json (the VAD entry and
vad.onnx copied from --base, the shipped models folder)."""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import shutil
import time
from pathlib import Path

import torch

from . import chain_augment, data, evaluate, export, train


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mir1k", type=Path, required=True)
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--base", type=Path, default=Path("../models"), help="the models folder whose VAD is kept")
    p.add_argument("--automix", type=Path, help="renders wet vocals for the clips that have none")
    p.add_argument("--minutes", type=float, default=25.0)
    p.add_argument("--more", type=float, default=30.0, help="minutes of phase 2 (learning rate ÷ 3)")
    p.add_argument("--layers", type=float, default=0.5)
    p.add_argument("--width", type=int, default=12)
    p.add_argument("--limit", type=int, default=None, help="first N clips only (tests)")
    a = p.parse_args(argv)
    t0 = time.time()
    a.work.mkdir(parents=True, exist_ok=True)
    clips = data.load_mir1k(a.mir1k, "all", a.limit)
    fit, val = data.split_validation(clips)
    print(f"MIR-1K, every singer: {len(fit)} clips to fit, {len(val)} held out (whole songs)", flush=True)
    wet_dir = a.work / "wet"
    if a.automix:
        missing = [c for c in fit if not (wet_dir / f"{c.name}_0.wav").is_file()]
        print(f"{chain_augment.render_wet(a.automix, missing, wet_dir)} wet vocals rendered", flush=True)
    print(f"{data.load_wet(fit, wet_dir)} wet vocals loaded", flush=True)
    aug = data.Augment(pitch=0.2, layers=a.layers)
    budget = train.Budget(minutes=a.minutes, steps_per_epoch=50, patience=8)
    net, info = train.train_unet(fit, val, aug, budget, informed=False, width=a.width)
    more = copy.copy(budget)
    more.minutes, more.patience, more.lr = a.more, 25, budget.lr / 3
    _, info2 = train.train_unet(fit, val, aug, more, informed=False, width=a.width, seed=2, net=net)
    torch.save(net.state_dict(), a.work / "unet-product.pt")
    net.eval()
    estimates = [evaluate.separate_unet(net, c.vocal + c.backing, lambda f: torch.zeros(f).numpy()) for c in val]
    scores = evaluate.global_scores(val, {"unet-product": estimates})["unet-product"]
    print(f"held-out songs: {scores}", flush=True)
    a.out.mkdir(parents=True, exist_ok=True)
    export.export_separator(net, a.out / "separator.onnx")
    shutil.copy(a.base / "vad.onnx", a.out / "vad.onnx")
    manifest = json.loads((a.base / "models.json").read_text())
    sep = manifest["separation"]
    sep["separator"]["sha256"] = hashlib.sha256((a.out / "separator.onnx").read_bytes()).hexdigest()
    sep["separator"]["informed"] = False
    sep["separator"]["architecture"] = f"U-Net (seed 003), width {a.width}, every MIR-1K singer, layered accompaniments"
    sep["separator"]["held_out"] = {"set": f"MIR-1K held-out songs of every singer ({len(val)} clips)", **scores}
    sep["separator"]["training"] = {"phase1": info, "phase2": info2}
    (a.out / "models.json").write_text(json.dumps({"format": manifest["format"], "version": manifest["version"], "models": {}, "separation": sep}, indent=2) + "\n")
    print(f"wrote {a.out} in {(time.time() - t0) / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The separator fine-tuned on produced music: the shipped U-Net (its weights read back from
`models/separator.onnx`, so training resumes from what ships) trained further on professional
wet vocals and accompaniments, remixed so that a few songs make many mixtures.

    python -m automix_training.separation.pro --stems DIR --mir1k DIR --work DIR --out DIR \
        [--minutes 28] [--lr 1e-4] [--no-vocal 0.15] [--karaoke-backing 0.5] [--threads 1]
    python -m automix_training.separation.pro --evaluate models/separator.onnx --mir1k DIR

Data (`--stems`: `musdb-stems`, one folder per song with vocals.flac and accompaniment.flac,
each stem loudness-normalised on its own, so the balance is ours to choose and known):
- any training song's vocal over any training song's accompaniment, at a vocal-to-accompaniment
  level drawn from −12…+6 dB (RMS over the vocal's sung samples), random crops (time shifts),
  a random smooth ±6 dB EQ on the vocal, a second accompaniment layered under the first a third
  of the time, and seed 002's spectral pitch shift (±20 %);
- a third of the examples keep the karaoke the model learnt from: a MIR-1K training singer's
  vocal (`abjones`, `amy` only, so the 825 test clips stay unseen) over a professional
  accompaniment or a karaoke backing.

Held out: `--validation` (one stems song, its vocal over its own accompaniment at −6/−3/0 dB)
for early stopping; the five professional mixes (musdb-excerpts, musdb-preview) are never read
here: they are the evaluation. Checkpoints every epoch in --work (`pro.pt`); a second run
resumes from it. Writes `separator.onnx` and a `models.json` with its `separation` entry."""

from __future__ import annotations

import argparse
import copy
import json
import math
import random
import time
from pathlib import Path

import numpy as np
import onnx
import soundfile as sf
import torch
from scipy.signal import resample_poly
from torch import nn

from . import data, evaluate, export, models, spectral, train

VALIDATION = "Tom McKenzie - Directions"
PATCH = train.PATCH_SAMPLES


def load_shipped(path: Path, width: int = 12) -> models.UNet:
    """The U-Net whose weights `path` (an exported separator) holds. The exporter folded each
    encoder batch norm into its convolution, so the encoder's batch norms become identities and
    the convolutions take the folded weights: the network computes what the ONNX model does."""
    m = onnx.load(str(path))
    inits = {i.name: torch.from_numpy(onnx.numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    net = models.UNet(width, informed=False)
    for i, layer in enumerate(net.down):
        layer[1] = nn.Identity()
        layer[0].weight.data.copy_(inits[convs[i].input[1]])
        layer[0].bias.data.copy_(inits[convs[i].input[2]])
    state = net.state_dict()
    for k in state:
        if k.startswith("up.") and k in inits:
            state[k] = inits[k]
        elif k.startswith("up."):
            assert k.endswith("num_batches_tracked"), f"{path}: no weights for {k}"
    net.load_state_dict(state)
    return net.eval()


def mono16k(path: Path) -> np.ndarray:
    audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    x = audio.mean(axis=1)
    if rate != spectral.RATE:
        g = math.gcd(rate, spectral.RATE)
        x = resample_poly(x, spectral.RATE // g, rate // g)
    return x.astype(np.float32)


def load_stems(root: Path):
    songs = {}
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        songs[d.name] = (mono16k(d / "vocals.flac"), mono16k(d / "accompaniment.flac"))
    if not songs:
        raise data.DataError(f"no songs in {root} (the shared audio's musdb-stems folder)")
    return songs


def sung_rms(x: np.ndarray) -> float:
    """RMS over the 20 ms frames within 30 dB of the loudest: the vocal as it sings."""
    n = len(x) // 320
    if n == 0:
        return float(np.sqrt(np.mean(x**2)) + 1e-12)
    e = (x[: n * 320].reshape(n, 320) ** 2).mean(axis=1)
    return float(np.sqrt(e[e >= e.max() * 1e-3].mean()) + 1e-12)


def random_eq(x: np.ndarray, rng: random.Random) -> np.ndarray:
    """A smooth random gain curve (±6 dB at five log-spaced points, interpolated) applied in
    the frequency domain: a vocal EQ'd as a mixer might."""
    spec = np.fft.rfft(x)
    f = np.linspace(0, spectral.RATE / 2, len(spec))
    points = np.array([100, 400, 1500, 4000, 8000.0])
    gains = np.array([rng.uniform(-6, 6) for _ in points])
    g = np.interp(np.log(np.maximum(f, 50)), np.log(points), gains)
    return np.fft.irfft(spec * 10 ** (g / 20), n=len(x)).astype(np.float32)


def crop(x: np.ndarray, rng: random.Random) -> np.ndarray:
    return data.crop(x, rng.randrange(max(1, len(x) - PATCH + 1)), PATCH)


class Examples:
    def __init__(self, stems: dict, karaoke: list[data.Clip], rng: random.Random, karaoke_backing: float = 0.25, no_vocal: float = 0.0):
        self.stems, self.karaoke, self.rng = stems, karaoke, rng
        self.names = sorted(stems)
        self.karaoke_backing, self.no_vocal = karaoke_backing, no_vocal

    def accompaniment(self) -> np.ndarray:
        rng = self.rng
        if self.karaoke and rng.random() < self.karaoke_backing:
            c = rng.choice(self.karaoke)
            return crop(c.backing, rng)
        return crop(self.stems[rng.choice(self.names)][1], rng)

    def __call__(self):
        rng = self.rng
        if self.karaoke and rng.random() < 1 / 3:
            c = rng.choice(self.karaoke)
            vocal = crop(rng.choice(c.wet) if c.wet and rng.random() < 0.5 else c.vocal, rng)
        else:
            vocal = crop(self.stems[rng.choice(self.names)][0], rng)
            if rng.random() < 0.5:
                vocal = random_eq(vocal, rng)
        acc = self.accompaniment()
        if rng.random() < 1 / 3:
            acc = acc + self.accompaniment() * np.float32(10 ** (rng.uniform(-9, 0) / 20))
        ratio = 10 ** (rng.uniform(-12, 6) / 20) * sung_rms(acc) / sung_rms(vocal)
        if rng.random() < self.no_vocal:
            # an instrumental passage: what is not a voice must get no mask, however vocal-like
            ratio = 0.0
        gain = 10 ** (rng.uniform(-12, 0) / 20)
        return (vocal * ratio * gain).astype(np.float32), (acc * gain).astype(np.float32)


def batch(examples: Examples, n: int, pitch: float):
    xs, vs = [], []
    for _ in range(n):
        v, b = examples()
        mv = spectral.magnitude(torch.from_numpy(v))
        mx = spectral.magnitude(torch.from_numpy(v + b))
        if pitch > 0:
            mx, mv = train.pitch_shift([mx, mv], 1 + examples.rng.uniform(-pitch, pitch))
        xs.append(torch.stack([mx, torch.zeros_like(mx)]))
        vs.append(mv[None])
    return torch.stack(xs), torch.stack(vs)


def validation(vocal: np.ndarray, acc: np.ndarray):
    xs, vs = [], []
    for db in (-6.0, -3.0, 0.0):
        v = vocal * np.float32(10 ** (db / 20) * sung_rms(acc) / sung_rms(vocal))
        for start in range(0, len(v) - PATCH // 2, PATCH // 2):
            cv, cb = data.crop(v, start, PATCH), data.crop(acc, start, PATCH)
            mx = spectral.magnitude(torch.from_numpy(cv + cb))
            xs.append(torch.stack([mx, torch.zeros_like(mx)]))
            vs.append(spectral.magnitude(torch.from_numpy(cv))[None])
    return torch.stack(xs), torch.stack(vs)


def run(a) -> dict:
    torch.set_num_threads(a.threads)
    torch.manual_seed(3)
    rng = random.Random(3)
    stems = load_stems(a.stems)
    if a.validation not in stems:
        raise data.DataError(f"the validation song {a.validation!r} is not in {a.stems}")
    held = stems.pop(a.validation)
    karaoke, karaoke_val = [], []
    if a.mir1k:
        karaoke, karaoke_val = data.split_validation(data.load_mir1k(a.mir1k, "train"))
        data.load_wet(karaoke, a.work / "wet")
    print(f"{len(stems)} professional songs to fit, {a.validation!r} held out; {len(karaoke)} karaoke clips", flush=True)
    checkpoint = a.work / "pro.pt"
    net = load_shipped(a.base / "separator.onnx")
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    # the held-out professional song and, so that what the karaoke taught is not forgotten
    # unseen, the training singers' held-out songs: the mean of the two losses
    sets = [validation(*held)] + ([train.validation_patches(karaoke_val)] if karaoke_val else [])

    def val_loss():
        net.eval()
        with torch.no_grad():
            return float(np.mean([np.mean([train.unet_loss(net, vx[i : i + 16], vv[i : i + 16]).item() for i in range(0, len(vx), 16)]) for vx, vv in sets]))

    state = {"epoch": 0, "best": val_loss(), "minutes": 0.0, "history": []}
    state["shipped_validation_loss"] = state["best"]
    if a.start_from:
        # a further phase: from the best weights of an earlier run
        net.load_state_dict(torch.load(a.start_from, weights_only=False)["best_net"])
        state["best"] = val_loss()
        print(f"from {a.start_from}: validation loss {state['best']:.5f}", flush=True)
    best = copy.deepcopy(net.state_dict())
    best, state = train.resume_checkpoint(checkpoint, net, opt, best, state)
    print(f"validation loss of the shipped separator: {state['shipped_validation_loss']:.5f}", flush=True)
    examples = Examples(stems, karaoke, rng, a.karaoke_backing, a.no_vocal)
    t0 = time.time() - 60 * state["minutes"]
    while (time.time() - t0) / 60 < a.minutes:
        net.train()
        total = 0.0
        for _ in range(a.steps):
            x, v = batch(examples, a.batch, a.pitch)
            opt.zero_grad()
            loss = train.unet_loss(net, x, v)
            loss.backward()
            opt.step()
            total += loss.item()
        val = val_loss()
        state["epoch"] += 1
        state["minutes"] = (time.time() - t0) / 60
        state["history"].append((state["epoch"], total / a.steps, val))
        mark = ""
        if val < state["best"]:
            state["best"], best, mark = val, copy.deepcopy(net.state_dict()), " *"
        print(f"pro epoch {state['epoch']}: train {total / a.steps:.5f} validation {val:.5f}{mark} ({state['minutes']:.1f} min)", flush=True)
        train.save_checkpoint(checkpoint, net, opt, best, state)
    net.load_state_dict(best)
    return state


def mir1k_test(net, mir1k: Path, limit: int | None = None) -> dict:
    """GNSDR, GSIR, GSAR on MIR-1K's 825 test clips (seed 004's table), as `__main__` scores
    the research model: the test singers were never trained on."""
    test = data.load_mir1k(mir1k, "test", limit)
    net.eval()
    with torch.no_grad():
        est = [evaluate.separate_unet(net, c.vocal + c.backing, lambda f: np.zeros(f, np.float32)) for c in test]
    return evaluate.global_scores(test, {"separator": est})["separator"]


def write_models(net, state: dict, a) -> None:
    manifest, diff = export.ship_one(net, "separator", a.out, a.base)
    sep = manifest["separation"]["separator"]
    sep["architecture"] = "U-Net (seed 003), width 12, uninformed; fine-tuned on produced music"
    sep["training"] = {
        "from": "the separator shipped before (MIR-1K abjones/amy), its weights read from its ONNX file",
        "data": f"musdb-stems (MUSDB18 test songs, research only) but {a.validation!r}, remixed -12..+6 dB, EQ'd, layered, pitch-shifted; MIR-1K abjones/amy a third of the time",
        "held_out": f"{a.validation!r} (early stopping); musdb-excerpts and musdb-preview never seen (evaluation)",
        "epochs": state["epoch"],
        "minutes": round(state["minutes"], 1),
        "shipped_validation_loss": round(state["shipped_validation_loss"], 5),
        "best_validation_loss": round(state["best"], 5),
        "onnx_max_difference": diff,
    }
    if a.mir1k_test:
        scores = mir1k_test(net, a.mir1k)
        print(f"MIR-1K test clips: {scores}", flush=True)
        sep["held_out"] = {"set": "MIR-1K test (825 clips, 17 singers never trained on)", **scores}
    (a.out / "models.json").write_text(json.dumps(manifest, indent=2) + "\n")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--evaluate", type=Path, help="only score this exported separator on MIR-1K's test clips (--mir1k), then stop")
    p.add_argument("--stems", type=Path)
    p.add_argument("--mir1k", type=Path)
    p.add_argument("--work", type=Path, default=Path("../target/separation-pro"))
    p.add_argument("--out", type=Path, default=Path("../target/separation-pro/models"))
    p.add_argument("--base", type=Path, default=Path("../models"), help="the shipped models folder")
    p.add_argument("--validation", default=VALIDATION)
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--steps", type=int, default=40, help="steps an epoch")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--pitch", type=float, default=0.2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--mir1k-test", action="store_true", help="score the result on MIR-1K's test clips (BSS Eval, minutes)")
    p.add_argument("--start-from", type=Path, help="an earlier run's pro.pt: its best weights start this one")
    p.add_argument("--karaoke-backing", type=float, default=0.25, help="share of accompaniments that are MIR-1K training backings")
    p.add_argument("--no-vocal", type=float, default=0.0, help="share of examples with no vocal at all")
    a = p.parse_args(argv)
    if a.evaluate:
        if not a.mir1k:
            p.error("--evaluate needs --mir1k")
        torch.set_num_threads(a.threads)
        print(json.dumps(mir1k_test(load_shipped(a.evaluate), a.mir1k)), flush=True)
        return 0
    if not a.stems:
        p.error("--stems is needed to train")
    a.work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    net = load_shipped(a.base / "separator.onnx")
    x = (torch.rand(2, 2, spectral.BINS, spectral.PATCH) * 0.1).numpy()
    print(f"shipped weights read back: {export.max_difference(net, a.base / 'separator.onnx', x, export.SEPARATOR_IO):.2e} from ONNX Runtime", flush=True)
    state = run(a)
    net = load_shipped(a.base / "separator.onnx")
    ck = torch.load(a.work / "pro.pt", weights_only=False)
    net.load_state_dict(ck["best_net"])
    write_models(net, state, a)
    print(f"wrote {a.out} in {(time.time() - t0) / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Training loops with early stopping on the validation songs: the U-Net (uninformed or informed
of vocal activity), seed 004's feed-forward separator and its VAD CNN. Each stops when its
validation loss has not improved for `patience` epochs or its time budget is spent, and keeps
the best epoch's weights."""

from __future__ import annotations

import copy
import math
import random
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from . import data, models, spectral

PATCH_SAMPLES = (spectral.PATCH - 1) * spectral.HOP  # 128 centred frames


@dataclass
class Budget:
    minutes: float = 15.0
    max_epochs: int = 1000
    steps_per_epoch: int = 50
    patience: int = 8
    batch: int = 8
    lr: float = 1e-3


def log(msg: str) -> None:
    print(msg, flush=True)


def pitch_shift(mags: list[torch.Tensor], factor: float) -> list[torch.Tensor]:
    """Seed 002's Shift: the frequency axis scaled by `factor` (bin k takes bin k / factor),
    the same for the mixture and its targets."""
    src = torch.arange(spectral.BINS, dtype=torch.float32) / factor
    lo = src.floor().long().clamp(0, spectral.BINS - 1)
    hi = (lo + 1).clamp(max=spectral.BINS - 1)
    frac = (src - lo.float()).clamp(0, 1)[:, None]
    inside = (src <= spectral.BINS - 1).float()[:, None]
    return [(m[..., lo, :] * (1 - frac) + m[..., hi, :] * frac) * inside for m in mags]


def activity(labels: np.ndarray, frames: int, flip: float, rng: random.Random) -> np.ndarray:
    a = spectral.labels_to_frames(labels, frames)
    if flip > 0:
        a = np.where(np.array([rng.random() < flip for _ in a]), 1 - a, a).astype(np.float32)
    return a


def unet_batch(clips, rng, n, aug: data.Augment | None, flip: float = 0.0):
    xs, vs = [], []
    for _ in range(n):
        v, b, labels = data.example(clips, rng, PATCH_SAMPLES, aug)
        mv = spectral.magnitude(torch.from_numpy(v))
        mx = spectral.magnitude(torch.from_numpy(v + b))
        if aug and aug.pitch > 0:
            mx, mv = pitch_shift([mx, mv], 1 + rng.uniform(-aug.pitch, aug.pitch))
        act = torch.from_numpy(activity(labels, spectral.PATCH, flip, rng))
        xs.append(torch.stack([mx, act.expand(spectral.BINS, -1)]))
        vs.append(mv[None])
    return torch.stack(xs), torch.stack(vs)


def unet_loss(net, x, v):
    """Seed 003's L1 between the masked mixture and the vocal, on the patch-normalised scale."""
    peak = x[:, :1].amax(dim=(2, 3), keepdim=True).clamp_min(1e-8)
    return (net(x) * x[:, :1] / peak - v / peak).abs().mean()


def validation_patches(clips, flip=0.0):
    """Every validation clip cut into whole patches (fixed, so epochs compare)."""
    rng = random.Random(0)
    xs, vs = [], []
    for c in clips:
        for start in range(0, max(1, len(c.vocal) - PATCH_SAMPLES // 2), PATCH_SAMPLES):
            start -= start % spectral.VAD_HOP
            v = data.crop(c.vocal, start, PATCH_SAMPLES)
            b = data.crop(c.backing, start, PATCH_SAMPLES)
            labels = data.crop(c.labels, start // spectral.VAD_HOP, spectral.vad_frames(PATCH_SAMPLES))
            mx = spectral.magnitude(torch.from_numpy(v + b))
            act = torch.from_numpy(activity(labels, spectral.PATCH, flip, rng))
            xs.append(torch.stack([mx, act.expand(spectral.BINS, -1)]))
            vs.append(spectral.magnitude(torch.from_numpy(v))[None])
    return torch.stack(xs), torch.stack(vs)


def resume_checkpoint(checkpoint, net, opt, best: dict, state: dict):
    """(best weights, state) from `checkpoint` when there is one (the network and the optimiser
    loaded in place), else the given ones: a run killed at any epoch goes on where it stopped."""
    if not checkpoint.is_file():
        return best, state
    ck = torch.load(checkpoint, weights_only=False)
    net.load_state_dict(ck["net"])
    opt.load_state_dict(ck["opt"])
    print(f"resumed at epoch {ck['state']['epoch']} ({ck['state']['minutes']:.1f} min so far)", flush=True)
    return ck["best_net"], ck["state"]


def save_checkpoint(checkpoint, net, opt, best: dict, state: dict) -> None:
    torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "best_net": best, "state": state}, checkpoint)


def fit(name, net, step, validate, budget: Budget, best_loss: float = math.inf):
    """Adam with the loss `step(net)` returns; `validate(net)` each epoch; early stopping."""
    opt = torch.optim.Adam(net.parameters(), lr=budget.lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=max(1, budget.patience // 3))
    best, best_state, since, epoch = best_loss, copy.deepcopy(net.state_dict()), 0, 0
    t0 = time.time()
    history = []
    while epoch < budget.max_epochs:
        epoch += 1
        net.train()
        total = 0.0
        for _ in range(budget.steps_per_epoch):
            opt.zero_grad()
            loss = step(net)
            loss.backward()
            opt.step()
            total += loss.item()
        net.eval()
        with torch.no_grad():
            val = float(validate(net))
        sched.step(val)
        history.append((epoch, total / budget.steps_per_epoch, val))
        mark = ""
        if val < best:
            best, best_state, since, mark = val, copy.deepcopy(net.state_dict()), 0, " *"
        else:
            since += 1
        minutes = (time.time() - t0) / 60
        log(f"{name} epoch {epoch}: train {total / budget.steps_per_epoch:.5f} validation {val:.5f}{mark} ({minutes:.1f} min)")
        if since >= budget.patience:
            log(f"{name}: stopped early, validation has not improved for {since} epochs")
            break
        if minutes >= budget.minutes:
            log(f"{name}: time budget of {budget.minutes} min spent")
            break
    net.load_state_dict(best_state)
    net.eval()
    return {"epochs": epoch, "best_validation_loss": best, "minutes": round((time.time() - t0) / 60, 1)}


def train_unet(train, val, aug, budget: Budget, informed: bool, width: int = 12, seed: int = 1, flip: float = 0.0, net=None):
    """A new U-Net, or `net` trained further (its validation loss first, so only a better epoch
    replaces it)."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    vx, vv = validation_patches(val)
    start = math.inf
    if net is None:
        net = models.UNet(width, informed)
    else:
        net.eval()
        with torch.no_grad():
            start = float(np.mean([unet_loss(net, vx[i : i + 16], vv[i : i + 16]).item() for i in range(0, len(vx), 16)]))

    def step(net):
        x, v = unet_batch(train, rng, budget.batch, aug, flip)
        return unet_loss(net, x, v)

    def validate(net):
        return np.mean([unet_loss(net, vx[i : i + 16], vv[i : i + 16]).item() for i in range(0, len(vx), 16)])

    name = "unet-informed" if informed else "unet"
    return net, fit(name, net, step, validate, budget, start)


def resume(name, net, fit_clips, val_clips, budgets, args):
    """Trains a U-Net from its checkpoint for its budget again, at a lower learning rate."""
    if not name.startswith("unet"):
        raise ValueError(f"--continue supports the U-Nets, not {name}")
    budget = copy.copy(budgets["unet"])
    budget.lr /= 3
    _, info = train_unet(fit_clips, val_clips, data.Augment(pitch=0.2), budget, informed=name == "unet-informed", seed=2, net=net)
    return info


# seed 004's feed-forward separator works on its own frames: FFT 1024, 640-sample windows, hop 320
def ff_stft(x: torch.Tensor) -> torch.Tensor:
    w = F.pad(spectral.hann(spectral.VAD_WINDOW), ((spectral.FFT - spectral.VAD_WINDOW) // 2,) * 2)
    s = torch.stft(x, spectral.FFT, spectral.VAD_HOP, window=w, center=True, pad_mode="constant", return_complex=True)
    return s / w.sum()


def ff_istft(s: torch.Tensor, length: int) -> torch.Tensor:
    w = F.pad(spectral.hann(spectral.VAD_WINDOW), ((spectral.FFT - spectral.VAD_WINDOW) // 2,) * 2)
    return torch.istft(s * w.sum(), spectral.FFT, spectral.VAD_HOP, window=w, center=True, length=length)


def ff_inputs(mix_mag: torch.Tensor):
    scale = mix_mag.mean().clamp_min(1e-8)
    return models.context3(mix_mag / scale), scale


def ff_batch(clips, rng, aug, seconds=2.0, n=4):
    xs, vs, as_, ms = [], [], [], []
    for _ in range(n):
        v, b, _ = data.example(clips, rng, int(seconds * spectral.RATE), aug)
        mx = ff_stft(torch.from_numpy(v + b))[:spectral.BINS].abs()
        inp, scale = ff_inputs(mx)
        xs.append(inp)
        ms.append(mx.T / scale)
        vs.append(ff_stft(torch.from_numpy(v))[:spectral.BINS].abs().T / scale)
        as_.append(ff_stft(torch.from_numpy(b))[:spectral.BINS].abs().T / scale)
    return torch.cat(xs), torch.cat(ms), torch.cat(vs), torch.cat(as_)


def ff_loss(net, x, m, v, a):
    """Seed 004's objective: squared error of both masked estimates against both sources."""
    mask = net(x)
    return ((mask * m - v) ** 2).mean() + (((1 - mask) * m - a) ** 2).mean()


def train_ff(train, val, shuffle: bool, budget: Budget, seed: int = 1):
    torch.manual_seed(seed)
    rng = random.Random(seed)
    net = models.FeedForward()
    aug = data.Augment(shuffle=True, remix_db=0.0, wet_share=0.0) if shuffle else None
    vrng = random.Random(0)
    fixed = [ff_batch(val, vrng, None, n=8) for _ in range(4)]

    def step(net):
        return ff_loss(net, *ff_batch(train, rng, aug))

    def validate(net):
        return np.mean([ff_loss(net, *b).item() for b in fixed])

    return net, fit("ff" + ("-da" if shuffle else ""), net, step, validate, budget)


def vad_pitch_and_filter(power: torch.Tensor, rng: random.Random) -> torch.Tensor:
    """Schlüter & Grill's augmentations for singing-voice detection (seed 002 adapts them to
    separation): the frequency axis scaled by up to ±30 % (a pitch shift of voice and band alike)
    and a random bell filter of ±10 dB (a different microphone, mix or singer's formants). Two
    singers are all MIR-1K trains on; these make them many."""
    bins = power.shape[-2]
    factor = 1 + rng.uniform(-0.3, 0.3)
    src = torch.arange(bins, dtype=torch.float32) / factor
    lo = src.floor().long().clamp(0, bins - 1)
    hi = (lo + 1).clamp(max=bins - 1)
    frac = (src - lo.float()).clamp(0, 1)[:, None]
    inside = (src <= bins - 1).float()[:, None]
    shifted = (power[..., lo, :] * (1 - frac) + power[..., hi, :] * frac) * inside
    freqs = torch.arange(bins, dtype=torch.float32).clamp_min(1) * spectral.RATE / spectral.FFT
    centre = math.exp(rng.uniform(math.log(150), math.log(6000)))
    width = rng.uniform(0.4, 1.5)
    gain_db = rng.uniform(-10, 10) * torch.exp(-((torch.log(freqs / centre)) ** 2) / (2 * width**2))
    return shifted * (10 ** (gain_db / 10))[:, None]


def vad_batch(clips, rng, aug, n, seconds=4.0):
    xs, ys = [], []
    for _ in range(n):
        v, b, labels = data.example(clips, rng, int(seconds * spectral.RATE), aug)
        mix = v + b
        if aug:
            mix = mix * np.float32(10 ** (rng.uniform(-20, 10) / 20))
        power = spectral.vad_power(torch.from_numpy(mix))
        if aug:
            power = vad_pitch_and_filter(power, rng)
        xs.append(power[None])
        ys.append(torch.from_numpy(labels))
    return torch.stack(xs), torch.stack(ys)


def train_vad(train, val, budget: Budget, seed: int = 1, width: int = 16):
    torch.manual_seed(seed)
    rng = random.Random(seed)
    net = models.VadCnn(width)
    # the log-mel standardisation, from the training clips' mixtures
    with torch.no_grad():
        x, _ = vad_batch(train, random.Random(5), None, 32)
        lm = torch.log10(torch.einsum("mk,bckt->bcmt", net.mel, x) + 1e-8)
        net.mean.fill_(lm.mean().item())
        net.std.fill_(lm.std().item())
    # dry vocals only: MIR-1K's labels mark the dry vocal's voiced frames, and a wet vocal's
    # reverb tail would teach the network that a tail is singing
    aug = data.Augment(shuffle=True, remix_db=6.0, wet_share=0.0)
    vx, vy = vad_batch(val, random.Random(0), None, 48)

    def step(net):
        x, y = vad_batch(train, rng, aug, budget.batch)
        return F.binary_cross_entropy_with_logits(net.logits(x), y)

    def validate(net):
        return F.binary_cross_entropy_with_logits(net.logits(vx), vy).item()

    return net, fit("vad", net, step, validate, budget)

"""The time-frequency frames both the trainer and the engine (`engine::separation`, `engine::vad`)
use. The engine computes the same frames at any sample rate by scaling every length by
rate / 16000, so bin k always sits at k × 15.625 Hz and the models see the 0–8 kHz they learnt."""

from __future__ import annotations

import numpy as np
import torch

RATE = 16_000
# the separator: 64 ms Hann windows every 16 ms, the first 512 bins (0–8 kHz), 128-frame patches
# (2.05 s); seed 003 used 1024/768 at 8192 Hz (125 ms, 11 s patches): MIR-1K is 16 kHz and the
# product's audio is 44.1–48 kHz, so keeping 0–8 kHz keeps the vocal's formants and consonants
FFT = 1024
HOP = 256
BINS = 512
PATCH = 128
# the VAD (seed 004 and MIR-1K's labels): 40 ms windows every 20 ms, FFT 1024 (513 bins),
# 80 mel bands; frame k spans samples [k × 320, k × 320 + 640), exactly label k
VAD_WINDOW = 640
VAD_HOP = 320
VAD_BINS = 513
MELS = 80


def hann(n: int) -> torch.Tensor:
    """Periodic Hann, as `engine::separation` builds it."""
    return torch.hann_window(n, periodic=True, dtype=torch.float32)


def stft(x: torch.Tensor) -> torch.Tensor:
    """The separator's complex frames of `x` (…, samples): (…, 513, frames), divided by the
    window's sum. Frame t is centred on sample t × HOP (zeros before the start)."""
    w = hann(FFT)
    s = torch.stft(x, FFT, HOP, window=w, center=True, pad_mode="constant", return_complex=True)
    return s / w.sum()


def istft(s: torch.Tensor, length: int) -> torch.Tensor:
    w = hann(FFT)
    return torch.istft(s * w.sum(), FFT, HOP, window=w, center=True, length=length)


def magnitude(x: torch.Tensor) -> torch.Tensor:
    """(…, samples) → (…, BINS, frames): the separator's input."""
    return stft(x)[..., :BINS, :].abs()


def vad_power(x: torch.Tensor) -> torch.Tensor:
    """(…, samples) → (…, 513, frames): the VAD's input, power of 640-sample Hann windows in a
    1024-point FFT, divided by the window's sum squared. Frames that do not fit are left out."""
    w = hann(VAD_WINDOW)
    frames = x.unfold(-1, VAD_WINDOW, VAD_HOP) * w  # (…, frames, 640)
    spec = torch.fft.rfft(frames, n=FFT)  # (…, frames, 513)
    return (spec.abs() ** 2 / w.sum() ** 2).transpose(-1, -2)


def vad_frames(samples: int) -> int:
    return 0 if samples < VAD_WINDOW else (samples - VAD_WINDOW) // VAD_HOP + 1


def mel_matrix() -> np.ndarray:
    """(80, 513) Slaney-style mel filters over 0–8 kHz (triangles of unit area), built into the VAD
    model so the engine feeds it power spectra."""

    def hz_to_mel(f):
        f = np.asarray(f, dtype=np.float64)
        lin = f / (200.0 / 3)
        log = 15.0 + np.log(np.maximum(f, 1e-9) / 1000.0) / (np.log(6.4) / 27.0)
        return np.where(f < 1000.0, lin, log)

    def mel_to_hz(m):
        m = np.asarray(m, dtype=np.float64)
        lin = m * (200.0 / 3)
        log = 1000.0 * np.exp((m - 15.0) * (np.log(6.4) / 27.0))
        return np.where(m < 15.0, lin, log)

    freqs = np.arange(VAD_BINS) * RATE / FFT
    edges = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(RATE / 2), MELS + 2))
    out = np.zeros((MELS, VAD_BINS))
    for m in range(MELS):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        up = (freqs - lo) / (mid - lo)
        down = (hi - freqs) / (hi - mid)
        out[m] = np.maximum(0.0, np.minimum(up, down)) * 2.0 / (hi - lo)
    return out.astype(np.float32)


def labels_to_frames(labels: np.ndarray, frames: int) -> np.ndarray:
    """MIR-1K's 20 ms activity (label k centred on sample 320k + 320) at the separator's frames
    (frame t centred on sample 256t), nearest label, 0 past either end."""
    centres = np.arange(frames) * HOP
    k = np.rint((centres - VAD_HOP) / VAD_HOP).astype(int)
    ok = (k >= 0) & (k < len(labels))
    out = np.zeros(frames, dtype=np.float32)
    out[ok] = labels[k[ok]]
    return out


def vad_to_frames(prob: np.ndarray, frames: int) -> np.ndarray:
    """VAD probabilities (frame k centred on 320k + 320) at the separator's frames, linearly
    interpolated, held at the ends (as the engine does)."""
    if len(prob) == 0:
        return np.zeros(frames, dtype=np.float32)
    centres = np.arange(frames) * HOP
    pos = (centres - VAD_HOP) / VAD_HOP
    return np.interp(pos, np.arange(len(prob)), prob).astype(np.float32)

"""MIR-1K for separation and vocal-activity training: the clips (left = backing, right = dry
vocal), their 20 ms activity labels, the customary split by singer (`abjones`, `amy` train, the
other 17 singers test), a validation share of the training singers' songs, and the
augmentations: accompaniment shuffling (seed 004), remixing and spectral pitch shifting
(seed 002), and vocals made wet by our own chain (`wet/`, from `automix render`)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from . import spectral

TRAIN_SINGERS = ("abjones", "amy")


class DataError(Exception):
    """Data that cannot be used, with what to do about it."""


@dataclass
class Clip:
    name: str  # "abjones_1_01"
    backing: np.ndarray  # float32, 16 kHz
    vocal: np.ndarray
    labels: np.ndarray  # 0/1 per 20 ms frame
    wet: list[np.ndarray] = field(default_factory=list)  # the vocal through random chains

    @property
    def singer(self) -> str:
        return self.name.split("_")[0]

    @property
    def song(self) -> str:
        return "_".join(self.name.split("_")[:2])


def load_clip(flac: Path, labels_dir: Path) -> Clip:
    audio, rate = sf.read(str(flac), dtype="float32", always_2d=True)
    if rate != spectral.RATE or audio.shape[1] != 2:
        raise DataError(f"{flac}: {rate} Hz, {audio.shape[1]} channels; MIR-1K is 16 kHz stereo")
    lab = labels_dir / (flac.stem + ".vocal")
    labels = np.array([float(v) for v in lab.read_text().split()], dtype=np.float32)
    return Clip(flac.stem, audio[:, 0].copy(), audio[:, 1].copy(), labels)


def load_mir1k(root: Path, which: str = "all", limit: int | None = None) -> list[Clip]:
    """`which`: train (the two training singers), test (the other 825 clips) or all."""
    flacs = sorted((root / "flac").glob("*.flac"))
    if not flacs:
        raise DataError(f"no MIR-1K clips in {root}/flac (the shared audio's mir1k folder)")
    out = []
    for f in flacs:
        train = f.stem.split("_")[0] in TRAIN_SINGERS
        if which == "all" or (which == "train") == train:
            out.append(load_clip(f, root / "labels"))
            if limit and len(out) >= limit:
                break
    return out


def split_validation(clips: list[Clip], share: float = 0.15, seed: int = 7):
    """Holds out whole songs (every clip of a song together) of each training singer."""
    rng = random.Random(seed)
    songs = sorted({c.song for c in clips})
    rng.shuffle(songs)
    held = set()
    for singer in sorted({c.singer for c in clips}):
        theirs = [s for s in songs if s.startswith(singer + "_")]
        held.update(theirs[: max(1, round(share * len(theirs)))])
    return [c for c in clips if c.song not in held], [c for c in clips if c.song in held]


def load_wet(clips: list[Clip], wet_dir: Path | None) -> int:
    """Attaches `wet_dir/<clip>_<k>.wav` (mono or stereo, 16 kHz) to each clip; returns how many."""
    if wet_dir is None or not wet_dir.is_dir():
        return 0
    n = 0
    for c in clips:
        for f in sorted(wet_dir.glob(f"{c.name}_*.wav")):
            audio, rate = sf.read(str(f), dtype="float32", always_2d=True)
            if rate != spectral.RATE:
                raise DataError(f"{f}: {rate} Hz, the wet vocals must be 16 kHz")
            wet = audio.mean(axis=1)[: len(c.vocal)]
            c.wet.append(np.pad(wet, (0, len(c.vocal) - len(wet))))
            n += 1
    return n


def crop(x: np.ndarray, start: int, length: int) -> np.ndarray:
    seg = x[start : start + length]
    return np.pad(seg, (0, length - len(seg))) if len(seg) < length else seg


@dataclass
class Augment:
    shuffle: bool = True  # another clip's accompaniment (seed 004)
    remix_db: float = 9.0  # vocal gain uniform in ±remix_db (seed 002's Remix)
    wet_share: float = 0.5  # how often the vocal is one of its chain-processed versions
    pitch: float = 0.0  # spectral pitch shift up to ±pitch (seed 002's Shift: 0.3)
    layers: float = 0.0  # how often a second accompaniment is layered under the first (denser mixes)


def example(clips: list[Clip], rng: random.Random, length: int, aug: Augment | None):
    """(vocal, accompaniment, labels at 20 ms) of `length` samples: a random crop of a random clip,
    with the augmentation."""
    c = rng.choice(clips)
    # on a label boundary, so label k of the crop is the clip's label first + k
    start = rng.randrange(max(1, len(c.vocal) - length + 1)) // spectral.VAD_HOP * spectral.VAD_HOP
    vocal_src = c.vocal
    if aug and c.wet and rng.random() < aug.wet_share:
        vocal_src = rng.choice(c.wet)
    vocal = crop(vocal_src, start, length)
    first = start // spectral.VAD_HOP
    labels = crop(c.labels, first, spectral.vad_frames(length))
    if aug and aug.shuffle:
        b = rng.choice(clips)
        bstart = rng.randrange(max(1, len(b.backing) - length + 1))
        backing = crop(b.backing, bstart, length)
    else:
        backing = crop(c.backing, start, length)
    if aug and aug.layers > 0 and rng.random() < aug.layers:
        # a produced song is denser than a karaoke backing: another arrangement under this one
        o = rng.choice(clips)
        ostart = rng.randrange(max(1, len(o.backing) - length + 1))
        backing = backing + crop(o.backing, ostart, length) * np.float32(10 ** (rng.uniform(-9, 0) / 20))
    if aug and aug.remix_db > 0:
        vocal = vocal * np.float32(10 ** (rng.uniform(-aug.remix_db, aug.remix_db) / 20))
    return vocal.astype(np.float32), backing.astype(np.float32), labels

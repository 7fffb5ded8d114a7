"""The VAD on professional songs: `automix vad` on each mixture against labels read off its vocal
stem by energy, frame by frame (20 ms hops, the VAD's own frames).

    python -m automix_training.separation.vad_pro AUTOMIX SONG_DIR...
    python -m automix_training.separation.vad_pro AUTOMIX --remix STEMS_SONG_DIR

With --remix, a stems song (vocals and accompaniment, each loudness-normalised alone: the
musdb-stems validation song, which no VAD trains on) is mixed at −6, −3 and 0 dB vocal to
accompaniment (RMS over the sung frames) and scored at each.

The rule: a frame is sung where the vocal stem's 40 ms window (at the VAD frame's place) is
within 30 dB of the stem's loud frames (its 95th-percentile frame) and above −60 dBFS. A wet
stem's reverb tail counts as sung while it stays within those 30 dB, as a listener hears it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from .musdb import stems

WITHIN_DB = 30.0
FLOOR_DBFS = -60.0


def labels(vocal: np.ndarray, rate: int, frames: int) -> np.ndarray:
    hop, win = int(round(0.02 * rate)), int(round(0.04 * rate))
    mono = vocal.mean(axis=1)
    e = np.array([np.mean(mono[k * hop : k * hop + win] ** 2) if k * hop < len(mono) else 0.0 for k in range(frames)])
    db = 10 * np.log10(np.maximum(e, 1e-20))
    loud = np.percentile(db, 95)
    return (db >= loud - WITHIN_DB) & (db >= FLOOR_DBFS)


def accuracy(automix: Path, mixture: Path, vocals: np.ndarray, rate: int) -> tuple[float, np.ndarray, np.ndarray]:
    out = json.loads(subprocess.run([str(automix), "vad", str(mixture), "--json"], check=True, capture_output=True).stdout)
    p = np.array(out["probability"])
    active = p >= out.get("threshold", 0.6)
    truth = labels(vocals, rate, len(p))
    return float(np.mean(active == truth)), active, truth


def remixed(automix: Path, song: Path) -> int:
    import tempfile

    import soundfile as sf

    from .pro import sung_rms

    v, rate = sf.read(str(song / "vocals.flac"), dtype="float32", always_2d=True)
    a, _ = sf.read(str(song / "accompaniment.flac"), dtype="float32", always_2d=True)
    scores = []
    with tempfile.TemporaryDirectory() as tmp:
        for db in (-6.0, -3.0, 0.0):
            g = 10 ** (db / 20) * sung_rms(a.mean(axis=1)) / sung_rms(v.mean(axis=1))
            mix = Path(tmp) / "mix.wav"
            sf.write(str(mix), v * g + a, rate, subtype="FLOAT")
            acc, _, _ = accuracy(automix, mix, v, rate)
            scores.append(acc)
            print(f"{song.name} at {db:+.0f} dB: accuracy {acc:.3f}", flush=True)
    print(f"{song.name}: mean accuracy {np.mean(scores):.3f}")
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 3 and argv[1] == "--remix":
        return remixed(Path(argv[0]), Path(argv[2]))
    automix, songs = Path(argv[0]), [Path(s) for s in argv[1:]]
    rows = {}
    for song in songs:
        _, vocals, _, rate = stems(song)
        mixture = song / ("mixture.flac" if (song / "mixture.flac").is_file() else "mixture.wav")
        acc, active, truth = accuracy(automix, mixture, vocals, rate)
        name = song.name if song.name != "musdb-preview" else "Music Delta - 80s Rock (preview)"
        rows[name] = {"frames": len(truth), "sung_share": round(float(truth.mean()), 3), "accuracy": round(acc, 3), "vocal_recall": round(float(active[truth].mean()), 3) if truth.any() else None, "nonvocal_recall": round(float((~active[~truth]).mean()), 3) if (~truth).any() else None}
        print(f"{name:<40} accuracy {acc:.3f}  sung {truth.mean():.2f}  vocal recall {rows[name]['vocal_recall']}  non-vocal recall {rows[name]['nonvocal_recall']}", flush=True)
    print(f"{'mean over ' + str(len(rows)) + ' songs':<40} accuracy {np.mean([r['accuracy'] for r in rows.values()]):.3f}")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

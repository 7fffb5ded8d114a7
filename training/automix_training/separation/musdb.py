"""`python -m automix_training.separation.musdb AUTOMIX SONG_DIR...`: separates each professional
song's mixture with `automix separate` (the product's path: full rate, stereo) and scores the
vocal and the accompaniment against the stems with BSS Eval images (mir_eval; SiSEC's convention:
1-second windows, the median over the windows that have signal). Prints a table and JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf


def stems(song: Path):
    """(mixture, vocals, accompaniment) of a song folder: musdb-excerpts' three files, or the
    MUSDB preview's four stems."""
    read = lambda p: sf.read(str(p), dtype="float32", always_2d=True)  # noqa: E731
    ext = "flac" if (song / "mixture.flac").is_file() else "wav"
    mix, rate = read(song / f"mixture.{ext}")
    vocals, _ = read(song / f"vocals.{ext}")
    if (song / f"accompaniment.{ext}").is_file():
        acc, _ = read(song / f"accompaniment.{ext}")
    else:
        acc = sum(read(song / f"{s}.{ext}")[0] for s in ("drums", "bass", "other"))
    return mix, vocals, acc, rate


def median_sdr(reference: np.ndarray, estimate: np.ndarray, other: np.ndarray, other_est: np.ndarray, rate: int) -> tuple[float, float]:
    import mir_eval

    refs = np.stack([reference, other]).astype(np.float64)
    ests = np.stack([estimate, other_est]).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sdr = mir_eval.separation.bss_eval_images_framewise(refs, ests, window=rate, hop=rate, compute_permutation=False)[0]
    # windows where a reference is silent give nan or ±inf: SiSEC leaves them out
    med = [float(np.median(row[np.isfinite(row)])) if np.isfinite(row).any() else float("nan") for row in sdr]
    return med[0], med[1]


def plain_sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """The whole clip's signal-to-distortion ratio without BSS Eval's allowed filter: the
    reference's energy over the error's, every channel together, dB."""
    err = float(((reference - estimate).astype(np.float64) ** 2).sum())
    return 10 * float(np.log10(float((reference.astype(np.float64) ** 2).sum()) / max(err, 1e-20)))


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    automix, songs = Path(argv[0]), [Path(s) for s in argv[1:]]
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for song in songs:
            mix, vocals, acc, rate = stems(song)
            mixture = song / ("mixture.flac" if (song / "mixture.flac").is_file() else "mixture.wav")
            v_out, b_out = Path(tmp) / "v.wav", Path(tmp) / "b.wav"
            subprocess.run([str(automix), "separate", str(mixture), "--vocal-out", str(v_out), "--backing-out", str(b_out)], check=True, capture_output=True)
            v_est, _ = sf.read(str(v_out), dtype="float32", always_2d=True)
            b_est, _ = sf.read(str(b_out), dtype="float32", always_2d=True)
            n = min(len(v_est), len(vocals), len(acc))
            vocal_sdr, acc_sdr = median_sdr(vocals[:n], v_est[:n], acc[:n], b_est[:n], rate)
            plain = plain_sdr(vocals[:n], v_est[:n])
            # the mixture as the estimate of both: what separation starts from
            mix_v, mix_a = median_sdr(vocals[:n], mix[:n], acc[:n], mix[:n], rate)
            name = song.name if song.name != "musdb-preview" else "Music Delta - 80s Rock (preview)"
            rows[name] = {"seconds": round(n / rate, 1), "vocal_sdr_db": round(vocal_sdr, 2), "vocal_plain_sdr_db": round(plain, 2), "accompaniment_sdr_db": round(acc_sdr, 2), "mixture_as_vocal_sdr_db": round(mix_v, 2), "mixture_as_accompaniment_sdr_db": round(mix_a, 2)}
            print(f"{name:<40} vocal {vocal_sdr:6.2f} dB (whole clip, plain: {plain:6.2f}; mixture {mix_v:6.2f})   accompaniment {acc_sdr:6.2f} dB (mixture {mix_a:6.2f})", flush=True)
    mean_v = float(np.mean([r["vocal_sdr_db"] for r in rows.values()]))
    mean_plain = float(np.mean([r["vocal_plain_sdr_db"] for r in rows.values()]))
    print(f"{'mean over ' + str(len(rows)) + ' songs':<40} vocal, whole clip, plain: {mean_plain:6.2f} dB")
    mean_a = float(np.mean([r["accompaniment_sdr_db"] for r in rows.values()]))
    print(f"{'mean over ' + str(len(rows)) + ' songs':<40} vocal {mean_v:6.2f} dB   accompaniment {mean_a:6.2f} dB (goal: vocal ≥ 4 dB)")
    print(json.dumps({"songs": rows, "mean_vocal_sdr_db": round(mean_v, 2), "mean_vocal_plain_sdr_db": round(mean_plain, 2), "mean_accompaniment_sdr_db": round(mean_a, 2)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
